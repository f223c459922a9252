package signature

import (
	"regexp"
	"testing"
)

func TestTemplate(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want string
	}{
		{"number and order id", "payment provider timeout after 3000 ms for order ord_2611221053",
			"payment provider timeout after <*> ms for order <*>"},
		{"duration glued to unit", "payment provider timeout after 3000ms", "payment provider timeout after <*>"},
		{"uuid and trace id", "upstream returned HTTP 503 for request 3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e trace=4bf92f3577b34da6a3ce929d0e0e4736",
			"upstream returned HTTP <*> for request <*> trace=<*>"},
		{"trace id without digits", "trace abcdefabcdefabcdefabcdefabcdefab done", "trace <*> done"},
		{"demo world ids in brackets", "printer prn-9f00aa offline for tenant rst-0042 (device tab-1a2b3c, app v4.12.3)",
			"printer <*> offline for tenant <*> (device <*>, app <*>)"},
		{"device id without digits", "printer prn-faceed offline", "printer <*> offline"},
		{"user id", "user usr-104233 signed in", "user <*> signed in"},
		{"error code kept", "ORD-5002 order submit failed: upstream 503", "ORD-5002 order submit failed: upstream <*>"},
		{"error codes differ", "failed with MENU-3003", "failed with MENU-3003"},
		{"ip and port", "connect to 192.168.1.20:51234 refused", "connect to <*> refused"},
		{"ip list", "forwarded for 10.11.10.1,10.11.21.130 GET", "forwarded for <*> GET"},
		{"ipv6", "listening on [fe80::1ff:fe23:4567:890a]:8080", "listening on [<*>"},
		{"mac address letters only", "chip FF:AB:CD:EE:FA:BC seen", "chip <*> seen"},
		{"hex pointer", "fault at 0x0000ffff in worker", "fault at <*> in worker"},
		{"path with digits", "opened /var/log/pos/2025-11-22.log", "opened <*>"},
		{"path without digits stays", "GET /api/menu/sync returned 200", "GET /api/menu/sync returned <*>"},
		{"path in call", "chdir(/home/u1/run) failed", "chdir(<*>) failed"},
		{"url", "callback https://pos.example.com/hook failed", "callback <*> failed"},
		{"email", "sent receipt to alice@example.com", "sent receipt to <*>"},
		{"key value pairs", "retry attempt=3 backoff=250ms reason=timeout", "retry attempt=<*> backoff=<*> reason=timeout"},
		{"variable list collapses", "shards=[1,2,3] moved", "shards=[<*>] moved"},
		{"spaced pair collapses", "dropping the connection: (3, 1)", "dropping the connection: (<*>)"},
		{"timestamp", "job started at 2025-11-22T10:53:00.123Z ok", "job started at <*> ok"},
		{"dotted leader", "icache prefetch depth....................0", "icache prefetch depth....................<*>"},
		{"size with unit", "wrote 16.0 KB to disk", "wrote <*> KB to disk"},
		{"japanese without spaces", "注文ord_2611221053の送信に失敗しました(HTTP 503)", "注文<*>の送信に失敗しました(HTTP <*>)"},
		{"full-width digits", "エラー５０３が発生", "エラー<*>が発生"},
		{"spacing kept", "a  b\tc", "a b c"},
		{"empty", "", ""},
		{"blank", "  \t ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Template(tt.msg); got != tt.want {
				t.Errorf("Template(%q) = %q, want %q", tt.msg, got, tt.want)
			}
		})
	}
}

func TestTemplateSameEventSameTemplate(t *testing.T) {
	pairs := [][2]string{
		{"order ord_2611221053 for rst-0042 failed after 1.2s", "order ord_1000000001 for rst-9999 failed after 30s"},
		{"Received block blk_-1608999687919862906 of size 91178 from /10.250.10.6", "Received block blk_7503483334202473044 of size 233217 from /10.251.215.16"},
		{"Block rdd_2_3 stored as bytes in memory (estimated size 16.0 B, free 3.0 GB)", "Block rdd_2_3 stored as bytes in memory (estimated size 16.0 B, free 3.0 GB)"},
	}
	for _, p := range pairs {
		if a, b := Template(p[0]), Template(p[1]); a != b {
			t.Errorf("templates differ:\n %q -> %q\n %q -> %q", p[0], a, p[1], b)
		}
	}
}

func TestTemplateID(t *testing.T) {
	hex16 := regexp.MustCompile(`^[0-9a-f]{16}$`)
	a := TemplateID("payment provider timeout after <*> ms for order <*>")
	if !hex16.MatchString(a) {
		t.Fatalf("TemplateID = %q, want 16 lowercase hex characters", a)
	}
	if b := TemplateID("payment provider timeout after <*> ms for order <*>"); b != a {
		t.Errorf("same template gave ids %q and %q", a, b)
	}
	if c := TemplateID("payment provider timeout after <*> s for order <*>"); c == a {
		t.Errorf("different templates share id %q", a)
	}
	// The id is a published hash of the text, so other programs can derive it.
	if got, want := TemplateID(""), "e3b0c44298fc1c14"; got != want {
		t.Errorf("TemplateID(\"\") = %q, want %q (SHA-256 prefix)", got, want)
	}
}

func TestTokenizeUnits(t *testing.T) {
	toks := tokenize("free 3.0 GB of 16 GB, B tier", nil)
	var kinds []tokenKind
	for _, tk := range toks {
		kinds = append(kinds, tk.kind)
	}
	want := []tokenKind{kindWord, kindVar, kindUnit, kindWord, kindVar, kindUnit, kindPunct, kindWord, kindWord}
	if len(kinds) != len(want) {
		t.Fatalf("got %d tokens %+v, want %d", len(toks), toks, len(want))
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Errorf("token %d %q kind = %d, want %d", i, toks[i].text, kinds[i], want[i])
		}
	}
}
