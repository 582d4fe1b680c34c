package daemon

import (
	"errors"
	"fmt"
	"strings"
	"time"
	// Windows has no zoneinfo database and windows name their time zone:
	// the binary carries one.
	_ "time/tzdata"

	"egressprobe/internal/quote"
)

// Schedule says when cycles start: every Interval, each start moved by up to
// ±Jitter of its interval, and every Window's interval while a window is
// open. It is a pure function of time: the loop feeds it a clock.
type Schedule struct {
	Interval time.Duration
	Jitter   float64 // 0 to 0.5
	Windows  []Window
}

// Window is a period of faster (or slower) probing in local wall-clock time
// of Loc: it opens at From on each of Days and closes at To, the next day
// when To is not after From ("22:00" to "04:00").
type Window struct {
	Days     [7]bool // by time.Weekday
	From, To clock
	Loc      *time.Location
	Interval time.Duration
}

// clock is a wall-clock time of day.
type clock struct{ h, m int }

func (c clock) String() string { return fmt.Sprintf("%02d:%02d", c.h, c.m) }

func parseClock(s string) (clock, error) {
	var c clock
	if len(s) != 5 || s[2] != ':' {
		return c, fmt.Errorf("%s: want HH:MM, e.g. 22:00", quote.Q(s))
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &c.h, &c.m); err != nil || c.h > 23 || c.m > 59 || c.h < 0 || c.m < 0 {
		return c, fmt.Errorf("%s: want HH:MM from 00:00 to 23:59", quote.Q(s))
	}
	return c, nil
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// window validates one `schedule.windows` item.
func (w WindowConfig) window() (Window, error) {
	var out Window
	var err error
	if out.From, err = parseClock(w.From); err != nil {
		return out, fmt.Errorf("window from: %w", err)
	}
	if out.To, err = parseClock(w.To); err != nil {
		return out, fmt.Errorf("window to: %w", err)
	}
	if out.From == out.To {
		return out, errors.New("window from and to are equal: give a window of some length (to before from means it ends the next day)")
	}
	if len(w.Days) == 0 {
		out.Days = [7]bool{true, true, true, true, true, true, true}
	}
	for _, d := range w.Days {
		wd, ok := dayNames[strings.ToLower(strings.TrimSpace(d))]
		if !ok {
			return out, fmt.Errorf("window day %s: want mon, tue, wed, thu, fri, sat or sun", quote.Q(d))
		}
		out.Days[wd] = true
	}
	name := w.TimeZone
	if name == "" {
		name = "Local"
	}
	if out.Loc, err = time.LoadLocation(name); err != nil {
		return out, fmt.Errorf("window time_zone %s: %v; want an IANA name such as Europe/Berlin, UTC or Local", quote.Q(w.TimeZone), err)
	}
	out.Interval = w.Interval.Duration
	if out.Interval < time.Second {
		return out, fmt.Errorf("window interval %v: want at least 1s", w.Interval.Duration)
	}
	return out, nil
}

// NewSchedule is the schedule of a validated config.
func NewSchedule(c ScheduleConfig) Schedule {
	s := Schedule{Interval: c.Interval.Duration, Jitter: float64(c.Jitter)}
	for _, wc := range c.Windows {
		w, _ := wc.window() // validated by ParseConfig
		s.Windows = append(s.Windows, w)
	}
	return s
}

// at is the instant wall-clock time c falls on the date y-m-d in loc. A time
// the clock skips (02:30 on the night clocks go forward) is the instant the
// clock jumps, the first moment after it; a time that happens twice (clocks
// go back) is its first occurrence. Either way each date has one instant, so
// a window is never skipped nor doubled.
func at(y int, m time.Month, d int, c clock, loc *time.Location) time.Time {
	t := time.Date(y, m, d, c.h, c.m, 0, 0, loc)
	if t.Hour() != c.h || t.Minute() != c.m {
		// In the gap: Go normalises it to one side of the jump; the jump
		// is the bound of t's zone on that side.
		start, end := t.ZoneBounds()
		if t.Hour()*60+t.Minute() > c.h*60+c.m {
			return start
		}
		return end
	}
	// Go may pick the later of two occurrences: step back one hour (every
	// real-world fall-back shift is at most that) and keep it if it names the
	// same wall time.
	if e := t.Add(-time.Hour); e.Hour() == c.h && e.Minute() == c.m && e.Day() == d {
		return e
	}
	return t
}

// span is the window opened on date y-m-d: its start and end instants.
func (w *Window) span(y int, m time.Month, d int) (start, end time.Time) {
	start = at(y, m, d, w.From, w.Loc)
	if w.To.h*60+w.To.m > w.From.h*60+w.From.m {
		end = at(y, m, d, w.To, w.Loc)
	} else {
		end = at(y, m, d+1, w.To, w.Loc) // time.Date normalises d+1
	}
	return start, end
}

// openAt reports whether t is inside one of w's spans, and that span.
func (w *Window) openAt(t time.Time) (start, end time.Time, ok bool) {
	lt := t.In(w.Loc)
	for back := 0; back <= 1; back++ { // a span opened yesterday may still run
		day := time.Date(lt.Year(), lt.Month(), lt.Day()-back, 12, 0, 0, 0, w.Loc)
		if !w.Days[day.Weekday()] {
			continue
		}
		s, e := w.span(day.Year(), day.Month(), day.Day())
		if !t.Before(s) && t.Before(e) {
			return s, e, true
		}
	}
	return time.Time{}, time.Time{}, false
}

// nextOpen is the first window start strictly after t and no later than
// limit, if any.
func (w *Window) nextOpen(t, limit time.Time) (time.Time, bool) {
	lt := t.In(w.Loc)
	for ahead := 0; ; ahead++ {
		day := time.Date(lt.Year(), lt.Month(), lt.Day()+ahead, 12, 0, 0, 0, w.Loc)
		if day.Add(-36 * time.Hour).After(limit) {
			return time.Time{}, false
		}
		if !w.Days[day.Weekday()] {
			continue
		}
		s, _ := w.span(day.Year(), day.Month(), day.Day())
		if s.After(t) && !s.After(limit) {
			return s, true
		}
	}
}

// IntervalAt is the interval in force at t: the shortest of the open
// windows', else the base interval.
func (s *Schedule) IntervalAt(t time.Time) time.Duration {
	iv := time.Duration(0)
	for i := range s.Windows {
		if _, _, ok := s.Windows[i].openAt(t); ok && (iv == 0 || s.Windows[i].Interval < iv) {
			iv = s.Windows[i].Interval
		}
	}
	if iv == 0 {
		return s.Interval
	}
	return iv
}

// Next is when the cycle after one that started at last begins: one interval
// later, moved by jitter (u in [-1, 1) times Jitter of the interval), or the
// moment a window opens if that comes first, so a backup window's probing
// starts on time.
func (s *Schedule) Next(last time.Time, u float64) time.Time {
	iv := s.IntervalAt(last)
	next := last.Add(iv + time.Duration(u*s.Jitter*float64(iv)))
	for i := range s.Windows {
		if o, ok := s.Windows[i].nextOpen(last, next); ok && o.Before(next) {
			next = o
		}
	}
	return next
}

// First is when the first cycle begins after a start at now: spread over
// one interval (u in [0, 1)), so daemons started together do not probe in
// step; a window opening sooner wins.
func (s *Schedule) First(now time.Time, u float64) time.Time {
	next := now.Add(time.Duration(u * float64(s.IntervalAt(now))))
	for i := range s.Windows {
		if o, ok := s.Windows[i].nextOpen(now, next); ok && o.Before(next) {
			next = o
		}
	}
	return next
}
