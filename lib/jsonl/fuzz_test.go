package jsonl

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"testing"

	"github.com/coniunctum/cnj/lib/rule"
)

// FuzzParse checks that Parse returns exactly one of a value and an error,
// that errors are decoding verdicts, and that an accepted line is JSON that
// encoding/json reads the same way and that re-encodes to a line parsing to
// the same value.
func FuzzParse(f *testing.F) {
	f.Add([]byte(txLine))
	f.Add([]byte(`{"a":[[[1]]],"b":{"c":{"d":{}}},"e":true,"f":false,"g":null}`))
	f.Add([]byte(`{"amount":1,"Amount":2}`))
	f.Add([]byte(`{"a":01}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		checkSkipping(t, line)
		in := bytes.Clone(line)
		v, err := Parse(line)
		if !bytes.Equal(in, line) {
			t.Fatal("Parse modified its input")
		}
		if err != nil {
			if v.Kind != 0 {
				t.Fatalf("both a %v value and error %v", v.Kind, err)
			}
			var re *rule.Error
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a *rule.Error", err)
			}
			switch re.Code {
			case rule.BadJSON, rule.BadNumber, rule.DuplicateKey:
			default:
				t.Fatalf("unexpected code %q", re.Code)
			}
			return
		}
		if v.Kind != Object {
			t.Fatalf("accepted a top-level %v", v.Kind)
		}
		if !json.Valid(line) {
			t.Fatalf("accepted %q, which encoding/json refuses", line)
		}
		d := json.NewDecoder(bytes.NewReader(line))
		d.UseNumber()
		var std any
		if err := d.Decode(&std); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		if !sameAsStd(v, std) {
			t.Fatalf("%q: Parse and encoding/json disagree:\n%+v\n%+v", line, v, std)
		}
		enc := encode(nil, v)
		w, err := Parse(enc)
		if err != nil {
			t.Fatalf("re-encoded %q: %v", enc, err)
		}
		if !equal(v, w) {
			t.Fatalf("re-encoded %q parses differently", enc)
		}
	})
}

// sameAsStd compares a Value with what encoding/json decoded (UseNumber).
func sameAsStd(v Value, s any) bool {
	switch v.Kind {
	case String:
		x, ok := s.(string)
		return ok && x == v.Str
	case Number:
		x, ok := s.(json.Number)
		return ok && string(x) == strconv.FormatUint(v.Num, 10)
	case Bool:
		x, ok := s.(bool)
		return ok && x == v.Bool
	case Null:
		return s == nil
	case Array:
		x, ok := s.([]any)
		if !ok || len(x) != len(v.Arr) {
			return false
		}
		for i := range x {
			if !sameAsStd(v.Arr[i], x[i]) {
				return false
			}
		}
		return true
	case Object:
		x, ok := s.(map[string]any)
		if !ok || len(x) != len(v.Obj) {
			return false
		}
		for _, f := range v.Obj {
			if e, ok := x[f.Key]; !ok || !sameAsStd(f.Val, e) {
				return false
			}
		}
		return true
	}
	return false
}

// FuzzReader compares Reader with splitting the whole input at "\n", for
// any line cap and any size of the underlying reads.
func FuzzReader(f *testing.F) {
	f.Add([]byte(txLine+"\n"+txLine+"\n"), uint16(1024), uint8(0))
	f.Add([]byte("ab\r\n\ncdefgh\nij"), uint16(3), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, max16 uint16, chunk uint8) {
		max := int(max16)%2048 + 1
		var src io.Reader = bytes.NewReader(in)
		if chunk > 0 {
			src = &chunkReader{in, int(chunk)}
		}
		r := NewReader(src, max)
		var want [][]byte
		if len(in) > 0 {
			want = bytes.Split(in, []byte("\n"))
			if len(want[len(want)-1]) == 0 {
				want = want[:len(want)-1]
			}
		}
		for i, w := range want {
			line, err := r.Next()
			if r.Line() != i+1 {
				t.Fatalf("line %d: Line() = %d", i+1, r.Line())
			}
			torn := i == len(want)-1 && in[len(in)-1] != '\n'
			if r.Torn() != torn {
				t.Fatalf("line %d: Torn() = %v, want %v", i+1, r.Torn(), torn)
			}
			if len(w) > max {
				if !rule.Is(err, rule.TooLarge) || line != nil {
					t.Fatalf("line %d of %d bytes, max %d: %q, %v; want too-large", i+1, len(w), max, line, err)
				}
				continue
			}
			if err != nil || !bytes.Equal(line, w) {
				t.Fatalf("line %d: %q, %v; want %q", i+1, line, err, w)
			}
		}
		if line, err := r.Next(); err != io.EOF || line != nil {
			t.Fatalf("at the end: %q, %v; want io.EOF", line, err)
		}
	})
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[n:]
	return n, nil
}
