package esdev

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParseJSONMatchesEncodingJSON(t *testing.T) {
	inputs := []string{
		`{}`, `[]`, `null`, `true`, `false`, `0`, `-1.5e+10`, `"plain"`,
		`{"a":1,"b":[1,2,{"c":null}],"d":{"e":"f"}}`,
		`{"esc":"line\nbreak \"quoted\" \\ \/ \t \u00e9 \ud83d\ude00 \u30d7"}`,
		` { "spaced" : [ 1 , 2 ] } `,
		`{"ja":"キッチンプリンターが復旧しました","n":12345678901234567890}`,
	}
	for _, in := range inputs {
		got, err := parseJSON([]byte(in))
		if err != nil {
			t.Errorf("parseJSON(%s): %v", in, err)
			continue
		}
		dec := json.NewDecoder(bytes.NewReader([]byte(in)))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("parseJSON(%s) = %#v, want %#v", in, got, want)
		}
	}
}

func TestParseJSONErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"a":}`, "[1:6] unexpected character"},
		{`{"a":1,}`, "[1:8] expected a field name"},
		{`{"a":1} x`, "after the top-level value"},
		{`{"a":1,"a":2}`, "[1:8] Duplicate field 'a'"},
		{"{\n\"a\": tru}", "[2:6] invalid literal"},
		{`[1 2]`, "expected ',' or ']'"},
		{`"open`, "unterminated string"},
		{`01`, "leading zero"},
		{`{"a":"\x"}`, "invalid escape"},
		{``, "unexpected end of input"},
		{strings.Repeat("[", 1002), "nesting deeper"},
	}
	for _, c := range cases {
		_, err := parseJSON([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("parseJSON(%.20q) error = %v, want %q", c.in, err, c.want)
		}
	}
}
