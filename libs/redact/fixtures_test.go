package redact

import (
	"math/rand/v2"
	"strings"
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
