package bus

import (
	"context"
	"errors"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// silentKV answers reads with fails "no responders" first, then err.
type silentKV struct {
	jetstream.KeyValue
	fails int
	err   error
	reads int
}

func (k *silentKV) Get(context.Context, string) (jetstream.KeyValueEntry, error) {
	k.reads++
	if k.reads <= k.fails {
		return nil, nats.ErrNoResponders
	}
	return nil, k.err
}

func TestAnsweringWaitsOutNoResponders(t *testing.T) {
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	for _, tc := range []struct {
		name     string
		ctx      context.Context
		kv       *silentKV
		reads    int
		want     error // nil: ready
		wantAlso error
	}{
		{"answers at once", t.Context(), &silentKV{err: jetstream.ErrKeyNotFound}, 1, nil, nil},
		{"no responders three times, then answers", t.Context(), &silentKV{fails: 3, err: jetstream.ErrKeyNotFound}, 4, nil, nil},
		{"another failure is not waited out", t.Context(), &silentKV{err: jetstream.ErrBucketNotFound}, 1, jetstream.ErrBucketNotFound, nil},
		{"stopped while nobody answers", cancelled, &silentKV{fails: 1 << 30}, 1, nats.ErrNoResponders, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := answering(tc.ctx, tc.kv, "b")
			if tc.want == nil && err != nil {
				t.Fatalf("answering = %v, want ready", err)
			}
			if tc.want != nil && (!errors.Is(err, tc.want) || (tc.wantAlso != nil && !errors.Is(err, tc.wantAlso))) {
				t.Fatalf("answering = %v, want %v and %v", err, tc.want, tc.wantAlso)
			}
			if tc.kv.reads != tc.reads {
				t.Errorf("%d reads, want %d", tc.kv.reads, tc.reads)
			}
		})
	}
}
