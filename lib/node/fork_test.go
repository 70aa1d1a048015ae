package node

import (
	"testing"

	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/wire"
)

// TestSideBranchPolicy: a relayed block (cnj-verify's input) that leaves
// the main chain deeper than Options.MaxForkDepth is refused with
// fork-too-deep, by Submit and its dry run alike, while the same block in
// a download (not Relayed, cnj-sync's) is kept; a relayed side block far
// behind the tip in work is kept but Held (cnj-verify does not pass it
// on), and a competitor of the tip is passed on.
func TestSideBranchPolicy(t *testing.T) {
	dir, p := newDir(t)
	g := newGen(p)
	d := mustOpen(t, dir)
	grow(t, d, g, 10, 0)
	d.Close()
	d, err := OpenWith(dir, Options{MaxForkDepth: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.Now = func() int64 { return now }
	other := newWallet(p, 98).addr
	// on returns the item of a block by another miner on the main-chain
	// block below blocks under the tip.
	on := func(below uint64, relayed bool) Item {
		c := d.Chain()
		parent := c.AtHeight(c.Tip().Height - below)
		b, line := g.mine(parent, parent.Timestamp+1, other, nil)
		return Item{Line: &wire.Line{Raw: line, Block: b}, Number: 1, Relayed: relayed}
	}
	submit := func(it Item) Verdict {
		t.Helper()
		dry, err := d.Submit([]Item{it}, true)
		if err != nil {
			t.Fatal(err)
		}
		vs, err := d.Submit([]Item{it}, false)
		if err != nil {
			t.Fatal(err)
		}
		if rule.CodeOf(dry[0].Err) != rule.CodeOf(vs[0].Err) || dry[0].Held != vs[0].Held {
			t.Fatalf("dry run %+v, real %+v", dry[0], vs[0])
		}
		return vs[0]
	}
	if v := submit(on(4, true)); !rule.Is(v.Err, rule.ForkTooDeep) {
		t.Fatalf("relayed, 4 below the tip: %+v; want fork-too-deep", v)
	}
	if v := submit(on(4, false)); v.Err != nil || v.Held || v.Known {
		t.Fatalf("downloaded, 4 below the tip: %+v; want kept", v)
	}
	if v := submit(on(3, true)); v.Err != nil || !v.Held {
		t.Fatalf("relayed, 3 below the tip (2 blocks of work behind): %+v; want kept and held", v)
	}
	if v := submit(on(1, true)); v.Err != nil || v.Held || v.Tip {
		t.Fatalf("relayed, the tip's competitor: %+v; want kept and passed on", v)
	}
}
