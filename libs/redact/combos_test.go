package redact

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestRedactCombinations glues secrets, personal values, placeholders and
// the characters that decide boundaries in every order: a replacement must
// never leave something a scanner would flag (a key ID that only ends at a
// word boundary once the token glued to it is gone), and a second Redact
// must change nothing. A longer run of the same loop (150,000 texts) found
// the cases Redact's repeated passes handle.
func TestRedactCombinations(t *testing.T) {
	r := redactor(t)
	vocab := []string{
		"taro@example.com", "090-1234-5678", "0120-123-456", "+81 ", "4111 1111 1111 1111", "5500-0000-0000-0004",
		"203.0.113.42", "10.0.0.5", ":8080", "2001:db8::1", "::ffff:", "Sakura Dining", "Blue Fin", "さくら食堂", "山田商店",
		"password=", "token:", "api_key=", "aws_secret_access_key=", "Authorization: ", "Bearer ", "://", "u:p@",
		"gh" + "p_", fakeToken("gh"+"p_", 36), "github" + "_pat_", "AKIA" + fakeFrom("AKIA", 16, upperDigits),
		fakeFrom("aws", 40, base62+"/+"), "eyJ", jwtFixture(), "xo" + "xb-",
		"-----BEGIN RSA " + "PRIVATE KEY-----\n" + fakeFrom("k", 64, base62) + "\n",
		"[email:3f2a9c01]", "[secret:jwt]", "ord_", "2026-12-07", "12:00", "@org/team", "closes #2",
		" ", "-", "_", ".", ":", "@", "#", "=", "+", "(", ")", "x", "1", "０", "ー", "／", "\n", "\t",
	}
	n := 500
	if testing.Short() {
		n = 100
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range n {
		var b strings.Builder
		for range 1 + rng.IntN(6) {
			b.WriteString(vocab[rng.IntN(len(vocab))])
		}
		s := b.String()
		once, _ := r.Redact(s)
		assertIdempotent(t, r, once)
		assertNoLeaks(t, r, once)
		if t.Failed() {
			t.Fatalf("input %q", s)
		}
	}
}
