package node

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/wire"
)

// sameNode fails unless a and b show the same chain and pool: tip, every
// block of the tree, the main chain, the pooled transfers.
func sameNode(t *testing.T, a, b *Node) {
	t.Helper()
	ca, cb := a.Chain(), b.Chain()
	if ca.Tip().Hash != cb.Tip().Hash || ca.Len() != cb.Len() {
		t.Fatalf("tip %x of %d blocks, want %x of %d", ca.Tip().Hash[:4], ca.Len(), cb.Tip().Hash[:4], cb.Len())
	}
	for _, r := range b.Store().Records() {
		na, nb := ca.Node(r.Hash), cb.Node(r.Hash)
		if na == nil || na.Invalid != nb.Invalid || na.Loc != nb.Loc || na.Work.Cmp(nb.Work) != 0 {
			t.Fatalf("block %x: %+v, want %+v", r.Hash[:4], na, nb)
		}
	}
	for h := range cb.Tip().Height + 1 {
		if ca.AtHeight(h) == nil || ca.AtHeight(h).Hash != cb.AtHeight(h).Hash {
			t.Fatalf("main chain differs at %d", h)
		}
	}
	ids := func(n *Node) [][32]byte {
		var out [][32]byte
		for _, x := range n.Pool.Txs() {
			out = append(out, x.Hash)
		}
		return out
	}
	if !slices.Equal(ids(a), ids(b)) {
		t.Fatalf("pool %x, want %x", ids(a), ids(b))
	}
}

// openNoLedger opens dir with Options.NoLedger.
func openNoLedger(t *testing.T, dir string) *Node {
	t.Helper()
	o := testOpts
	o.NoLedger = true
	n, err := OpenWith(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// TestNoLedger: a node opened without its ledger shows the chain and the
// pool of a full open. It does so without the ledger while the state file
// is at the tip, or below it with undo data above, and mempool.bin holds
// the pool; it opens in full when blocks above the state file have no
// undo data or a writer appended transfers since mempool.bin. A write
// through it opens it in full first.
func TestNoLedger(t *testing.T) {
	dir, p := newDir(t)
	g := newGen(p)
	w := mustOpen(t, dir)
	grow(t, w, g, int(p.Maturity)+3, 0)
	// A side branch off the tip's parent: in the tree, not on the main chain.
	side, line := g.mine(w.Chain().Tip().Parent, now-100, g.miner.addr, nil)
	if err := w.Write(func(w *Writer) error { _, err := w.AddBlock(side, line, now); return err }); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	full := func() *Node { t.Helper(); n := mustOpen(t, dir); t.Cleanup(func() { n.Close() }); return n }

	n := openNoLedger(t, dir)
	if n.Chain().Ledger() != nil {
		t.Fatal("the state file is at the tip and the pool empty, yet the ledger was decoded")
	}
	sameNode(t, n, full())

	// Blocks stored since the state file (the writer is still open): their
	// undo data says that a writer connected them.
	d := mustOpen(t, dir)
	defer d.Close()
	grow(t, d, g, 2, 0)
	n = openNoLedger(t, dir)
	if n.Chain().Ledger() != nil {
		t.Fatal("the blocks since the state file have undo data, yet the ledger was decoded")
	}
	sameNode(t, n, full())
	// Without it, only the ledger says whether they connect.
	bare := filepath.Join(t.TempDir(), "bare")
	copyDir(t, dir, bare)
	if err := os.Remove(chaindir.Dir(bare).File(chaindir.UndoFile)); err != nil {
		t.Fatal(err)
	}
	n = openNoLedger(t, bare)
	if n.Chain().Ledger() == nil {
		t.Fatal("the state file is behind the tip and no undo data, yet the ledger was not decoded")
	}
	fb := mustOpen(t, bare)
	defer fb.Close()
	sameNode(t, n, fb)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if n = openNoLedger(t, dir); n.Chain().Ledger() != nil {
		t.Fatal("the state file is at the tip again, yet the ledger was decoded")
	}

	// A write through a node opened without its ledger.
	grow(t, n, g, 1, 0)
	if n.Chain().Ledger() == nil {
		t.Fatal("the write left the node without its ledger")
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if full().Chain().Tip().Height != uint64(p.Maturity)+6 {
		t.Fatalf("the write through the node is not on the chain: tip at %d", full().Chain().Tip().Height)
	}

	// A writer pools a transfer: mempool.bin is written with it (the tip
	// moved since the last one).
	d = mustOpen(t, dir)
	defer d.Close()
	pay := func() {
		x := g.transfer(g.miner, g.miner.addr, 1, now)
		vs, err := d.Submit([]Item{{Line: &wire.Line{Raw: x.AppendJSON(nil), Tx: x}, Number: 1}}, false)
		if err != nil || vs[0].Err != nil {
			t.Fatalf("Submit: %v %+v", err, vs)
		}
	}
	pay()
	n = openNoLedger(t, dir)
	if n.Chain().Ledger() != nil || n.Pool.Len() != 1 {
		t.Fatalf("mempool.bin holds the pool: want no ledger and 1 pooled, got %d", n.Pool.Len())
	}
	sameNode(t, n, full())

	// A second transfer is only appended to mempool.jsonl: judging it
	// needs the ledger.
	pay()
	n = openNoLedger(t, dir)
	if n.Chain().Ledger() == nil || n.Pool.Len() != 2 {
		t.Fatalf("a line beyond mempool.bin: want the ledger and 2 pooled, got %d", n.Pool.Len())
	}
	sameNode(t, n, full())
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}
