package chainsync

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Bar draws Progress reports as one line redrawn in place, at most ten
// times a second, for a terminal:
//
//	verifying   [#######.............]  1200/3400  2200 left  410 blocks/s  ETA 5s
//
// The rate counts from the start of the phase. The caller decides that
// its writer is a terminal (cli.IsTerminal).
type Bar struct {
	w     io.Writer
	now   func() time.Time
	phase Phase
	peer  string
	start time.Time
	last  time.Time
	width int // of the line last drawn
}

// NewBar returns a Bar drawing on w.
func NewBar(w io.Writer) *Bar { return &Bar{w: w, now: time.Now} }

// Update redraws the line for p when a tenth of a second has passed since
// the last draw, or the phase changed or ended.
func (b *Bar) Update(p Progress) {
	t := b.now()
	if p.Phase != b.phase || p.Peer != b.peer {
		b.phase, b.peer, b.start = p.Phase, p.Peer, t
	} else if t.Sub(b.last) < 100*time.Millisecond && p.Done < p.Total {
		return
	}
	b.last = t
	b.draw(Line(p, t.Sub(b.start)))
}

// Clear erases the line, so that what follows starts on a clean one.
func (b *Bar) Clear() {
	if b.width > 0 {
		fmt.Fprintf(b.w, "\r%s\r", strings.Repeat(" ", b.width))
		b.width = 0
	}
}

func (b *Bar) draw(s string) {
	pad := ""
	if n := b.width - len(s); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(b.w, "\r%s%s", s, pad)
	b.width = len(s)
}

// Line renders p after elapsed time in its phase: bar, count, blocks left,
// rate and ETA.
func Line(p Progress, elapsed time.Duration) string {
	const cells = 20
	filled := cells
	if p.Total > 0 && p.Done < p.Total {
		filled = int(p.Done * cells / p.Total)
	}
	left := p.Total - min(p.Done, p.Total)
	s := fmt.Sprintf("%-11s [%s%s] %d/%d  %d left", p.Phase,
		strings.Repeat("#", filled), strings.Repeat(".", cells-filled), p.Done, p.Total, left)
	if secs := elapsed.Seconds(); secs > 0 && p.Done > 0 {
		rate := float64(p.Done) / secs
		eta := time.Duration(float64(left) / rate * float64(time.Second)).Round(time.Second)
		s += fmt.Sprintf("  %.0f blocks/s  ETA %s", rate, eta)
	}
	return s
}
