package demoworld

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
)

// Stream salts: each part of the world draws from its own PCG stream, so
// changing the noise volume does not move the incidents or the tenants.
const (
	streamTenants uint64 = iota + 1
	streamPlan
	streamNoise
	streamIncidents
	streamTickets
	streamLegacy
)

// newStream returns the PCG-backed source for one part of the world.
func newStream(seed, salt uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, salt*0x9e3779b97f4a7c15))
}

// mix64 is SplitMix64's finaliser: a bijection on uint64, so distinct
// counters give distinct ids for one seed.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// eventID derives a log's event.id from the seed and its creation counter.
func eventID(seedKey, counter uint64) string {
	return fmt.Sprintf("%016x", mix64(seedKey+counter))
}

// idSource draws the demo world's identifiers and remembers those already
// issued, so no two orders, users or devices share an id.
type idSource struct {
	rng  *rand.Rand
	used map[string]struct{}
}

// newIDSource draws with rng and checks uniqueness against used, which the
// sources of all streams share.
func newIDSource(rng *rand.Rand, used map[string]struct{}) *idSource {
	return &idSource{rng: rng, used: used}
}

// unique draws from gen until it yields an id not issued before.
func (s *idSource) unique(gen func() string) string {
	for {
		id := gen()
		if _, dup := s.used[id]; !dup {
			s.used[id] = struct{}{}
			return id
		}
	}
}

func (s *idSource) tenantID() string {
	return s.unique(func() string { return fmt.Sprintf("rst-%04d", s.rng.IntN(10000)) })
}

func (s *idSource) userID() string {
	return s.unique(func() string { return fmt.Sprintf("usr-%06d", 100000+s.rng.IntN(900000)) })
}

func (s *idSource) orderID() string {
	return s.unique(func() string { return fmt.Sprintf("ord_%010d", 1000000000+s.rng.Int64N(9000000000)) })
}

func (s *idSource) deviceID(kind string) string {
	return s.unique(func() string { return fmt.Sprintf("%s-%06x", kind, s.rng.IntN(1<<24)) })
}

// requestID is a lowercase UUID v4.
func (s *idSource) requestID() string {
	var b [16]byte
	putUint64(b[:8], s.rng.Uint64())
	putUint64(b[8:], s.rng.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// traceID is a W3C trace id: 32 lowercase hex digits, never all zero.
func (s *idSource) traceID() string {
	var b [16]byte
	putUint64(b[:8], s.rng.Uint64()|1)
	putUint64(b[8:], s.rng.Uint64())
	return hex.EncodeToString(b[:])
}

// shortHex is a short job or session id.
func (s *idSource) shortHex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[s.rng.IntN(16)]
	}
	return string(b)
}

func putUint64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (56 - 8*i))
	}
}
