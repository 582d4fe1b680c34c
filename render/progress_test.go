package render

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

func TestProgressDrawsInPlaceAndErases(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, 4)
	if buf.Len() != 0 {
		t.Fatalf("NewProgress drew %q before any Update", buf.String())
	}
	p.Update(0, 4)
	p.Update(1, 4)
	p.Update(1, 4) // unchanged: no redraw
	p.Update(4, 4)
	p.Done()
	p.Update(2, 4) // after Done: ignored
	p.Done()       // idempotent

	want := "\r[>                             ] 0/4 checked" +
		"\r[=======>                      ] 1/4 checked" +
		"\r[==============================] 4/4 checked" +
		"\r" + strings.Repeat(" ", 44) + "\r"
	if got := buf.String(); got != want {
		t.Errorf("output:\n%q\nwant:\n%q", got, want)
	}
}

func TestProgressClampsAndGrows(t *testing.T) {
	for _, tc := range []struct {
		name        string
		before      int // a first Update(before, 3), when > 0
		done, total int
		want        string // what the second Update draws
	}{
		{"done past total", 0, 9, 3, "[==============================] 3/3 checked"},
		{"negative done", 0, -2, 3, "[>                             ] 0/3 checked"},
		{"zero total", 0, 0, 0, "[>                             ] 0/0 checked"},
		{"negative total", 0, 1, -5, "[>                             ] 0/0 checked"},
		{"total grew", 2, 5, 10, "[===============>              ]  5/10 checked"},
		{"done went back: no redraw", 2, 1, 3, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := NewProgress(&buf, 3)
			if tc.before > 0 {
				p.Update(tc.before, 3)
				buf.Reset()
			}
			p.Update(tc.done, tc.total)
			if got := strings.TrimPrefix(buf.String(), "\r"); got != tc.want {
				t.Errorf("Update(%d, %d) drew %q, want %q", tc.done, tc.total, got, tc.want)
			}
		})
	}
}

// TestProgressConcurrent runs under -race in CI: workers report as they
// finish, and the bar must end erased with no torn line.
func TestProgressConcurrent(t *testing.T) {
	var buf bytes.Buffer
	const workers, each = 8, 50
	p := NewProgress(&buf, workers*each)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				mu.Lock()
				done++
				n := done
				mu.Unlock()
				p.Update(n, workers*each)
			}
		}()
	}
	wg.Wait()
	p.Done()
	out := buf.String()
	if !strings.Contains(out, "400/400 checked") {
		t.Errorf("the last update never drew 400/400: %q", out[max(0, len(out)-120):])
	}
	if !strings.HasSuffix(out, "\r"+strings.Repeat(" ", len(progressLine(400, 400)))+"\r") {
		t.Errorf("the bar was not erased at the end: %q", out[max(0, len(out)-120):])
	}
	for _, line := range strings.Split(strings.Trim(out, "\r"), "\r") {
		if strings.TrimSpace(line) != "" && !strings.HasSuffix(line, " checked") {
			t.Fatalf("torn line %q", line)
		}
	}
}
