//go:build !race

package esdev

const raceEnabled = false
