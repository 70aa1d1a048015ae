package node

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"

	"github.com/cespare/xxhash/v2"

	"github.com/coniunctum/cnj/lib/blockstore"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/rule"
)

// fork adds, one Write each, n blocks of a branch that leaves the main
// chain d blocks below the tip, mined by another key, and returns the
// last.
func fork(t testing.TB, d *Node, g *gen, depth, n int) *chain.BlockNode {
	t.Helper()
	c := d.Chain()
	parent := c.AtHeight(c.Tip().Height - uint64(depth))
	other := newWallet(g.p, 99).addr
	for i := 0; i < n; i++ {
		err := d.Write(func(w *Writer) error {
			b, line := g.mine(parent, parent.Timestamp+1, other, nil)
			if _, err := w.AddBlock(b, line, now); err != nil {
				return err
			}
			parent = d.Chain().Node(b.Hash)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return parent
}

// TestUndoFile: the blocks a write connects leave their undo data in the
// undo file; a process that opens the directory afterwards reorganizes
// through them with it, and the result is what a replay of the blocks
// gives (Check). Reindex writes the same records again.
func TestUndoFile(t *testing.T) {
	dir, p := newDir(t)
	g := newGen(p)
	d := mustOpen(t, dir)
	grow(t, d, g, 12, 2)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	recs, err := blockstore.ReadUndoFile(chaindir.Dir(dir), p.Hash())
	if err != nil || len(recs) != 12 {
		t.Fatalf("undo file: %d records, %v; want one per block", len(recs), err)
	}

	// On a copy whose block 1 cannot be read, the reorganization still
	// goes through: it reads back undo data and the blocks it moves, never
	// the chain from genesis.
	damaged := dir + "-damaged"
	copyDir(t, dir, damaged)
	seg := chaindir.Dir(damaged).File(chaindir.SegmentName(0))
	raw := readFile(t, seg)
	i := bytes.Index(raw, []byte(`"hash":"`)) + len(`"hash":"`)
	raw[i] ^= 1 // '0'<->'1', 'a'<->'`'...: the line no longer matches its hash
	if err := os.WriteFile(seg, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	gd := *g
	dd := mustOpen(t, damaged)
	if tip := fork(t, dd, &gd, 3, 4); dd.Chain().Tip() != tip {
		t.Fatal("on the copy, the heavier branch did not become the tip")
	}
	dd.Close()

	d = mustOpen(t, dir)
	defer d.Close()
	tip := fork(t, d, g, 3, 4)
	if d.Chain().Tip() != tip {
		t.Fatal("the heavier branch did not become the tip")
	}
	if err := d.Check(); err != nil {
		t.Fatalf("Check after a reorganization with undo data from the file: %v", err)
	}
	after, err := blockstore.ReadUndoFile(chaindir.Dir(dir), p.Hash())
	if err != nil || len(after) != 12+4 {
		t.Fatalf("undo file after the fork: %d records, %v", len(after), err)
	}

	// Reindex writes the undo data of the main chain, which Check finds
	// equal to a replay's.
	if _, err := Reindex(dir); err != nil {
		t.Fatal(err)
	}
	again, err := blockstore.ReadUndoFile(chaindir.Dir(dir), p.Hash())
	if err != nil || len(again) != int(tip.Height) {
		t.Fatalf("undo file after reindex: %d records, %v; want %d", len(again), err, tip.Height)
	}
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
}

// TestUndoFileDamage: a damaged undo record is reported by Check (corrupt,
// naming the undo file) but never used: a reorganization through its
// block replays instead and stays right; Reindex repairs the file.
func TestUndoFileDamage(t *testing.T) {
	dir, p := newDir(t)
	g := newGen(p)
	d := mustOpen(t, dir)
	grow(t, d, g, 8, 2)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	path := chaindir.Dir(dir).File(chaindir.UndoFile)
	data := readFile(t, path)
	data[len(data)-64-5] ^= 0x40 // inside the tip's undo data
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	d = mustOpen(t, dir)
	defer d.Close()
	if err := d.Check(); rule.CodeOf(err) != rule.Corrupt || chaindir.CorruptOf(err).File != chaindir.UndoFile {
		t.Fatalf("Check of a damaged undo record: %v", err)
	}
	fork(t, d, g, 1, 2)
	if _, err := Reindex(dir); err != nil {
		t.Fatal(err)
	}
	if err := d.Check(); err != nil {
		t.Fatalf("after a reorganization past the damaged record and a reindex: %v", err)
	}
}

// TestOldDirectory: a directory of an older build, with no undo file and a
// state file of the older ledger snapshot, opens (replaying its blocks, as
// the state cannot be read), passes Check, reorganizes (replaying, as no
// undo data is kept), and the next write brings both files up to date.
func TestOldDirectory(t *testing.T) {
	dir, p := newDir(t)
	g := newGen(p)
	d := mustOpen(t, dir)
	grow(t, d, g, 6, 0) // no transfers: the ids of the two snapshot versions are alike
	want := viewOf(t, d)
	recs := append([]blockstore.Record(nil), d.Store().Records()...)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	cd := chaindir.Dir(dir)
	raw, err := blockstore.ReadStateFile(cd)
	if err != nil {
		t.Fatal(err)
	}
	sn, err := blockstore.DecodeStateFile(raw, p.Hash())
	if err != nil {
		t.Fatal(err)
	}
	old := append([]byte(nil), sn.Ledger...)
	old[len("CNJ-LD-")] = 1
	binary.BigEndian.PutUint64(old[len(old)-8:], xxhash.Sum64(old[:len(old)-8]))
	sn.Ledger = old
	if err := blockstore.WriteDerived(cd, p.Hash(), recs, sn); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(cd.File(chaindir.UndoFile)); err != nil {
		t.Fatal(err)
	}

	d = mustOpen(t, dir)
	defer d.Close()
	if got := viewOf(t, d); !sameView(got, want) {
		t.Fatal("the old directory opens to another view")
	}
	if d.Store().StateError() == nil {
		t.Fatal("the older snapshot was used")
	}
	if err := d.Check(); err != nil {
		t.Fatalf("Check of the old directory: %v", err)
	}
	fork(t, d, g, 2, 3)
	if err := d.Check(); err != nil {
		t.Fatalf("Check after a reorganization: %v", err)
	}
	raw, err = blockstore.ReadStateFile(cd)
	if err != nil {
		t.Fatal(err)
	}
	if sn, err = blockstore.DecodeStateFile(raw, p.Hash()); err != nil || bytes.Equal(sn.Ledger, old) {
		t.Fatalf("the first write did not replace the older state file: %v", err)
	}
	if recs, err := blockstore.ReadUndoFile(cd, p.Hash()); err != nil || len(recs) == 0 {
		t.Fatalf("no undo file after a write: %d records, %v", len(recs), err)
	}
}
