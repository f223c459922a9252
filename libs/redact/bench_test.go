package redact

import (
	"strings"
	"testing"
)

// benchText is about 4.6 KB of what the bugfiler redacts: a Japanese ticket,
// an English one, an engineer's note and log lines, with a few secrets and
// personal values among many harmless ids, times and numbers.
func benchText() string {
	ja := "いつもお世話になっております。さくら食堂の山田です。昨日の夜7時頃から、タブレットで決済がエラーになります。" +
		"エラーコード PAY-1042、HTTP 503 が表示されます。注文番号 ord_2611221053 です。" +
		"折り返しは 090-1234-5678 または yamada.taro@example.co.jp までお願いします。至急ご確認をお願いします。\n"
	en := "Hi team, since around 7pm yesterday our kitchen printer prn-9f00aa stopped printing orders. " +
		"The tablet shows error code PRN-2001 and sometimes 503 Service Unavailable. App version v4.12.3. " +
		"Call me at +1 (415) 555-0132. Card used: 4111 1111 1111 1111. @support-team please fix #12 asap.\n"
	note := "Engineer note: reproduced on staging with token=" + fakeToken("tok_", 24) + ", see trace 4bf92f3577b34da6a3ce929d0e0e4736.\n"
	logs := []string{
		`2026-12-07T19:05:12.345+09:00 ERROR payment-gateway request_id=7c9e6679-7425-40de-944b-e07fc1f90ae7 tenant=rst-0042 order=ord_2611221053 status=503 latency_ms=1234 msg="upstream timeout"`,
		`2026-12-07T19:05:12.412+09:00 WARN  order-api client_ip=203.0.113.42 user=yamada.taro@example.co.jp retry=2 backoff_ms=250 msg="retrying payment"`,
		`2026-12-07T19:05:13.001+09:00 INFO  auth Authorization: Bearer ` + fakeToken("", 40) + ` accepted for device tab-1a2b3c`,
		`2026-12-07T19:05:13.250+09:00 ERROR printer-bridge peer=[2001:db8::42]:9100 printer=prn-9f00aa err="connection reset by peer" bytes=1048576`,
		`2026-12-07T19:05:14.777+09:00 INFO  menu-sync version=4.2.1 items=128 duration=0.125s checksum=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b`,
	}
	var b strings.Builder
	for b.Len() < 4000 {
		b.WriteString(ja)
		b.WriteString(en)
		b.WriteString(note)
		for _, l := range logs {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func BenchmarkRedact(b *testing.B) {
	r, err := New(Config{Key: []byte("bench-key-0123456789"), Names: []string{"さくら食堂", "Sakura Dining"}})
	if err != nil {
		b.Fatal(err)
	}
	text := benchText()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		r.Redact(text)
	}
}

func BenchmarkMarkdown(b *testing.B) {
	text := benchText()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		Markdown(text)
	}
}
