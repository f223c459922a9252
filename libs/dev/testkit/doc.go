// Package testkit is what every module's tests share, in the spirit of
// nats-server's exported test helpers: a real JetStream server per test
// (RunJetStream), services run until the test ends (RunService), one way to
// wait for a condition (Eventually), goroutine-leak checks (Main), and the
// shared contracts and datasets (SharedPath).
//
// Only tests import it: it needs the testing package, which no binary of
// the project links (libs/dev/harness/systemtest checks).
package testkit
