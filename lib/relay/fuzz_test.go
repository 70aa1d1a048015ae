package relay

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReadLine: the lines read are the input's lines up to the first one
// over the cap, each within it.
func FuzzReadLine(f *testing.F) {
	f.Add([]byte("a\nbb\n\nccc"), uint8(2))
	f.Add([]byte("0123456789abcdefghij\n"), uint8(20))
	f.Fuzz(func(t *testing.T, in []byte, max uint8) {
		r := bufio.NewReaderSize(bytes.NewReader(in), 16)
		want := bytes.Split(in, []byte("\n"))
		for i := 0; ; i++ {
			line, err := readLine(r, int(max))
			switch {
			case errors.Is(err, errTooLong):
				if len(want[i]) <= int(max) {
					t.Fatalf("line %d of %d bytes refused with cap %d", i, len(want[i]), max)
				}
				return
			case err == io.EOF:
				if i != len(want)-1 {
					t.Fatalf("EOF at line %d of %d", i, len(want))
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if !bytes.Equal(line, want[i]) || len(line) > int(max) {
				t.Fatalf("line %d is %q, want %q (cap %d)", i, line, want[i], max)
			}
		}
	})
}
