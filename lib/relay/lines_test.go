package relay

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestReadLine(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name  string
		in    string
		max   int
		lines []string
		err   error // after the lines
	}{
		{"short", "abc\nd\n", 10, []string{"abc", "d"}, io.EOF},
		{"empty lines", "\n\nx\n", 10, []string{"", "", "x"}, io.EOF},
		{"exactly the cap", x(10) + "\n", 10, []string{x(10)}, io.EOF},
		{"one over the cap", x(11) + "\n", 10, nil, errTooLong},
		{"over the cap, no newline", x(16), 10, nil, errTooLong},
		{"last line without newline", "ab\ncd", 10, []string{"ab"}, io.EOF},
		// The reader's buffer is 16 bytes: longer lines come in fragments.
		{"fragments under the cap", x(39) + "\nab\n", 40, []string{x(39), "ab"}, io.EOF},
		{"fragments at the cap", x(40) + "\n", 40, []string{x(40)}, io.EOF},
		{"fragments over the cap", x(41) + "\n", 40, nil, errTooLong},
		{"fragments over the cap, no newline", x(41), 40, nil, errTooLong},
		{"fragments, last line without newline", x(20), 40, nil, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bufio.NewReaderSize(strings.NewReader(tt.in), 16)
			for _, want := range tt.lines {
				got, err := readLine(r, tt.max)
				if err != nil || string(got) != want {
					t.Fatalf("readLine = %q, %v; want %q", got, err, want)
				}
			}
			if got, err := readLine(r, tt.max); !errors.Is(err, tt.err) {
				t.Fatalf("readLine = %q, %v; want error %v", got, err, tt.err)
			}
		})
	}
}

func TestReadLineCopies(t *testing.T) {
	r := bufio.NewReaderSize(strings.NewReader("aaaa\nbbbb\n"), 16)
	a, _ := readLine(r, 10)
	readLine(r, 10)
	if string(a) != "aaaa" {
		t.Fatalf("a line changed when the next was read: %q", a)
	}
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Minute: "1m", 90 * time.Second: "1m30s", 10 * time.Second: "10s", 200 * time.Millisecond: "200ms",
		time.Hour: "1h", 2*time.Hour + 30*time.Minute: "2h30m", 10 * time.Minute: "10m", 0: "0s",
	} {
		if got := human(d); got != want {
			t.Errorf("human(%v) = %q, want %q", d, got, want)
		}
	}
}
