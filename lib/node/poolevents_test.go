package node

import (
	"testing"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/wire"
)

// TestPoolEventsOfReorg: a reorganization that abandons a block records,
// in the write that moved the tip, its transfer that went back into the
// pool (returned, with the block) and the pooled transfer that no longer
// fits and was dropped (with its reason), for the relay and the wallet
// holder.
//
//	T - A1(x)            pool: z (w1 spends x's credit)
//	  \ B1 - B2          more work: A1 is abandoned
func TestPoolEventsOfReorg(t *testing.T) {
	dir, p := newDir(t)
	g := newGen(p)
	d := mustOpen(t, dir)
	defer d.Close()
	d.Now = func() int64 { return now }
	grow(t, d, g, 6, 0)
	w1, w2 := newWallet(p, 1), newWallet(p, 2)
	blockItem := func(b *block.Block, line []byte) Item {
		return Item{Line: &wire.Line{Raw: line, Block: b}, Number: 1}
	}
	txItem := func(x *tx.Tx) Item { return Item{Line: &wire.Line{Raw: x.AppendJSON(nil), Tx: x}, Number: 1} }
	submit := func(it Item) {
		t.Helper()
		vs, err := d.Submit([]Item{it}, false)
		if err != nil || vs[0].Err != nil || vs[0].Known {
			t.Fatalf("Submit: %+v, %v", vs, err)
		}
	}
	tip := d.Chain().Tip()
	x := g.transfer(g.miner, w1.addr, 50_000, now-100)
	a1, a1Line := g.mine(tip, now-100, g.miner.addr, []*tx.Tx{x})
	submit(blockItem(a1, a1Line))
	z := g.transfer(w1, w2.addr, 40_000, now-90)
	submit(txItem(z))
	if evs, _, err := d.Dir().ReadPoolEvents(); err != nil || len(evs) != 0 {
		t.Fatalf("before the reorganization: %+v, %v", evs, err)
	}
	b1, b1Line := g.mine(tip, now-99, g.miner.addr, nil)
	submit(blockItem(b1, b1Line))
	b2node := d.Chain().Node(b1.Hash)
	b2, b2Line := g.mine(b2node, now-98, g.miner.addr, nil)
	submit(blockItem(b2, b2Line))
	if d.Chain().Tip().Hash != b2.Hash || !d.Pool.Has(x.Hash) || d.Pool.Has(z.Hash) {
		t.Fatalf("after the reorganization: tip %x, x pooled %v, z pooled %v", d.Chain().Tip().Hash, d.Pool.Has(x.Hash), d.Pool.Has(z.Hash))
	}
	evs, _, err := d.Dir().ReadPoolEvents()
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2: %+v", len(evs), evs)
	}
	if e := evs[0]; e.Event != chaindir.EventReturned || e.Hash != x.Hash || e.Block != a1.Hash || e.Time != now || string(e.Tx) != string(x.AppendJSON(nil)) {
		t.Errorf("first event %+v, want x returned from A1", e)
	}
	if e := evs[1]; e.Event != chaindir.EventDropped || e.Hash != z.Hash || e.Reason != rule.InsufficientFunds {
		t.Errorf("second event %+v, want z dropped for insufficient-funds", e)
	}
	// A block that only extends the tip and mines x records nothing more.
	b3, b3Line := g.mine(d.Chain().Tip(), now-97, g.miner.addr, []*tx.Tx{x})
	submit(blockItem(b3, b3Line))
	if evs, _, _ := d.Dir().ReadPoolEvents(); len(evs) != 2 {
		t.Errorf("after mining x: %d events, want 2", len(evs))
	}
}
