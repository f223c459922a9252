package testkit

import (
	"testing"
	"time"
)

func TestSettled(t *testing.T) {
	stop := make(chan struct{})
	go func() { <-stop }()
	if err := settled(300 * time.Millisecond); err == nil {
		t.Fatal("a goroutine still running was not reported")
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		close(stop)
	}()
	if err := settled(5 * time.Second); err != nil {
		t.Fatalf("goroutines that end within the grace were reported: %v", err)
	}
}
