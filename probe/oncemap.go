package probe

import "sync"

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
