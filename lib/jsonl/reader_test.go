package jsonl

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/coniunctum/cnj/lib/rule"
)

// step is one expected result of Next: a line, or an error code, at a line
// number, torn or not.
type step struct {
	line string
	code rule.Code
	n    int
	torn bool
}

func TestReader(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		max   int
		steps []step
	}{
		{"empty input", "", 4, nil},
		{"one line", "{}\n", 4, []step{{line: "{}", n: 1}}},
		{"two lines", "ab\ncd\n", 4, []step{{line: "ab", n: 1}, {line: "cd", n: 2}}},
		{"final line without newline", "ab\ncd", 4, []step{{line: "ab", n: 1}, {line: "cd", n: 2, torn: true}}},
		{"empty lines", "\n\nab\n", 4, []step{{n: 1}, {n: 2}, {line: "ab", n: 3}}},
		{"crlf keeps cr", "ab\r\ncd\r\n", 4, []step{{line: "ab\r", n: 1}, {line: "cd\r", n: 2}}},
		{"lone cr is not a newline", "ab\rcd\n", 8, []step{{line: "ab\rcd", n: 1}}},
		{"at limit", "abcd\n", 4, []step{{line: "abcd", n: 1}}},
		{"at limit torn", "abcd", 4, []step{{line: "abcd", n: 1, torn: true}}},
		{"past limit", "abcde\nab\n", 4, []step{{code: rule.TooLarge, n: 1}, {line: "ab", n: 2}}},
		{"past limit torn", "ab\nabcde", 4, []step{{line: "ab", n: 1}, {code: rule.TooLarge, n: 2, torn: true}}},
		{"far past limit", strings.Repeat("x", 1000) + "\nok\n" + strings.Repeat("y", 999) + "\n", 2,
			[]step{{code: rule.TooLarge, n: 1}, {line: "ok", n: 2}, {code: rule.TooLarge, n: 3}}},
		{"cr counts toward the limit", "abcd\r\n", 4, []step{{code: rule.TooLarge, n: 1}}},
		{"max 1", "a\nbb\n\nc", 1, []step{{line: "a", n: 1}, {code: rule.TooLarge, n: 2}, {n: 3}, {line: "c", n: 4, torn: true}}},
		{"nul bytes pass through", "a\x00b\n", 4, []step{{line: "a\x00b", n: 1}}},
	}
	for _, tt := range tests {
		for _, wrap := range []struct {
			name string
			fn   func(io.Reader) io.Reader
		}{
			{"plain", func(r io.Reader) io.Reader { return r }},
			{"one byte", iotest.OneByteReader},
			{"data with eof", iotest.DataErrReader},
			{"big bufio", func(r io.Reader) io.Reader { return bufio.NewReaderSize(r, 4096) }},
		} {
			t.Run(tt.name+"/"+wrap.name, func(t *testing.T) {
				r := NewReader(wrap.fn(strings.NewReader(tt.in)), tt.max)
				if r.Line() != 0 {
					t.Fatalf("Line() = %d before reading", r.Line())
				}
				for i, want := range tt.steps {
					line, err := r.Next()
					if rule.CodeOf(err) != want.code || err != nil && want.code == "" {
						t.Fatalf("step %d: Next() = %q, %v; want code %q", i, line, err, want.code)
					}
					if string(line) != want.line {
						t.Fatalf("step %d: line %q, want %q", i, line, want.line)
					}
					if r.Line() != want.n || r.Torn() != want.torn {
						t.Fatalf("step %d: Line() %d Torn() %v, want %d %v", i, r.Line(), r.Torn(), want.n, want.torn)
					}
				}
				for range 2 {
					if line, err := r.Next(); err != io.EOF || line != nil {
						t.Fatalf("after the last step: %q, %v; want io.EOF", line, err)
					}
				}
			})
		}
	}
}

// TestReaderBounded feeds a 64 MiB line through a Reader capped at 16 bytes
// and checks that discarding it allocates next to nothing.
func TestReaderBounded(t *testing.T) {
	const size = 64 << 20
	in := io.MultiReader(io.LimitReader(repeatReader('x'), size), strings.NewReader("\n{}\n"))
	r := NewReader(in, 16)
	m1 := totalAlloc()
	if _, err := r.Next(); !rule.Is(err, rule.TooLarge) {
		t.Fatalf("Next() = %v, want too-large", err)
	}
	if m2 := totalAlloc(); m2-m1 > 1<<20 {
		t.Errorf("discarding a %d-byte line allocated %d bytes", size, m2-m1)
	}
	if line, err := r.Next(); err != nil || string(line) != "{}" || r.Line() != 2 {
		t.Fatalf("Next() = %q, %v at line %d; want {} at line 2", line, err, r.Line())
	}
}

type repeatReader byte

func (c repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

// TestReaderError checks that an I/O error ends reading for good.
func TestReaderError(t *testing.T) {
	boom := errors.New("boom")
	in := io.MultiReader(strings.NewReader("ab\ncd"), iotest.ErrReader(boom))
	r := NewReader(in, 8)
	if line, err := r.Next(); err != nil || string(line) != "ab" {
		t.Fatalf("Next() = %q, %v", line, err)
	}
	for range 2 {
		if line, err := r.Next(); err != boom || line != nil {
			t.Fatalf("Next() = %q, %v; want boom", line, err)
		}
	}

	// An error in the middle of a too-large line: too-large first, whether
	// the line fit the buffer (bufio's minimum is 16) or not.
	for _, long := range []string{"abcdefghijkl", strings.Repeat("x", 100)} {
		in = io.MultiReader(strings.NewReader(long), iotest.ErrReader(boom))
		r = NewReader(in, 4)
		if _, err := r.Next(); !rule.Is(err, rule.TooLarge) || r.Line() != 1 {
			t.Fatalf("Next() = %v at line %d, want too-large at line 1", err, r.Line())
		}
		if _, err := r.Next(); err != boom {
			t.Fatalf("Next() = %v, want boom", err)
		}
	}
}

func TestNewReaderPanics(t *testing.T) {
	for _, max := range []int{-1, 0, MaxLine + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewReader(r, %d) did not panic", max)
				}
			}()
			NewReader(bytes.NewReader(nil), max)
		}()
	}
}

func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}
