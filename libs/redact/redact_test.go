package redact

import (
	"encoding/base64"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// Secrets in these tests are assembled at run time from a fixed seed, so
// the source holds no token that a secret scanner or GitHub's push
// protection would flag, and every run sees the same values.

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// fakeToken returns prefix followed by n base62 characters drawn from a
// generator seeded by prefix and n.
func fakeToken(prefix string, n int) string {
	return prefix + fakeFrom(prefix, n, base62)
}

// fakeFrom returns n characters of alphabet drawn from a generator seeded
// by seed and n.
func fakeFrom(seed string, n int, alphabet string) string {
	var s uint64
	for _, c := range seed {
		s = s*131 + uint64(c)
	}
	rng := rand.New(rand.NewPCG(s, uint64(n)))
	var b strings.Builder
	for range n {
		b.WriteByte(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}

// The concurrency test starts goroutines, and gitleaks must not leave any.
func TestMain(m *testing.M) { testkit.Main(m) }

var testConfig = Config{
	Key:   []byte("test-placeholder-key-0123456789"),
	Names: []string{"Sakura Dining", "さくら食堂", "山田商店", "Blue Fin"},
}

// testRedactor is built once: New compiles gitleaks' rules, which takes a
// tenth of a second, several under the race detector.
var testRedactor = sync.OnceValues(func() (*Redactor, error) { return New(testConfig) })

func redactor(t testing.TB) *Redactor {
	t.Helper()
	r, err := testRedactor()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// assertNoLeaks fails if gitleaks, run over the whole of out as the
// bugfiler's text would be scanned, finds anything.
func assertNoLeaks(t testing.TB, r *Redactor, out string) {
	t.Helper()
	for _, f := range r.secrets.DetectString(out) {
		t.Errorf("gitleaks finds %s %q in redacted output %q", f.RuleID, f.Secret, out)
	}
}

var placeholderShape = regexp.MustCompile(`\[(?:secret:[a-z0-9-]+|(?:card|email|phone|ip|customer):[0-9a-f]{8})\]`)

func jwtFixture() string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		enc.EncodeToString([]byte(`{"sub":"1234567890","name":"Taro Yamada","iat":1733538124}`)) + "." +
		fakeFrom("sig", 43, base62+"-_")
}

func privateKeyFixture(withEnd bool) string {
	kind := "RSA " + "PRIVATE" + " KEY"
	var b strings.Builder
	b.WriteString("-----BEGIN " + kind + "-----\n")
	for i := range 4 {
		b.WriteString(fakeFrom(string(rune('a'+i)), 64, base62+"+/"))
		b.WriteByte('\n')
	}
	if withEnd {
		b.WriteString("-----END " + kind + "-----")
	}
	return b.String()
}

const upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func TestRedactSecrets(t *testing.T) {
	r := redactor(t)
	awsID := "AKIA" + fakeFrom("AKIA", 16, upperDigits)
	awsSecret := fakeFrom("aws", 40, base62+"+/")
	awsBare := fakeFrom("bare", 40, base62+"/")
	ghp := fakeToken("gh"+"p_", 36)
	ghpLong := fakeToken("gh"+"p_", 40)
	ghs := fakeToken("gh"+"s_", 36)
	gho := fakeToken("gh"+"o_", 36)
	ghu := fakeToken("gh"+"u_", 36)
	ghr := fakeToken("gh"+"r_", 36)
	pat := fakeToken("github"+"_pat_", 22) + "_" + fakeToken("", 59)
	jwt := jwtFixture()
	slack := "xo" + "xb-" + fakeFrom("s1", 11, "0123456789") + "-" + fakeFrom("s2", 12, "0123456789") + "-" + fakeToken("s3", 24)
	hook := "https://hooks.slack.com/services/T" + fakeFrom("T", 8, upperDigits) + "/B" + fakeFrom("B", 10, upperDigits) + "/" + fakeToken("h", 24)
	bearer := fakeToken("b", 40)
	basic := base64.StdEncoding.EncodeToString([]byte("admin:" + fakeToken("p", 12)))
	keyFull := privateKeyFixture(true)
	keyCut := privateKeyFixture(false)

	tests := []struct {
		name string
		in   string
		gone []string // must not survive
		keep []string // context that must survive
	}{
		{"aws access key id", "aws_access_key_id = " + awsID, []string{awsID}, []string{"aws_access_key_id = "}},
		{"aws secret named", "AWS_SECRET_ACCESS_KEY=" + awsSecret + " region=ap-northeast-1", []string{awsSecret}, []string{"region=ap-northeast-1"}},
		{"aws secret in prose", "the aws secret is: " + awsSecret, []string{awsSecret}, []string{"the aws secret is: "}},
		{"aws secret bare", "creds " + awsID + " " + awsBare + " leaked", []string{awsID, awsBare}, []string{"creds ", " leaked"}},
		{"ghp_ 36", "token " + ghp + " in a note", []string{ghp}, []string{" in a note"}},
		{"ghp_ longer", "export GH_TOKEN=" + ghpLong, []string{ghpLong}, nil},
		{"ghs_", "installation token " + ghs, []string{ghs}, nil},
		{"gho_", "oauth " + gho, []string{gho}, nil},
		{"ghu_", "user-to-server " + ghu, []string{ghu}, nil},
		{"ghr_", "refresh " + ghr, []string{ghr}, nil},
		{"github_pat_", "fine-grained: " + pat, []string{pat, pat[:30]}, nil},
		{"jwt", "session=" + jwt + "; Path=/", []string{jwt, strings.Split(jwt, ".")[1]}, []string{"; Path=/"}},
		{"jwt in json", `{"id_token":"` + jwt + `"}`, []string{jwt}, nil},
		{"slack bot token", "SLACK_BOT_TOKEN: " + slack, []string{slack, slack[5:20]}, nil},
		{"slack webhook", "posting to " + hook, []string{hook[30:]}, nil},
		{"private key block", "key:\n" + keyFull + "\nafter the key", []string{"PRIVATE" + " KEY-----\n" + keyFull[32:60], keyFull[40:100]}, []string{"after the key"}},
		{"private key cut short", keyCut, []string{keyCut[40:100]}, nil},
		{"authorization bearer header", "Authorization: Bearer " + bearer, []string{bearer}, []string{"Authorization: "}},
		{"bearer in text", "I called the API with Bearer " + bearer + " and got 401", []string{bearer}, []string{"and got 401"}},
		{"authorization basic", "authorization: Basic " + basic, []string{basic}, nil},
		{"password=", "login failed for user=taro password=hunter2 attempt=3", []string{"hunter2"}, []string{"password=", "attempt=3"}},
		{"password in json", `{"user":"taro","password":"correct horse battery"}`, []string{"correct horse battery"}, []string{`"password":"`}},
		{"password in escaped json", `msg="{\"user\":\"taro\",\"password\":\"hunter2\"}"`, []string{"hunter2"}, []string{`\"password\":\"`, `\"}"`}},
		{"db_password yaml", "db_password: s3cr3t!", []string{"s3cr3t!"}, []string{"db_password: "}},
		{"api_key", "api_key=abc123xyz&page=2", []string{"abc123xyz"}, []string{"&page=2"}},
		{"apikey colon", "apikey: 9f8e7d6c", []string{"9f8e7d6c"}, nil},
		{"x-api-key header", "X-Api-Key: k-1234-abcd", []string{"k-1234-abcd"}, nil},
		{"secret=", "client_secret=shhh and secret='quoted one'", []string{"shhh", "quoted one"}, nil},
		{"token=", "GET /cb?token=tok123&state=ok", []string{"tok123"}, []string{"&state=ok"}},
		{"url credentials", "dsn postgres://app:pw123@db.internal:5432/pos", []string{"pw123", "app:pw123"}, []string{"postgres://", ":5432/pos"}},
		{"cookie", "Cookie: sid=abc123; theme=dark", []string{"sid=abc123"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, c := r.Redact(tt.in)
			for _, g := range tt.gone {
				if strings.Contains(out, g) {
					t.Errorf("Redact(%q) = %q, still holds %q", tt.in, out, g)
				}
			}
			for _, k := range tt.keep {
				if !strings.Contains(out, k) {
					t.Errorf("Redact(%q) = %q, lost %q", tt.in, out, k)
				}
			}
			if c.Secret == 0 || !strings.Contains(out, "[secret:") {
				t.Errorf("Redact(%q) = %q, %+v: want a secret placeholder", tt.in, out, c)
			}
			if c.Total() != len(placeholderShape.FindAllString(out, -1)) {
				t.Errorf("Redact(%q) = %q: counts %+v do not match the placeholders", tt.in, out, c)
			}
			assertNoLeaks(t, r, out)
			assertIdempotent(t, r, out)
		})
	}
}

func TestRedactPersonal(t *testing.T) {
	r := redactor(t)
	tests := []struct {
		name string
		in   string
		gone []string
		kind Kind
		n    int
		keep []string
	}{
		{"email", "contact taro.yamada+pos@example.co.jp today", []string{"taro.yamada", "example.co.jp"}, KindEmail, 1, []string{"contact ", " today"}},
		{"email in japanese", "連絡先はtaro@example.comです。", []string{"taro@example.com"}, KindEmail, 1, []string{"連絡先は", "です。"}},
		{"email in a log field", `user="Hanako.Sato@Example.COM" retry=2`, []string{"Hanako"}, KindEmail, 1, []string{"retry=2"}},
		{"jp mobile", "携帯 090-1234-5678 まで", []string{"090-1234-5678"}, KindPhone, 1, []string{"携帯 ", " まで"}},
		{"jp landline", "TEL:03-1234-5678", []string{"1234-5678"}, KindPhone, 1, []string{"TEL:"}},
		{"jp free dial", "フリーダイヤル0120-123-456へ", []string{"0120-123-456"}, KindPhone, 1, nil},
		{"jp regional", "店舗 0466-12-3456", []string{"0466-12-3456"}, KindPhone, 1, nil},
		{"jp parentheses", "(03)1234-5678 または 03(1234)5678", []string{"1234-5678", "(1234)"}, KindPhone, 2, nil},
		{"jp full width", "電話：０９０－１２３４－５６７８", []string{"１２３４"}, KindPhone, 1, []string{"電話："}},
		{"jp long vowel mark", "090ー1234ー5678に電話", []string{"1234"}, KindPhone, 1, nil},
		{"jp mobile bare", "09012345678", []string{"09012345678"}, KindPhone, 1, nil},
		{"intl jp mobile", "call +81 90-1234-5678 please", []string{"90-1234-5678"}, KindPhone, 1, []string{"call ", " please"}},
		{"intl jp landline", "+81-3-1234-5678", []string{"1234-5678"}, KindPhone, 1, nil},
		{"intl compact", "+819012345678", []string{"9012345678"}, KindPhone, 1, nil},
		{"us parentheses", "Call me at (415) 555-0132.", []string{"555-0132"}, KindPhone, 1, []string{"Call me at ", "."}},
		{"us dashes", "415-555-0132", []string{"555-0132"}, KindPhone, 1, nil},
		{"us intl", "+1 415 555 0132", []string{"555 0132"}, KindPhone, 1, nil},
		{"us toll free", "1-800-555-0199", []string{"555-0199"}, KindPhone, 1, nil},
		{"uk intl", "+44 20 7946 0958", []string{"7946 0958"}, KindPhone, 1, nil},
		{"uk domestic", "020 7946 0958", []string{"7946 0958"}, KindPhone, 1, nil},
		{"fr domestic", "01 23 45 67 89", []string{"45 67 89"}, KindPhone, 1, nil},
		{"fr dots", "06.12.34.56.78", []string{"34.56.78"}, KindPhone, 1, nil},
		{"de domestic", "Tel. 030 12345678", []string{"12345678"}, KindPhone, 1, []string{"Tel. "}},
		{"de slash", "030/1234567", []string{"1234567"}, KindPhone, 1, nil},
		{"phone after an id", "id-12 090-1234-5678", []string{"1234-5678"}, KindPhone, 1, []string{"id-12 "}},
		{"phone then a date", "090-1234-5678 2026-12-07", []string{"1234-5678"}, KindPhone, 1, []string{" 2026-12-07"}},
		{"visa spaces", "card 4111 1111 1111 1111 exp 12/27", []string{"4111 1111"}, KindCard, 1, []string{" exp 12/27"}},
		{"mastercard dashes", "5500-0000-0000-0004", []string{"5500-0000"}, KindCard, 1, nil},
		{"amex grouping", "3782 822463 10005", []string{"822463"}, KindCard, 1, nil},
		{"jcb bare", "カード番号は3530111333300000です", []string{"3530111333300000"}, KindCard, 1, []string{"カード番号は", "です"}},
		{"visa 13 digits", "4222222222222", []string{"4222222222222"}, KindCard, 1, nil},
		{"discover", "6011 0009 9013 9424", []string{"6011 0009"}, KindCard, 1, nil},
		{"card after a number", "order 1234 4111 1111 1111 1111", []string{"4111 1111"}, KindCard, 1, []string{"order 1234 "}},
		{"ipv4", "client_ip=203.0.113.42 ok", []string{"203.0.113.42"}, KindIP, 1, []string{"client_ip=", " ok"}},
		{"ipv4 with port", "dial tcp 10.0.0.5:8080: refused", []string{"10.0.0.5"}, KindIP, 1, []string{":8080: refused"}},
		{"ipv4 after a colon", "remote_addr:203.0.113.42 peer:10.0.0.2:443", []string{"203.0.113.42", "10.0.0.2"}, KindIP, 2, []string{"remote_addr:", "peer:", ":443"}},
		{"ipv4 end of sentence", "from 192.168.1.20.", []string{"192.168.1.20"}, KindIP, 1, []string{"from ", "."}},
		{"ipv6", "peer 2001:db8::42 reset", []string{"2001:db8::42"}, KindIP, 1, nil},
		{"ipv6 bracketed", "[2001:db8:85a3::8a2e:370:7334]:9100", []string{"8a2e"}, KindIP, 1, []string{"]:9100"}},
		{"ipv6 link local", "fe80::1ff:fe23:4567:890a", []string{"fe23"}, KindIP, 1, nil},
		{"ipv6 mapped", "::ffff:192.0.2.1", []string{"192.0.2.1"}, KindIP, 1, nil},
		{"ipv6 then colon", "on 2001:db8::1: connection refused", []string{"2001:db8::1"}, KindIP, 1, []string{": connection refused"}},
		{"customer", "Sakura Dining cannot print", []string{"Sakura"}, KindCustomer, 1, []string{" cannot print"}},
		{"customer any case and spacing", "SAKURA  dining and blue fin", []string{"SAKURA", "blue fin"}, KindCustomer, 2, nil},
		{"customer japanese substring", "さくら食堂様の件、山田商店でも発生", []string{"さくら食堂", "山田商店"}, KindCustomer, 2, []string{"様の件、", "でも発生"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, c := r.Redact(tt.in)
			for _, g := range tt.gone {
				if strings.Contains(out, g) {
					t.Errorf("Redact(%q) = %q, still holds %q", tt.in, out, g)
				}
			}
			for _, k := range tt.keep {
				if !strings.Contains(out, k) {
					t.Errorf("Redact(%q) = %q, lost %q", tt.in, out, k)
				}
			}
			if got := c.ByKind()[tt.kind]; got != tt.n || c.Total() != tt.n {
				t.Errorf("Redact(%q) = %q, %+v: want %d %s", tt.in, out, c, tt.n, tt.kind)
			}
			if n := strings.Count(out, "["+string(tt.kind)+":"); n != tt.n {
				t.Errorf("Redact(%q) = %q: %d %s placeholders, want %d", tt.in, out, n, tt.kind, tt.n)
			}
			assertNoLeaks(t, r, out)
			assertIdempotent(t, r, out)
		})
	}
}

// TestRedactKeeps: log lines and tickets are full of numbers that are not
// personal data; each must come out byte for byte.
func TestRedactKeeps(t *testing.T) {
	r := redactor(t)
	tests := []string{
		"2026-12-07T19:05:12.345+09:00",
		"2026-12-07T02:22:04Z",
		"2026-12-07 19:05:12,123",
		"2026/12/07 19:05",
		"12/07/2026 07:05 PM",
		"07.12.2026",
		"Mon, 07 Dec 2026 10:05:12 GMT",
		"19:05:12.166",
		"+09:00 and +0900",
		"7c9e6679-7425-40de-944b-e07fc1f90ae7",
		"550E8400-E29B-41D4-A716-446655440000",
		"order ord_2611211905 failed",
		"tenant rst-0042",
		"error PAY-1042 and PRN-2001 on tab-1a2b3c",
		"HTTP 503",
		"HTTP/1.1 503 Service Unavailable",
		"status=503 latency_ms=1234 retry=2",
		"version 4.2.1",
		"app v4.12.3 on go1.26.0, build 10.0.19045.1234",
		"4111111111111112",                   // 16 digits failing Luhn
		"order 2611211905123456",             // 16-digit id, not Luhn-valid
		"ord_4111111111111111",               // Luhn-valid, but glued to an id prefix
		"epoch 1733538124 and 1733538124123", // seconds and milliseconds
		"bytes=1048576 sizes 512 256 1024",
		"trace 4bf92f3577b34da6a3ce929d0e0e4736",
		"commit 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
		"mac 00:1a:2b:3c:4d:5e",
		"listening on 127.0.0.1:8080 and [::1]:8080 and 0.0.0.0:9090",
		"max_tokens=5 token_count=12 tokens: 5",
		"price ¥1,200 x 3 = ¥3,600",
		"0.125s 0.5 0.75",
		"ticket 0000012345",
		"昨日の夜7時頃から決済ができません。",
		"いつもお世話になっております。至急ご確認をお願いします。",
		"注文番号は ord_2611221053 です。エラーコード PAY-1042、HTTP 503 が表示されます。",
		"桜島 Sakurajima and Blue Finance", // names are matched as whole words
	}
	for _, in := range tests {
		out, c := r.Redact(in)
		if out != in || c.Total() != 0 {
			t.Errorf("Redact(%q) = %q, %+v; want it unchanged", in, out, c)
		}
	}
	for _, in := range []string{"4111111111111112", "2611211905123456"} {
		if luhn(in) {
			t.Fatalf("fixture %s passes Luhn", in)
		}
	}
}

func assertIdempotent(t testing.TB, r *Redactor, once string) {
	t.Helper()
	twice, c := r.Redact(once)
	if twice != once || c.Total() != 0 {
		t.Errorf("Redact is not idempotent:\nonce  %q\ntwice %q (%+v)", once, twice, c)
	}
}

func TestRedactIdempotentOnMixedText(t *testing.T) {
	r := redactor(t)
	once, c := r.Redact(benchText())
	if c.Total() == 0 {
		t.Fatal("nothing redacted in the benchmark text")
	}
	assertIdempotent(t, r, once)
	assertNoLeaks(t, r, once)
	// Look-alikes of placeholders typed by a person are not trusted.
	awsID := "AKIA" + fakeFrom("AKIA", 16, upperDigits)
	out, _ := r.Redact("[secret:" + awsID + "] [email:deadbeef]")
	if strings.Contains(out, awsID) || !strings.Contains(out, " [email:deadbeef]") {
		t.Errorf("placeholder look-alikes: got %q", out)
	}
}

func TestPlaceholdersStable(t *testing.T) {
	r := redactor(t)
	doc := "taro@example.com 090-1234-5678 4111 1111 1111 1111 203.0.113.42 2001:db8::1 Sakura Dining"

	// Another Redactor with the same key, as after a restart.
	again, err := New(Config{Key: testConfig.Key, Names: testConfig.Names})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := r.Redact(doc)
	b, _ := again.Redact(doc)
	if a != b {
		t.Errorf("same key, different placeholders:\n%q\n%q", a, b)
	}
	// The same value in another document, in another spelling.
	variants, _ := r.Redact("TARO@EXAMPLE.COM ０９０－１２３４－５６７８ 4111-1111-1111-1111 203.0.113.42 2001:0db8:0:0:0:0:0:1 sakura dining")
	if placeholderShape.FindAllString(a, -1) == nil || strings.Join(placeholderShape.FindAllString(a, -1), " ") != strings.Join(placeholderShape.FindAllString(variants, -1), " ") {
		t.Errorf("one value, different placeholders:\n%q\n%q", a, variants)
	}

	// Another key: every placeholder differs.
	other, err := New(Config{Key: []byte("another-deployment-key-987654321"), Names: testConfig.Names})
	if err != nil {
		t.Fatal(err)
	}
	o, _ := other.Redact(doc)
	pa, po := placeholderShape.FindAllString(a, -1), placeholderShape.FindAllString(o, -1)
	if len(pa) != 6 || len(po) != 6 {
		t.Fatalf("want 6 placeholders each, got %q and %q", a, o)
	}
	for i := range pa {
		if pa[i] == po[i] {
			t.Errorf("placeholder %s is the same under two keys", pa[i])
		}
	}

	// No key: a random one per Redactor.
	e1, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	e2, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	x1, _ := e1.Redact("taro@example.com")
	x2, _ := e2.Redact("taro@example.com")
	if !e1.EphemeralKey() || r.EphemeralKey() || x1 == x2 {
		t.Errorf("ephemeral keys: %v %v, %q %q", e1.EphemeralKey(), r.EphemeralKey(), x1, x2)
	}
}

func TestNewRejects(t *testing.T) {
	for _, cfg := range []Config{
		{Key: []byte("short")},
		{Key: testConfig.Key, Names: []string{"Sakura", "  "}},
		{Key: testConfig.Key, Names: []string{"bad\xff"}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", cfg)
		}
	}
}

// TestRedactConcurrent shares one Redactor, and so one gitleaks detector,
// between goroutines; under -race it fails if DetectString writes shared
// state (see Redactor.secrets).
func TestRedactConcurrent(t *testing.T) {
	r := redactor(t)
	docs := []string{
		benchText(),
		"password=hunter2 token " + fakeToken("gh"+"p_", 36) + " taro@example.com",
		"Authorization: Bearer " + jwtFixture() + " from 203.0.113.42",
		privateKeyFixture(true),
	}
	want := make([]string, len(docs))
	for i, d := range docs {
		want[i], _ = r.Redact(d)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 8 {
				d := (g + i) % len(docs)
				if got, _ := r.Redact(docs[d]); got != want[d] {
					t.Errorf("concurrent Redact of doc %d differs:\n%q\n%q", d, got, want[d])
				}
			}
		})
	}
	wg.Wait()
}

func TestCounts(t *testing.T) {
	a := Counts{Secret: 1, Email: 2}
	b := Counts{Email: 1, Phone: 3, Customer: 1}
	sum := a.Add(b)
	if sum != (Counts{Secret: 1, Email: 3, Phone: 3, Customer: 1}) || sum.Total() != 8 {
		t.Errorf("Add = %+v", sum)
	}
	if m := sum.ByKind(); len(m) != 6 || m[KindEmail] != 3 || m[KindIP] != 0 {
		t.Errorf("ByKind = %v", m)
	}
}

func TestSubtract(t *testing.T) {
	spans := []span{{start: 0, end: 10}, {start: 12, end: 20}}
	keep := []span{{start: 2, end: 4}, {start: 8, end: 14}, {start: 18, end: 20}}
	got := subtract(spans, keep)
	want := []span{{start: 0, end: 2}, {start: 4, end: 8}, {start: 14, end: 18}}
	if len(got) != len(want) {
		t.Fatalf("subtract = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].start != want[i].start || got[i].end != want[i].end {
			t.Errorf("subtract = %+v, want %+v", got, want)
		}
	}
}

// TestRuleIDsFitPlaceholders: a [secret:<rule id>] placeholder is only
// recognised (and so left alone by a second Redact) if its id has the shape
// placeholderRE expects; a gitleaks upgrade could bring one that does not.
func TestRuleIDsFitPlaceholders(t *testing.T) {
	r := redactor(t)
	for id := range r.ruleIDs {
		p := "[secret:" + id + "]"
		if got := r.placeholders(p); len(got) != 1 || got[0].end != len(p) {
			t.Errorf("rule id %q does not make a recognised placeholder", id)
		}
	}
}
