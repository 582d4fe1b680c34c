package daemon

import (
	"net"
	"slices"
	"strconv"
	"time"

	"egressprobe/probe"
	"egressprobe/report"
)

// TargetKey is what a transition and a summary are about: one endpoint
// (host and port), asked through one resolver, along one path. Its results
// (one per address) are judged together.
type TargetKey struct {
	Host     string     `json:"host"`
	Port     int        `json:"port"`
	Resolver string     `json:"resolver"`
	Path     probe.Path `json:"path"`
}

func keyOf(r *report.Result) TargetKey {
	return TargetKey{Host: r.Host, Port: r.Port, Resolver: r.Resolver, Path: r.Path}
}

// unseen is the "from" of a target's first transition: the daemon had not
// seen it before.
const unseen = "unseen"

// Transition is a target going from ok to failing, back to ok, or from one
// failure to another (tcp_timeout → proxy_denied).
type Transition struct {
	TargetKey
	Family string `json:"family"`
	From   string `json:"from"` // "ok", an outcome, or "unseen" at the target's first cycle
	To     string `json:"to"`
	// Step is the step that failed (probe.Outcome.Step: dns, tcp, proxy, tls,
	// http; local for local_resources); empty on recovery.
	Step  string `json:"step,omitempty"`
	Hop   *Hop   `json:"hop,omitempty"`
	Error string `json:"error,omitempty"`
	// LastOK is the last cycle the target was ok (null: not since the start).
	LastOK *time.Time `json:"last_ok"`
	// Consecutive is the number of failing cycles in a row, this one
	// included; on recovery, how many the outage lasted.
	Consecutive  int        `json:"consecutive_failures"`
	FailingSince *time.Time `json:"failing_since,omitempty"`
	// OutageSeconds, on recovery: from the first failing cycle to this one.
	OutageSeconds *float64 `json:"outage_seconds,omitempty"`
}

// Hop is where a failing probe died: its resolver, its proxy (redacted) and
// the address it was talking to when it failed.
type Hop struct {
	Resolver string `json:"resolver"`
	Proxy    string `json:"proxy,omitempty"`
	Address  string `json:"address,omitempty"`
}

// targetState is what the daemon remembers of one target between cycles.
type targetState struct {
	seen        bool
	failing     bool
	outcome     string // the failing outcome
	since       time.Time
	lastOK      time.Time
	consecutive int
}

// States turns each cycle's results into transitions.
type States struct {
	m map[TargetKey]*targetState
}

// NewStates starts with no target seen.
func NewStates() *States { return &States{m: map[TargetKey]*targetState{}} }

// Consecutive is k's failing streak, in cycles; 0 when ok or unknown.
func (s *States) Consecutive(k TargetKey) int {
	if st := s.m[k]; st != nil {
		return st.consecutive
	}
	return 0
}

// verdict is one target's judgement in one cycle: its first failing result,
// or nil when all its results are ok.
type verdict struct {
	first   *report.Result // a representative result (the family, the hop)
	failure *report.Result
}

// Observe judges a cycle that finished at now and returns its transitions,
// in the order the results came. Targets with a cancelled result (the
// daemon stopping) keep their state: a cancelled probe is no verdict on the
// network. Targets no longer in the results are forgotten (a reload dropped
// them).
func (s *States) Observe(results []report.Result, now time.Time) []Transition {
	order, verdicts := groupResults(results)
	var out []Transition
	for _, k := range order {
		v := verdicts[k]
		if v == nil {
			continue // cancelled
		}
		st := s.m[k]
		if st == nil {
			st = &targetState{}
			s.m[k] = st
		}
		if t, ok := st.update(v, now); ok {
			t.TargetKey, t.Family = k, v.first.Family
			out = append(out, t)
		}
	}
	for k := range s.m {
		if _, ok := verdicts[k]; !ok {
			delete(s.m, k)
		}
	}
	return out
}

// groupResults judges each target of a cycle; a target with a cancelled
// result maps to nil.
func groupResults(results []report.Result) ([]TargetKey, map[TargetKey]*verdict) {
	var order []TargetKey
	verdicts := map[TargetKey]*verdict{}
	cancelled := map[TargetKey]bool{}
	for i := range results {
		r := &results[i]
		k := keyOf(r)
		v, seen := verdicts[k]
		if !seen {
			order = append(order, k)
			v = &verdict{first: r}
			verdicts[k] = v
		}
		switch {
		case r.Status == probe.Cancelled:
			cancelled[k] = true
		case r.Status != probe.OK && v.failure == nil:
			v.failure = r
		}
	}
	for k := range cancelled {
		verdicts[k] = nil
	}
	return order, verdicts
}

func (st *targetState) update(v *verdict, now time.Time) (Transition, bool) {
	defer func() { st.seen = true }()
	if v.failure == nil {
		if !st.failing {
			st.lastOK = now
			return Transition{}, false
		}
		since := st.since
		outage := now.Sub(since).Seconds()
		t := Transition{From: st.outcome, To: string(probe.OK), Consecutive: st.consecutive, FailingSince: &since, OutageSeconds: &outage}
		t.LastOK = st.lastOKPtr()
		st.failing, st.outcome, st.consecutive, st.lastOK = false, "", 0, now
		return t, true
	}
	f := v.failure
	from := unseen
	switch {
	case st.failing:
		from = st.outcome
	case st.seen:
		from = string(probe.OK)
	}
	if !st.failing {
		st.since = now
	}
	st.failing = true
	st.consecutive++
	to := string(f.Status)
	if from == to {
		return Transition{}, false // still failing the same way
	}
	st.outcome = to
	since := st.since
	t := Transition{
		From: from, To: to, Step: f.Status.Step(), Hop: hopOf(f), Error: f.Error,
		Consecutive: st.consecutive, FailingSince: &since,
	}
	t.LastOK = st.lastOKPtr()
	return t, true
}

func (st *targetState) lastOKPtr() *time.Time {
	if st.lastOK.IsZero() {
		return nil
	}
	last := st.lastOK
	return &last
}

// hopOf is where a failed result died: the resolver for DNS, the proxy for
// its CONNECT, else the address the connection was to (the target's name
// through a proxy, which resolves it).
func hopOf(r *report.Result) *Hop {
	h := &Hop{Resolver: r.Resolver}
	if r.Proxy != nil {
		h.Proxy = *r.Proxy
	}
	switch r.Status.Step() {
	case probe.StepDNS:
		h.Address = r.Resolver
	case probe.StepProxy:
		if r.ProxyConnect != nil && r.ProxyConnect.ProxyAddr != "" {
			h.Address = r.ProxyConnect.ProxyAddr
		}
	default:
		switch {
		case r.Path == probe.PathProxy:
			h.Address = net.JoinHostPort(r.Host, strconv.Itoa(r.Port))
		case r.IP != nil:
			h.Address = net.JoinHostPort(*r.IP, strconv.Itoa(r.Port))
		}
	}
	return h
}

// Summary is one target's statistics over one summary period.
type Summary struct {
	TargetKey
	Family     string         `json:"family"`
	From       time.Time      `json:"from"`
	To         time.Time      `json:"to"`
	Attempts   int            `json:"attempts"` // results (one per address and cycle)
	Failures   int            `json:"failures"`
	FailurePct float64        `json:"failure_pct"`
	P50MS      float64        `json:"p50_ms"`
	P95MS      float64        `json:"p95_ms"`
	ByOutcome  map[string]int `json:"by_outcome"`
}

// Summaries accumulates results per target until the period ends.
type Summaries struct {
	from  time.Time
	order []TargetKey
	m     map[TargetKey]*Summary
	ms    map[TargetKey][]float64
}

// NewSummaries starts a period at from.
func NewSummaries(from time.Time) *Summaries {
	return &Summaries{from: from, m: map[TargetKey]*Summary{}, ms: map[TargetKey][]float64{}}
}

// Add counts a cycle's results. Cancelled results are counted by outcome
// but not as failures: they are no verdict on the network.
func (s *Summaries) Add(results []report.Result) {
	for i := range results {
		r := &results[i]
		k := keyOf(r)
		sum := s.m[k]
		if sum == nil {
			sum = &Summary{TargetKey: k, Family: r.Family, ByOutcome: map[string]int{}}
			s.m[k] = sum
			s.order = append(s.order, k)
		}
		sum.ByOutcome[string(r.Status)]++
		if r.Status == probe.Cancelled {
			continue
		}
		sum.Attempts++
		if r.Status != probe.OK {
			sum.Failures++
		}
		s.ms[k] = append(s.ms[k], r.ElapsedMS)
	}
}

// Flush ends the period at now: the summaries of the targets seen, and a
// new empty period.
func (s *Summaries) Flush(now time.Time) []Summary {
	out := make([]Summary, 0, len(s.order))
	for _, k := range s.order {
		sum := s.m[k]
		sum.From, sum.To = s.from, now
		if sum.Attempts > 0 {
			sum.FailurePct = round2(100 * float64(sum.Failures) / float64(sum.Attempts))
		}
		ms := s.ms[k]
		slices.Sort(ms)
		sum.P50MS, sum.P95MS = quantile(ms, 0.50), quantile(ms, 0.95)
		out = append(out, *sum)
	}
	*s = *NewSummaries(now)
	return out
}

// quantile of sorted values, nearest rank; 0 for none.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }
