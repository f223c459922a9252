//go:build race

package esdev

// raceEnabled skips the volume test under the race detector, which makes
// loading 100k documents take far longer than a unit test should.
const raceEnabled = true
