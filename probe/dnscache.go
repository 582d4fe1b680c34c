package probe

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// dnsKey names one resolution in a run.
type dnsKey struct{ host, server string }

// dnsCache resolves each (host, resolver) once per run, every target asking
// the same sharing the resolution.
type dnsCache struct{ onceMap[dnsKey, DNSResult] }

// resolve returns the resolution of q, running it within budget if no other
// target has; a target that waits for another's resolution waits at most its
// own budget, so one target's longer timeout never stretches another's.
func (c *dnsCache) resolve(ctx context.Context, q DNSQuery, budget time.Duration) *DNSResult {
	k := dnsKey{strings.ToLower(strings.TrimSuffix(q.Host, ".")), q.Server}
	start := time.Now()
	wait := time.NewTimer(budget)
	defer wait.Stop()
	res, ok := c.get(ctx, k, wait.C, func() DNSResult {
		dctx, cancel := context.WithTimeout(ctx, budget)
		defer cancel()
		return ResolveDNS(dctx, q)
	})
	if ok {
		return res
	}
	step := Step{Start: start, Duration: time.Since(start), Outcome: DNSTimeout,
		Error: fmt.Sprintf("resolver %s gave no answer for %s within the DNS budget of %s", q.Server, q.Host, budget)}
	if stopped(ctx, nil) {
		step.Outcome, step.Error = Cancelled, fmt.Sprintf("resolver %s: the resolution of %s was cancelled before an answer", q.Server, q.Host)
	}
	return &DNSResult{Host: q.Host, Server: q.Server, Step: step}
}
