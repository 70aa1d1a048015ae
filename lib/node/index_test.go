package node

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/coniunctum/cnj/lib/chaindir"
)

// TestIndexInSteps: while a node indexes in steps, its writes leave the
// transfer index behind until they have connected a step of transactions;
// the function IndexInSteps returns, and Close, bring it to the tip.
func TestIndexInSteps(t *testing.T) {
	// The state file is written with every block, so that Close has no
	// state to write: it must end the steps on its own.
	stateEveryBlocks(t, 1)
	dir, p := newDir(t)
	g := newGen(p)
	d := mustOpen(t, dir)
	grow(t, d, g, 4, 2) // the miner's rewards mature: then 3 transactions a block
	at := func() [32]byte { return indexTip(t, dir, d) }
	tip := func() [32]byte { return d.Chain().Tip().Hash }
	if at() != tip() {
		t.Fatal("a write without steps left the index behind")
	}

	end := d.IndexInSteps(7)
	held := at()
	grow(t, d, g, 2, 2) // 6 transactions: less than a step
	if at() != held {
		t.Fatal("a write within a step brought the index along")
	}
	grow(t, d, g, 1, 2) // 9: a step
	if at() != tip() {
		t.Fatal("the index is behind after a step")
	}
	grow(t, d, g, 1, 2)
	if at() == tip() {
		t.Fatal("a write within a step brought the index along")
	}
	if err := end(); err != nil {
		t.Fatal(err)
	}
	if at() != tip() {
		t.Fatal("the index is behind once the steps ended")
	}
	if err := end(); err != nil { // ending twice does nothing
		t.Fatal(err)
	}
	grow(t, d, g, 1, 2)
	if at() != tip() {
		t.Fatal("a write after the steps ended left the index behind")
	}

	// A step whose update fails (the index cannot be opened) leaves the
	// index behind; the end tries again, though no write is left to do.
	ix := d.Dir().File(chaindir.TxIndexFile)
	if err := os.Rename(ix, ix+".aside"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(ix, "in-the-way"), 0o755); err != nil {
		t.Fatal(err)
	}
	end = d.IndexInSteps(3)
	grow(t, d, g, 1, 2) // a step: its update fails
	if d.IndexError() == nil {
		t.Fatal("the update of the index did not fail")
	}
	if err := os.RemoveAll(ix); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(ix+".aside", ix); err != nil {
		t.Fatal(err)
	}
	if err := end(); err != nil {
		t.Fatal(err)
	}
	if d.IndexError() != nil || at() != tip() {
		t.Fatalf("the end of the steps left the index behind after a failed update (%v)", d.IndexError())
	}

	d.IndexInSteps(0) // DefaultIndexStep
	grow(t, d, g, 2, 2)
	if at() == tip() {
		t.Fatal("a write within a step brought the index along")
	}
	want := tip()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = mustOpen(t, dir)
	defer d.Close()
	if got := indexTip(t, dir, d); got != want {
		t.Fatal("Close did not bring the index to the tip")
	}
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
}
