package node

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chaindir"
)

// Two Dirs on one directory stand for two processes (cnj-verify and
// cnj-mine): each has its own lock descriptor, so they exclude each other
// exactly as processes do, and each must catch up inside the lock.
func TestTwoWritersAlternate(t *testing.T) {
	smallSegments(t, 6<<10)
	dir, p := newDir(t)
	a, b := mustOpen(t, dir), mustOpen(t, dir)
	reader := mustOpen(t, dir)
	defer reader.Close()
	ga, gb := newGen(p), newGen(p)
	gb.miner = newWallet(p, 99)
	gb.seq = 1 << 40 // distinct transfer ids
	var fork *chain.BlockNode
	for i := 0; i < 30; i++ {
		w, g := a, ga
		if i%2 == 1 {
			w, g = b, gb
		}
		err := w.Write(func(wr *Writer) error {
			// Each writer sees the other's blocks: it builds on the tip.
			c := w.Chain()
			if c.Tip().Height != uint64(i) {
				t.Fatalf("step %d: writer sees height %d", i, c.Tip().Height)
			}
			blk, line := g.next(c, 2)
			res, err := wr.AddBlock(blk, line, now)
			if err != nil || !res.TipChanged {
				t.Fatalf("step %d: %v %+v", i, err, res)
			}
			if i == 10 {
				fork = c.Tip().Parent
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		changed, err := reader.refresh()
		if err != nil || !changed || reader.Chain().Tip().Height != uint64(i+1) {
			t.Fatalf("step %d: reader: changed %v err %v height %d", i, changed, err, reader.Chain().Tip().Height)
		}
	}
	// A side branch stored by b from a stale parent, then a longer one that
	// takes over, both seen by a.
	err := b.Write(func(wr *Writer) error {
		parent := fork
		for j := 0; j < 25; j++ {
			blk, line := gb.mine(parent, parent.Timestamp+1, gb.miner.addr, nil)
			res, err := wr.AddBlock(blk, line, now)
			if err != nil {
				return err
			}
			parent = b.Chain().Node(res.Record.Hash)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.refresh(); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.refresh(); err != nil {
		t.Fatal(err)
	}
	va, vb, vr := viewOf(t, a), viewOf(t, b), viewOf(t, reader)
	if !sameView(va, vb) || !sameView(va, vr) || va.height != 35 {
		t.Fatalf("views differ: %d %d %d", va.height, vb.height, vr.height)
	}
	for _, d := range []*Node{a, b, reader} {
		if err := d.Check(); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	b.Close()
	d := mustOpen(t, dir)
	defer d.Close()
	if !sameView(viewOf(t, d), va) {
		t.Fatal("reopened view differs")
	}
}

// A reader that finds a block in the segment before its index record, then
// the record, counts it once.
func TestReaderSeesUnindexedBlock(t *testing.T) {
	dir, p := newDir(t)
	g := newGen(p)
	w := mustOpen(t, dir)
	defer w.Close()
	grow(t, w, g, 5, 1)
	r := mustOpen(t, dir)
	defer r.Close()
	if r.TipChanged() {
		t.Fatal("TipChanged right after Open")
	}
	// The writer's line reaches the segment; its index record does not yet.
	blk, line := g.next(w.Chain(), 1)
	appendFile(t, filepath.Join(dir, chaindir.SegmentName(0)), append(bytes.Clone(line), '\n'))
	if !r.TipChanged() {
		t.Fatal("TipChanged missed a new line")
	}
	if changed, err := r.refresh(); err != nil || !changed || r.Chain().Tip().Hash != blk.Hash {
		t.Fatalf("Refresh: %v %v", changed, err)
	}
	if r.TipChanged() {
		t.Fatal("TipChanged after Refresh")
	}
	// The writer (after a crash, say) indexes it.
	if err := w.Write(func(*Writer) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if w.Chain().Tip().Hash != blk.Hash {
		t.Fatalf("writer: tip %d", w.Chain().Tip().Height)
	}
	indexComplete(t, w)
	if !r.TipChanged() {
		t.Fatal("TipChanged missed the index")
	}
	if _, err := r.refresh(); err != nil {
		t.Fatal(err)
	}
	if len(r.store.Records()) != 6 {
		t.Fatalf("reader: %d records", len(r.store.Records()))
	}
	indexComplete(t, r)
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	if changed, err := r.refresh(); err != nil || changed {
		t.Fatalf("idle Refresh: %v %v", changed, err)
	}
}

// A reader follows a Reindex by another process (the index replaced).
func TestReaderFollowsReindex(t *testing.T) {
	dir, p := newDir(t)
	g := newGen(p)
	w := mustOpen(t, dir)
	grow(t, w, g, 6, 2)
	w.Close()
	r := mustOpen(t, dir)
	defer r.Close()
	want := viewOf(t, r)
	if _, err := Reindex(dir); err != nil {
		t.Fatal(err)
	}
	if !r.TipChanged() {
		t.Fatal("TipChanged missed a replaced index")
	}
	if _, err := r.refresh(); err != nil {
		t.Fatal(err)
	}
	if !sameView(viewOf(t, r), want) {
		t.Fatal("view differs")
	}
}

func TestMempoolFile(t *testing.T) {
	dir, p := newDir(t)
	g := newGen(p)
	a, b := mustOpen(t, dir), mustOpen(t, dir)
	defer a.Close()
	defer b.Close()
	l1 := g.transfer(g.miner, newWallet(p, 1).addr, 5000, now).AppendJSON(nil)
	l2 := g.transfer(g.miner, newWallet(p, 2).addr, 5000, now).AppendJSON(nil)
	l3 := g.transfer(g.miner, newWallet(p, 3).addr, 5000, now).AppendJSON(nil)
	if err := a.Write(func(w *Writer) error { return w.AddMempool(l1, l2) }); err != nil {
		t.Fatal(err)
	}
	if len(a.mem.Lines()) != 2 {
		t.Fatal("writer's mempool")
	}
	if changed, err := b.refresh(); err != nil || !changed || len(b.mem.Lines()) != 2 || !bytes.Equal(b.mem.Lines()[1], l2) {
		t.Fatalf("reader: %v %v %d", changed, err, len(b.mem.Lines()))
	}
	// A torn last line is ignored by readers and cut by the next writer.
	path := filepath.Join(dir, chaindir.MempoolFile)
	appendFile(t, path, l3[:50])
	if _, err := b.refresh(); err != nil || len(b.mem.Lines()) != 2 {
		t.Fatalf("torn line read: %d", len(b.mem.Lines()))
	}
	if err := b.Write(func(w *Writer) error { return w.AddMempool(l3) }); err != nil {
		t.Fatal(err)
	}
	want := string(l1) + "\n" + string(l2) + "\n" + string(l3) + "\n"
	if got := string(readFile(t, path)); got != want {
		t.Fatalf("mempool.jsonl = %q", got)
	}
	// Rewritten atomically when transfers leave: a new inode.
	before, _ := chaindir.StampFile(path)
	if err := b.Write(func(w *Writer) error { return w.SetMempool([][]byte{l3}) }); err != nil {
		t.Fatal(err)
	}
	after, _ := chaindir.StampFile(path)
	if before.Ino == after.Ino {
		t.Fatal("SetMempool rewrote in place")
	}
	if changed, err := a.refresh(); err != nil || !changed || len(a.mem.Lines()) != 1 || !bytes.Equal(a.mem.Lines()[0], l3) {
		t.Fatalf("after SetMempool: %v %v %d", changed, err, len(a.mem.Lines()))
	}
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
	// The same lines again: the file is left as it is (no rewrite, no
	// fsync), unless it has a torn tail, which a rewrite removes.
	if err := a.Write(func(w *Writer) error { return w.SetMempool([][]byte{l3}) }); err != nil {
		t.Fatal(err)
	}
	if again, _ := chaindir.StampFile(path); again.Ino != after.Ino {
		t.Fatal("SetMempool rewrote a file that held its lines")
	}
	appendFile(t, path, l1[:30])
	if err := a.Write(func(w *Writer) error { return w.SetMempool([][]byte{l3}) }); err != nil {
		t.Fatal(err)
	}
	if got := string(readFile(t, path)); got != string(l3)+"\n" {
		t.Fatalf("torn tail kept: mempool.jsonl = %q", got)
	}
	if err := a.Write(func(w *Writer) error { return w.AddMempool([]byte("a\nb")) }); err == nil {
		t.Fatal("a line with a newline was accepted")
	}
	var saved *Writer
	a.Write(func(w *Writer) error { saved = w; return nil })
	if err := saved.AddMempool(l1); err == nil {
		t.Fatal("Writer used after Write")
	}
	os.Remove(path)
	if _, err := a.refresh(); err != nil || len(a.mem.Lines()) != 0 {
		t.Fatal("removed mempool.jsonl")
	}
}
