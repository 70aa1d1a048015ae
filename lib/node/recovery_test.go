package node

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"

	"github.com/coniunctum/cnj/lib/blockstore"
	"github.com/coniunctum/cnj/lib/chaindir"
)

// base is a small chain directory to damage: several sealed segments and a
// plain last one, the state at the tip.
type base struct {
	dir        string
	recs       []blockstore.Record
	want       view // the tip
	prev       view // one block less
	lastLine   []byte
	lastSeg    uint32
	firstOfSeg int // first record of the last segment
}

func makeBase(t *testing.T) *base {
	t.Helper()
	smallSegments(t, 8<<10)
	dir, p := newDir(t)
	g := newGen(p)
	d := mustOpen(t, dir)
	grow(t, d, g, 24, 4)
	var bs *base
	for {
		prev := viewOf(t, d)
		grow(t, d, g, 1, 4)
		bs = &base{dir: dir, recs: append([]blockstore.Record(nil), d.store.Records()...), want: viewOf(t, d), prev: prev}
		last := bs.recs[len(bs.recs)-1]
		bs.lastSeg = last.Loc.Segment
		for i, r := range bs.recs {
			if r.Loc.Segment == bs.lastSeg {
				bs.firstOfSeg = i
				break
			}
		}
		if !exists(filepath.Join(dir, chaindir.SealedName(bs.lastSeg))) && len(bs.recs)-bs.firstOfSeg >= 3 {
			break
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	last := bs.recs[len(bs.recs)-1]
	if bs.lastSeg < 2 {
		t.Fatalf("base: last segment %d", bs.lastSeg)
	}
	seg := readFile(t, filepath.Join(dir, chaindir.SegmentName(bs.lastSeg)))
	bs.lastLine = seg[last.Loc.Offset : last.Loc.Offset+uint64(last.Loc.Length)]
	return bs
}

func (bs *base) lastSegPath(dir string) string {
	return filepath.Join(dir, chaindir.SegmentName(bs.lastSeg))
}

func appendFile(t testing.TB, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func truncate(t testing.TB, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t testing.TB, path string, off int64, to func(byte) byte) {
	t.Helper()
	data := readFile(t, path)
	data[off] = to(data[off])
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// otherHex changes a hex digit to another lowercase hex digit.
func otherHex(c byte) byte {
	if c == '0' {
		return '1'
	}
	return '0'
}

// fieldOffset returns the offset in the line of record r of the first byte
// of the value after key (e.g. `"signature":"`), in file coordinates.
func fieldOffset(t testing.TB, dir string, r blockstore.Record, key string) int64 {
	t.Helper()
	seg := readFile(t, filepath.Join(dir, chaindir.SegmentName(r.Loc.Segment)))
	line := seg[r.Loc.Offset : r.Loc.Offset+uint64(r.Loc.Length)]
	i := bytes.LastIndex(line, []byte(key))
	if i < 0 {
		t.Fatalf("no %s in the line", key)
	}
	return int64(r.Loc.Offset) + int64(i+len(key))
}

func TestRecovery(t *testing.T) {
	bs := makeBase(t)
	n := len(bs.recs)
	mid := bs.firstOfSeg + 1 // a middle line of the last segment
	midLine := mid - bs.firstOfSeg + 1
	lastSegFile := chaindir.SegmentName(bs.lastSeg)
	wantShort := bs.prev

	type tcase struct {
		name     string
		mutate   func(t *testing.T, dir string)
		openErr  string // substring of Open's error; "" = it opens
		want     *view  // after Open; default bs.want
		checkErr string // substring of Check's error before any write
		broken   bool   // the damage stays: no write/recheck round
	}
	cases := []tcase{}
	for _, k := range []int{1, 2, 40, len(bs.lastLine) / 2, len(bs.lastLine) - 1, len(bs.lastLine)} {
		cases = append(cases, tcase{
			name:   fmt.Sprintf("torn last line of %d bytes", k),
			mutate: func(t *testing.T, dir string) { appendFile(t, bs.lastSegPath(dir), bs.lastLine[:k]) },
		})
	}
	cases = append(cases,
		tcase{name: "torn line that does not parse", mutate: func(t *testing.T, dir string) {
			appendFile(t, bs.lastSegPath(dir), append(bytes.Clone(bs.lastLine[:77]), '\n'))
		}},
		tcase{name: "block not yet indexed", mutate: func(t *testing.T, dir string) {
			truncate(t, filepath.Join(dir, chaindir.IndexFile), int64(indexHeader+(n-1)*recordSize))
		}},
		tcase{name: "blocks not indexed and torn line", mutate: func(t *testing.T, dir string) {
			truncate(t, filepath.Join(dir, chaindir.IndexFile), int64(indexHeader+(n-3)*recordSize))
			appendFile(t, bs.lastSegPath(dir), bs.lastLine[:100])
		}},
		tcase{name: "index deleted", mutate: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, chaindir.IndexFile))
		}, checkErr: "index"},
		tcase{name: "index empty", mutate: func(t *testing.T, dir string) {
			truncate(t, filepath.Join(dir, chaindir.IndexFile), 0)
		}, checkErr: "index: bad header"},
		tcase{name: "index truncated mid-record", mutate: func(t *testing.T, dir string) {
			truncate(t, filepath.Join(dir, chaindir.IndexFile), int64(indexHeader+(n-2)*recordSize+50))
		}},
		tcase{name: "index header bit flip", mutate: func(t *testing.T, dir string) {
			flipByte(t, filepath.Join(dir, chaindir.IndexFile), 12, func(c byte) byte { return c ^ 4 })
		}, checkErr: "index: bad header"},
		tcase{name: "index record bit flip", mutate: func(t *testing.T, dir string) {
			flipByte(t, filepath.Join(dir, chaindir.IndexFile), int64(indexHeader+5*recordSize+70), func(c byte) byte { return c ^ 1 })
		}, checkErr: "index: record 6 is damaged"},
		tcase{name: "index record beyond the segments", mutate: func(t *testing.T, dir string) {
			last := bs.recs[n-1].Loc
			truncate(t, bs.lastSegPath(dir), int64(last.Offset))
		}, want: &wantShort, checkErr: "state: at block"},
		tcase{name: "index hash differs from its line", mutate: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, chaindir.StateFile))
			path := filepath.Join(dir, chaindir.IndexFile)
			data := readFile(t, path)
			r := data[indexHeader+(n-1)*recordSize:][:recordSize]
			r[5] ^= 0x80
			binary.BigEndian.PutUint64(r[136:], xxhash.Sum64(r[:136]))
			os.WriteFile(path, data, 0o644)
		}, openErr: fmt.Sprintf("%s line %d: holds block", lastSegFile, n-bs.firstOfSeg)},
		tcase{name: "state deleted", mutate: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, chaindir.StateFile))
		}},
		tcase{name: "state bit flip", mutate: func(t *testing.T, dir string) {
			flipByte(t, filepath.Join(dir, chaindir.StateFile), 200, func(c byte) byte { return c ^ 8 })
		}, checkErr: "state: bad checksum"},
		tcase{name: "state truncated", mutate: func(t *testing.T, dir string) {
			truncate(t, filepath.Join(dir, chaindir.StateFile), 150)
		}, checkErr: "state: bad checksum"},
		tcase{name: "state of another chain", mutate: func(t *testing.T, dir string) {
			path := filepath.Join(dir, chaindir.StateFile)
			data := readFile(t, path)
			data[45] ^= 1 // tip hash in the header
			binary.BigEndian.PutUint64(data[len(data)-8:], xxhash.Sum64(data[:len(data)-8]))
			os.WriteFile(path, data, 0o644)
		}, checkErr: "state: at block"},
		tcase{name: "segment signature bit flip, state present", mutate: func(t *testing.T, dir string) {
			flipByte(t, bs.lastSegPath(dir), fieldOffset(t, dir, bs.recs[mid], `"signature":"`)+3, otherHex)
		}, checkErr: fmt.Sprintf("%s line %d", lastSegFile, midLine), broken: true},
		tcase{name: "segment amount digit flip, no state", mutate: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, chaindir.StateFile))
			flipByte(t, bs.lastSegPath(dir), fieldOffset(t, dir, bs.recs[mid], `"amount":`), func(c byte) byte { return c + 1 })
		}, openErr: fmt.Sprintf("%s line %d: block", lastSegFile, midLine)},
		tcase{name: "segment line made unparseable, no state", mutate: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, chaindir.StateFile))
			flipByte(t, bs.lastSegPath(dir), fieldOffset(t, dir, bs.recs[mid], `"hash":"`), func(c byte) byte { return 'G' })
		}, openErr: fmt.Sprintf("%s line %d: does not parse", lastSegFile, midLine)},
		tcase{name: "sealed segment bit flip, state present", mutate: func(t *testing.T, dir string) {
			path := filepath.Join(dir, chaindir.SealedName(1))
			flipByte(t, path, fileSize(t, path)/2, func(c byte) byte { return c ^ 0x10 })
		}, checkErr: "blocks/000001.jsonl.zst", broken: true},
		tcase{name: "sealed segment bit flip, no state", mutate: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, chaindir.StateFile))
			path := filepath.Join(dir, chaindir.SealedName(1))
			flipByte(t, path, fileSize(t, path)/2, func(c byte) byte { return c ^ 0x10 })
		}, openErr: "blocks/000001.jsonl.zst"},
		tcase{name: "missing middle segment", mutate: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, chaindir.SealedName(1)))
		}, openErr: "blocks/000001.jsonl: missing, though " + filepath.Base(lastSegFile) + " follows it"},
		tcase{name: "leftover temporary files", mutate: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "state.tmp123"), []byte("x"), 0o644)
			os.WriteFile(filepath.Join(dir, "index.tmp9"), []byte("x"), 0o644)
			os.WriteFile(filepath.Join(dir, chaindir.BlocksDir, "000001.jsonl.zst.tmp"), []byte("x"), 0o644)
		}},
	)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "c")
			copyDir(t, bs.dir, dir)
			tc.mutate(t, dir)
			d, err := openTest(dir)
			if tc.openErr != "" {
				if err == nil {
					d.Close()
					t.Fatalf("Open succeeded, want an error with %q", tc.openErr)
				}
				if !strings.Contains(err.Error(), tc.openErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("Open: %v\nwant %q", err, tc.openErr)
				}
				if chaindir.CorruptOf(err) == nil {
					t.Fatalf("Open: %v is not a CorruptError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer d.Close()
			want := bs.want
			if tc.want != nil {
				want = *tc.want
			}
			if got := viewOf(t, d); !sameView(got, want) {
				t.Fatalf("view after Open: height %d, %d records; want %d, %d", got.height, got.recs, want.height, want.recs)
			}
			err = d.Check()
			if tc.checkErr == "" && err != nil || tc.checkErr != "" && (err == nil || !strings.Contains(err.Error(), tc.checkErr)) {
				t.Fatalf("Check: %v\nwant %q", err, tc.checkErr)
			}
			if tc.broken {
				// Balances came from the state; the damaged block never
				// reads back as anything but an error.
				bad := 0
				for _, r := range d.store.Records() {
					b, err := d.store.Get(r.Loc)
					switch {
					case err != nil && chaindir.CorruptOf(err) == nil:
						t.Fatalf("get: %v is not a CorruptError", err)
					case err != nil:
						bad++
					case b.Hash != r.Hash:
						t.Fatal("get returned another block")
					}
				}
				if bad == 0 {
					t.Fatal("the damaged block reads back")
				}
				return
			}
			// The next writer repairs the derived files.
			if err := d.Write(func(*Writer) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if err := d.Check(); err != nil {
				t.Fatalf("Check after a write: %v", err)
			}
			d2 := mustOpen(t, dir)
			defer d2.Close()
			if got := viewOf(t, d2); !sameView(got, want) {
				t.Fatal("view after repair and reopen differs")
			}
			if err := d2.Check(); err != nil {
				t.Fatalf("Check after reopen: %v", err)
			}
			indexComplete(t, d2)
		})
	}
}

// TestRepairBeforeBlock: a Dir that has written before finds the torn line
// a crashed writer left. A Write that only adds transfers leaves the
// segments alone (readers skip the torn line); the next Write with a block
// cuts it before appending, and the directory checks and reopens the same.
func TestRepairBeforeBlock(t *testing.T) {
	dir, p := newDir(t)
	g := newGen(p)
	d := mustOpen(t, dir)
	defer d.Close()
	grow(t, d, g, 3, 0)
	recs := d.store.Records()
	seg := filepath.Join(dir, chaindir.SegmentName(recs[len(recs)-1].Loc.Segment))
	size := fileSize(t, seg)
	torn := []byte(`{"type":"block","index":9999,"ti`)
	appendFile(t, seg, torn)
	l := g.transfer(g.miner, newWallet(p, 1).addr, 5000, now).AppendJSON(nil)
	if err := d.Write(func(w *Writer) error { return w.AddMempool(l) }); err != nil {
		t.Fatal(err)
	}
	if got := fileSize(t, seg); got != size+int64(len(torn)) {
		t.Fatalf("a Write of transfers changed the segment: %d bytes, want %d", got, size+int64(len(torn)))
	}
	grow(t, d, g, 2, 0)
	data := readFile(t, seg)
	if bytes.Contains(data, torn) || !bytes.HasSuffix(data, []byte("\n")) {
		t.Fatal("the torn line was not cut before the next block")
	}
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	want := viewOf(t, d)
	d2 := mustOpen(t, dir)
	defer d2.Close()
	if !sameView(viewOf(t, d2), want) || len(d2.mem.Lines()) != 1 {
		t.Fatal("the directory reopens to another view")
	}
}
