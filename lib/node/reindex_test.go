package node

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

// forkedDir builds a directory with sealed segments, a side branch, and a
// side branch that turned out invalid when it took the lead (a transfer
// without funds), so that the index holds rewritten invalid flags.
func forkedDir(t *testing.T) string {
	t.Helper()
	smallSegments(t, 6<<10)
	dir, p := newDir(t)
	g := newGen(p)
	d := mustOpen(t, dir)
	grow(t, d, g, 15, 3)
	err := d.Write(func(w *Writer) error {
		c := d.Chain()
		parent := c.Tip().Parent
		// Equal work: kept on the side.
		s1, l1 := g.mine(parent, parent.Timestamp+1, g.miner.addr, []*tx.Tx{g.transfer(newWallet(p, 77), g.miner.addr, 5000, parent.Timestamp+1)})
		if res, err := w.AddBlock(s1, l1, now); err != nil || !res.Side {
			t.Fatalf("s1: %v %+v", err, res)
		}
		// More work: the reorganization fails on s1's transfer.
		s2, l2 := g.mine(c.Node(s1.Hash), s1.Timestamp+1, g.miner.addr, nil)
		res, err := w.AddBlock(s2, l2, now)
		if rule.CodeOf(err) != rule.InsufficientFunds || res == nil || len(res.Invalidated) != 2 {
			t.Fatalf("s2: %v %+v", err, res)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	grow(t, d, g, 5, 3)
	inv := 0
	for _, r := range d.store.Records() {
		if r.Invalid {
			inv++
		}
	}
	if inv != 2 {
		t.Fatalf("%d invalid records", inv)
	}
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestReindexIdentical(t *testing.T) {
	dir := forkedDir(t)
	idx := readFile(t, filepath.Join(dir, chaindir.IndexFile))
	st := readFile(t, filepath.Join(dir, chaindir.StateFile))
	moved, err := Reindex(dir)
	if err != nil || len(moved) != 0 {
		t.Fatalf("Reindex: %v %v", moved, err)
	}
	if !bytes.Equal(readFile(t, filepath.Join(dir, chaindir.IndexFile)), idx) {
		t.Fatal("index differs after Reindex")
	}
	if !bytes.Equal(readFile(t, filepath.Join(dir, chaindir.StateFile)), st) {
		t.Fatal("state differs after Reindex")
	}
	// From nothing but the blocks.
	os.Remove(filepath.Join(dir, chaindir.IndexFile))
	os.Remove(filepath.Join(dir, chaindir.StateFile))
	if _, err := Reindex(dir); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, filepath.Join(dir, chaindir.IndexFile)), idx) || !bytes.Equal(readFile(t, filepath.Join(dir, chaindir.StateFile)), st) {
		t.Fatal("derived files differ after a Reindex from the blocks alone")
	}
	d := mustOpen(t, dir)
	defer d.Close()
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestReindexSetsAside(t *testing.T) {
	bs := makeBase(t)
	n := len(bs.recs)
	mid := bs.firstOfSeg + 1
	cases := []struct {
		name   string
		mutate func(t *testing.T, dir string)
		height uint64 // tip after Reindex
		moved  []string
	}{
		{"damaged line in the last segment", func(t *testing.T, dir string) {
			flipByte(t, bs.lastSegPath(dir), fieldOffset(t, dir, bs.recs[mid], `"signature":"`)+9, otherHex)
		}, uint64(mid), []string{"lost/" + filepathBase(chaindir.SegmentName(bs.lastSeg))}},
		{"missing middle segment", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, chaindir.SealedName(1)))
		}, uint64(bs.firstOfSegOf(1)), bs.after(1)},
		{"sealed segment does not decompress", func(t *testing.T, dir string) {
			path := filepath.Join(dir, chaindir.SealedName(1))
			flipByte(t, path, fileSize(t, path)/2, func(c byte) byte { return c ^ 0x10 })
		}, 0, nil},
		{"torn last line", func(t *testing.T, dir string) {
			appendFile(t, bs.lastSegPath(dir), bs.lastLine[:99])
		}, uint64(n), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "c")
			copyDir(t, bs.dir, dir)
			tc.mutate(t, dir)
			moved, err := Reindex(dir)
			if err != nil {
				t.Fatal(err)
			}
			d := mustOpen(t, dir)
			defer d.Close()
			h := d.Chain().Tip().Height
			if tc.moved != nil && fmt.Sprint(moved) != fmt.Sprint(tc.moved) {
				t.Fatalf("moved %v, want %v", moved, tc.moved)
			}
			if tc.height != 0 && h != tc.height {
				t.Fatalf("height %d, want %d", h, tc.height)
			}
			if tc.height == 0 && (h == 0 || h >= uint64(bs.firstOfSegOf(2)) || len(moved) == 0) {
				t.Fatalf("height %d after a salvage, moved %v", h, moved)
			}
			if err := d.Check(); err != nil {
				t.Fatal(err)
			}
			for _, m := range moved {
				if !strings.HasPrefix(m, "lost/") {
					t.Fatalf("moved %s", m)
				}
				if _, err := os.Stat(filepath.Join(dir, m)); err != nil {
					t.Fatal(err)
				}
			}
			// The directory takes new blocks after it.
			g := newGen(d.Params())
			g.seq = 1 << 30
			grow(t, d, g, 2, 1)
			if err := d.Check(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// firstOfSegOf returns the number of blocks stored before segment s.
func (bs *base) firstOfSegOf(s uint32) int {
	for i, r := range bs.recs {
		if r.Loc.Segment >= s {
			return i
		}
	}
	return len(bs.recs)
}

// after lists the lost/ names of the segments after s, highest first.
func (bs *base) after(s uint32) []string {
	var out []string
	for n := bs.lastSeg; n > s; n-- {
		name := chaindir.SealedName(n)
		if n == bs.lastSeg {
			name = chaindir.SegmentName(n)
		}
		out = append(out, "lost/"+filepathBase(name))
	}
	return out
}

func filepathBase(p string) string { return filepath.Base(p) }
