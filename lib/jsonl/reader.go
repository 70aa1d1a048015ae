package jsonl

import (
	"bufio"
	"io"

	"github.com/coniunctum/cnj/lib/rule"
)

// Reader splits a stream into lines ended by "\n", with a hard cap on the
// length of a line and a count of lines for messages. It holds at most about
// max bytes however long a line is. A "\r" before the "\n" is part of the
// line (and makes it bad-json for Parse).
type Reader struct {
	br   *bufio.Reader
	max  int
	line int
	torn bool
	err  error // sticky: io.EOF or the I/O error that ended reading
}

// MaxLine is the largest line cap NewReader takes.
const MaxLine = 1 << 30

// NewReader returns a Reader of r whose lines may be at most max bytes, not
// counting the newline. It allocates a buffer of max+1 bytes (at least 16)
// and panics when max is not in 1..MaxLine.
func NewReader(r io.Reader, max int) *Reader {
	if max < 1 || max > MaxLine {
		panic("jsonl: NewReader: max out of range")
	}
	return &Reader{br: bufio.NewReaderSize(r, max+1), max: max}
}

// Next returns the next line without its "\n". The line is valid only until
// the following call. A line longer than max yields a too-large error
// instead: the rest of that line is discarded and the next call goes on with
// the line after it. A final line without a newline is returned like any
// other; Torn tells it apart. At the end of the input Next returns io.EOF.
// An I/O error ends reading too: a partial line before it is not returned
// (unless it is already too long, which is reported first), and every later
// call returns the same error.
func (r *Reader) Next() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	line, err := r.br.ReadSlice('\n')
	switch err {
	case nil:
		r.line++
		r.torn = false
		line = line[:len(line)-1]
	case bufio.ErrBufferFull:
		r.line++
		for err == bufio.ErrBufferFull {
			_, err = r.br.ReadSlice('\n')
		}
		if err != nil {
			// The too-large line is reported now, the end of input next.
			r.err = err
		}
		r.torn = err != nil
		return nil, r.tooLarge()
	default:
		r.err = err
		if len(line) == 0 || err != io.EOF && len(line) <= r.max {
			return nil, err
		}
		// A final line without a newline, or one already too long when
		// an I/O error cut it: that is reported first, like above.
		r.line++
		r.torn = true
	}
	// A *bufio.Reader passed to NewReader may have a bigger buffer than
	// ours, so the cap is checked here too.
	if len(line) > r.max {
		return nil, r.tooLarge()
	}
	return line, nil
}

func (r *Reader) tooLarge() error {
	return rule.Errorf(rule.TooLarge, "line longer than %d bytes", r.max)
}

// Line returns the 1-based number of the line last returned by Next,
// refused lines included, or 0 before the first.
func (r *Reader) Line() int { return r.line }

// Torn reports whether the line last returned by Next (or refused as
// too-large) ended at the end of the input without a newline, as the last
// line of a file cut short by a crash does.
func (r *Reader) Torn() bool { return r.torn }
