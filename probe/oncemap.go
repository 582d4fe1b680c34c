package probe

import (
	"context"
	"sync"
	"time"
)

// onceMap holds one result per key for a run, computed by the first caller
// and shared with every later one: the run's DNS resolutions and trust-path
// fetches.
type onceMap[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]*onceEntry[V]
}

// onceEntry is one key's result: v is set before done is closed.
type onceEntry[V any] struct {
	done chan struct{}
	v    V
}

// get returns key's result: computed by this caller if it is the first,
// else the first caller's, waited for until it is done, ctx ends or wait
// fires (a nil wait never does); false when it was not had.
func (o *onceMap[K, V]) get(ctx context.Context, key K, wait <-chan time.Time, compute func() V) (*V, bool) {
	e, first := o.entry(key)
	if first {
		e.v = compute()
		close(e.done)
		return &e.v, true
	}
	select {
	case <-e.done:
		return &e.v, true
	case <-ctx.Done():
	case <-wait:
	}
	return nil, false
}

// entry is key's entry; first says the caller must compute it (set v, then
// close done).
func (o *onceMap[K, V]) entry(key K) (e *onceEntry[V], first bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e, ok := o.m[key]; ok {
		return e, false
	}
	if o.m == nil {
		o.m = map[K]*onceEntry[V]{}
	}
	e = &onceEntry[V]{done: make(chan struct{})}
	o.m[key] = e
	return e, true
}
