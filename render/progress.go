package render

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// progressBarWidth is the number of cells in the bar.
const progressBarWidth = 30

// Progress is a one-line progress bar redrawn in place with '\r', for stderr
// when it is a terminal (the caller decides; never for pipes or files).
// It has no goroutine and no clock: it redraws on Update, and only when the
// line it would draw changes, so many quick updates cost little. It is safe
// for concurrent use by the workers that finish probes.
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	done  int
	last  string // the line last drawn, to skip identical redraws
	width int    // of the widest line drawn, to erase it on Done
	ended bool
}

// NewProgress returns a bar for total steps, drawn on w at the first Update.
func NewProgress(w io.Writer, total int) *Progress {
	return &Progress{w: w, total: total}
}

// Update records that done of total steps are finished and redraws the bar.
// total may grow as work is discovered; done is clamped to [0, total] and
// never goes back, since concurrent workers' reports can arrive out of order.
// Updates after Done are ignored. A failed write is ignored too: progress is
// a courtesy, and the run's result goes elsewhere.
func (p *Progress) Update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	p.total = max(total, 0)
	p.done = min(max(done, p.done), p.total)
	line := progressLine(p.done, p.total)
	if line == p.last {
		return
	}
	p.last = line
	p.width = max(p.width, len(line))
	fmt.Fprintf(p.w, "\r%s", line)
}

// Done erases the bar, leaving the cursor at the start of a clean line for
// whatever is printed next. It is idempotent.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	p.ended = true
	if p.width > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
	}
}

// progressLine draws "[=========>          ]  12/40 checked".
func progressLine(done, total int) string {
	filled := 0
	if total > 0 {
		filled = done * progressBarWidth / total
	}
	bar := strings.Repeat("=", filled)
	if filled < progressBarWidth {
		bar += ">" + strings.Repeat(" ", progressBarWidth-filled-1)
	}
	digits := len(fmt.Sprint(total))
	return fmt.Sprintf("[%s] %*d/%d checked", bar, digits, done, total)
}
