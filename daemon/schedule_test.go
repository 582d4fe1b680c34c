package daemon

import (
	"testing"
	"time"
)

func mustWindow(t *testing.T, wc WindowConfig) Window {
	t.Helper()
	w, err := wc.window()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func every(d time.Duration) Duration { return Duration{Duration: d, set: true} }

// TestWindowsAcrossDST walks a fake clock through 2026 in Europe/Berlin
// (clocks go forward 29 March 02:00→03:00 and back 25 October 03:00→02:00),
// cycle by cycle as the daemon's loop does, with windows that open at 02:30
// (a time that does not exist on 29 March and happens twice on 25 October)
// and overnight from 22:00 to 04:00. Every window opens exactly once a day,
// none is skipped or doubled, and each opening is a cycle.
func TestWindowsAcrossDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	night := mustWindow(t, WindowConfig{From: "02:30", To: "03:15", TimeZone: "Europe/Berlin", Interval: every(5 * time.Minute)})
	backup := mustWindow(t, WindowConfig{From: "22:00", To: "04:00", TimeZone: "Europe/Berlin", Interval: every(15 * time.Minute)})
	s := Schedule{Interval: time.Hour, Windows: []Window{night, backup}}

	start := time.Date(2025, 12, 31, 12, 7, 0, 0, berlin)
	end := time.Date(2027, 1, 1, 12, 0, 0, 0, berlin)
	opens := map[string][2]int{} // local date of the opening → [night, backup] openings
	var wasOpen [2]bool
	cycles := 0
	for now := start; now.Before(end); now = s.Next(now, 0) {
		cycles++
		for i, w := range []*Window{&s.Windows[0], &s.Windows[1]} {
			ws, _, open := w.openAt(now)
			if open && !wasOpen[i] {
				if !ws.Equal(now) {
					t.Fatalf("window %d opened at %v but the cycle ran at %v", i, ws, now)
				}
				day := ws.In(berlin).Format("2006-01-02")
				c := opens[day]
				c[i]++
				opens[day] = c
			}
			wasOpen[i] = open
		}
		if cycles > 200000 {
			t.Fatal("the schedule does not advance")
		}
	}
	for d := time.Date(2026, 1, 1, 12, 0, 0, 0, berlin); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		day := d.Format("2006-01-02")
		if got := opens[day]; got != [2]int{1, 1} {
			t.Errorf("%s: windows opened %v times, want once each", day, got)
		}
	}
	// The 02:30 that does not exist opens the window when the clock jumps.
	spring := at(2026, time.March, 29, clock{2, 30}, berlin)
	if want := time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC); !spring.Equal(want) {
		t.Errorf("02:30 on 29 March is %v, want the jump at %v (03:00 CEST)", spring, want)
	}
	// The 02:30 that happens twice opens it once, at the first.
	autumn := at(2026, time.October, 25, clock{2, 30}, berlin)
	if want := time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC); !autumn.Equal(want) {
		t.Errorf("02:30 on 25 October is %v, want the first one %v (CEST)", autumn, want)
	}
	// The overnight window of 24 October runs 22:00 CEST to 04:00 CET: 7 hours.
	ws, we := backup.span(2026, time.October, 24)
	if got := we.Sub(ws); got != 7*time.Hour {
		t.Errorf("the window across the autumn change lasts %v, want 7h", got)
	}
	ws, we = backup.span(2026, time.March, 28)
	if got := we.Sub(ws); got != 5*time.Hour {
		t.Errorf("the window across the spring change lasts %v, want 5h", got)
	}
}

// TestIntervalAndJitter: outside windows the base interval, inside the
// window's; jitter moves a start by at most its share of the interval.
func TestIntervalAndJitter(t *testing.T) {
	w := mustWindow(t, WindowConfig{Days: []string{"mon"}, From: "22:00", To: "04:00", TimeZone: "UTC", Interval: every(15 * time.Second)})
	s := Schedule{Interval: time.Minute, Jitter: 0.1, Windows: []Window{w}}
	mon := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC) // a Monday
	for _, c := range []struct {
		at   time.Time
		want time.Duration
	}{
		{mon.Add(21 * time.Hour), time.Minute},
		{mon.Add(22 * time.Hour), 15 * time.Second},
		{mon.Add(27*time.Hour + 59*time.Minute), 15 * time.Second}, // Tuesday 03:59: the Monday window still runs
		{mon.Add(28 * time.Hour), time.Minute},
		{mon.Add(46 * time.Hour), time.Minute}, // Tuesday 22:00: not a window day
	} {
		if got := s.IntervalAt(c.at); got != c.want {
			t.Errorf("IntervalAt(%v) = %v, want %v", c.at, got, c.want)
		}
	}
	base := mon.Add(12 * time.Hour)
	for _, u := range []float64{-1, -0.5, 0, 0.5, 0.999} {
		got := s.Next(base, u).Sub(base)
		if got < 54*time.Second || got > 66*time.Second {
			t.Errorf("Next with u=%v is %v later, want 60s ± 10%%", u, got)
		}
	}
	if lo, hi := s.Next(base, -1).Sub(base), s.Next(base, 0.999).Sub(base); hi-lo < 11*time.Second {
		t.Errorf("jitter spreads starts over %v, want about 12s", hi-lo)
	}
	// A window opening before the next start pulls it in.
	if got, want := s.Next(mon.Add(21*time.Hour+59*time.Minute+30*time.Second), 0), mon.Add(22*time.Hour); !got.Equal(want) {
		t.Errorf("Next before the window = %v, want its opening %v", got, want)
	}
	// First runs spread over one interval.
	if got := s.First(base, 0.5).Sub(base); got != 30*time.Second {
		t.Errorf("First(u=0.5) is %v later, want 30s", got)
	}
}

func TestWindowConfigErrors(t *testing.T) {
	for _, wc := range []WindowConfig{
		{From: "22:00", To: "22:00", Interval: every(time.Second)},
		{From: "2200", To: "04:00", Interval: every(time.Second)},
		{From: "22:00", To: "24:00", Interval: every(time.Second)},
		{From: "22:00", To: "04:00", Interval: every(time.Second), Days: []string{"monday"}},
		{From: "22:00", To: "04:00", Interval: every(time.Second), TimeZone: "Mars/Olympus"},
		{From: "22:00", To: "04:00"},
	} {
		if _, err := wc.window(); err == nil {
			t.Errorf("%+v accepted", wc)
		}
	}
}
