// Package systemtest holds the tests that cross services: the five
// per-service binaries run as processes against one NATS server, and checks
// on what those binaries link. The one-process pipeline's own system tests
// (restart, outage, poison messages) are in ../pipeline.
package systemtest
