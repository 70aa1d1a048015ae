package chaindir

import (
	"bytes"
	"os"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// TestMempoolSum: Sum names the bytes mempool.jsonl holds as this process
// last read or wrote them, through appends, a replace and a torn line;
// After gives the lines past a prefix only when the prefix is the one
// named.
func TestMempoolSum(t *testing.T) {
	d := Dir(t.TempDir())
	m := d.Mempool()
	a, b, c := []byte(`{"a":1}`), []byte(`{"b":2}`), []byte(`{"c":3}`)
	check := func(when string) {
		t.Helper()
		data, _ := os.ReadFile(d.File(MempoolFile))
		if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
			data = data[:i+1]
		} else {
			data = nil
		}
		size, sum, ok := m.Sum()
		if !ok || size != int64(len(data)) || sum != xxhash.Sum64(data) {
			t.Fatalf("%s: Sum = %d, %x, %v; the file holds %d bytes, %x", when, size, sum, ok, len(data), xxhash.Sum64(data))
		}
	}
	if _, err := m.Refresh(true); err != nil {
		t.Fatal(err)
	}
	check("no file")
	if err := m.Append(a, b); err != nil {
		t.Fatal(err)
	}
	check("appended")
	if err := m.Replace([][]byte{b}); err != nil {
		t.Fatal(err)
	}
	check("replaced")
	size, sum, _ := m.Sum()
	if err := m.Append(c); err != nil {
		t.Fatal(err)
	}
	check("appended after a replace")
	f, _ := os.OpenFile(d.File(MempoolFile), os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte(`{"torn`))
	f.Close()
	r := d.Mempool()
	if _, err := r.Refresh(true); err != nil {
		t.Fatal(err)
	}
	m = r
	check("read with a torn line")
	if lines, ok := r.After(size, sum); !ok || len(lines) != 1 || !bytes.Equal(lines[0], c) {
		t.Fatalf("After the replaced file's bytes: %q, %v", lines, ok)
	}
	if _, ok := r.After(size, sum+1); ok {
		t.Fatal("After took another sum")
	}
	if _, ok := r.After(size-1, xxhash.Sum64([]byte(`{"b":2}`))); ok {
		t.Fatal("After took a size that is not at a line's end")
	}
}

// FuzzDecodeMempoolBin: mempool.bin either is refused or re-encodes to
// itself.
func FuzzDecodeMempoolBin(f *testing.F) {
	var g [32]byte
	g[0] = 7
	good := (&MempoolBin{Tip: [32]byte{1}, FileSize: 100, FileSum: 42, Pool: []byte("pool")}).Encode(g)
	f.Add(good)
	f.Add(good[:60])
	f.Add((&MempoolBin{}).Encode(g))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, ok := DecodeMempoolBin(data, g)
		if !ok {
			return
		}
		if again := b.Encode(g); !bytes.Equal(again, data) {
			t.Fatal("mempool.bin re-encodes differently")
		}
	})
}
