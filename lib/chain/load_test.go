package chain

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/coniunctum/cnj/lib/blockstore"
	"github.com/coniunctum/cnj/lib/ledger"
	"github.com/coniunctum/cnj/lib/rule"
)

// history builds a tree with two reorganizations and a refused heavier
// fork, and returns the scenario with the store's index: one record per
// stored block in arrival order, rewritten with Invalid as the chain
// reported.
//
//	g - b1 - b2 - b3 - b4 - b5 - b6     b4: M pays A; b5: A pays B
//	  |    //	  |     c2 - c3 - c4                 tip at c3 and c4; c4: M pays A
//	  |
//	  x1 - x2 - ... - x7                 x2 overspends; refused at x7
func history(t *testing.T) (*scenario, []blockstore.Record) {
	p := devnet(t, false)
	s := newScenario(t, p)
	M, N, A, B, W := newWallet(p, 1), newWallet(p, 2), newWallet(p, 3), newWallet(p, 4), newWallet(p, 5)
	ts := int64(genesisTime + 1)
	var recs []blockstore.Record
	index := map[[32]byte]int{}
	keep := func(r *Result) {
		if r == nil || r.Duplicate {
			return
		}
		index[r.Record.Hash] = len(recs)
		recs = append(recs, r.Record)
		for _, h := range r.Invalidated {
			recs[index[h]].Invalid = true
		}
	}
	keep(s.accept("b1", "g", M.addr))
	keep(s.accept("b2", "b1", M.addr))
	keep(s.accept("c2", "b1", N.addr))
	keep(s.accept("c3", "c2", N.addr))
	keep(s.accept("b3", "b2", M.addr)) // tip c3 (first seen at height 3)
	keep(s.accept("c4", "c3", N.addr, s.m.pay(M, A.addr, 7*coin, 1000, ts)))
	keep(s.accept("b4", "b3", M.addr, s.m.pay(M, A.addr, 10*coin, 1000, ts)))
	keep(s.accept("b5", "b4", M.addr, s.m.pay(A, B.addr, 3*coin, 2000, ts)))
	keep(s.accept("b6", "b5", M.addr))
	s.tip("b6")
	prev := "g"
	for h := 1; h <= 7; h++ {
		name := fmt.Sprintf("x%d", h)
		if h == 2 {
			s.block(name, prev, N.addr, blockSpec{}, s.m.pay(W, A.addr, coin, 1000, ts))
		} else {
			s.block(name, prev, N.addr, blockSpec{})
		}
		prev = name
		if h < 7 {
			keep(s.add(name, accepted, ""))
		}
	}
	keep(s.add("x7", rejected, rule.InsufficientFunds))
	s.tip("b6")
	return s, recs
}

// TestLoad: a chain loaded from the index, with or without a ledger
// snapshot, ends where the chain that wrote it is, with the same ledger.
func TestLoad(t *testing.T) {
	s, recs := history(t)
	want := snap(t, s.c.Ledger())
	atMain := func(h uint64) *ledger.Ledger { // a snapshot on the main chain
		l := ledger.New(s.p)
		for i := uint64(1); i <= h; i++ {
			n := s.c.AtHeight(i)
			if _, err := l.Connect(s.m.byID[n.Hash], s.c.MedianTime(n.Parent)); err != nil {
				t.Fatal(err)
			}
		}
		return l
	}
	onSide := func() *ledger.Ledger { // a snapshot at c3, off the main chain
		l := ledger.New(s.p)
		for _, name := range []string{"b1", "c2", "c3"} {
			b := s.names[name]
			if _, err := l.Connect(b, s.c.MedianTime(s.c.Node(b.PrevHash))); err != nil {
				t.Fatal(err)
			}
		}
		return l
	}
	foreign := ledger.New(devnet(t, false)) // its tip is no block of this tree

	for _, tc := range []struct {
		name     string
		led      *ledger.Ledger
		maxReads int // store reads Load may take
	}{
		{"nil", nil, 100},
		{"genesis", ledger.New(s.p), 100},
		{"ancestor", atMain(4), 2},
		{"tip", atMain(6), 0},
		// From c3 back to b1 with the undo data c2 and c3 left in the
		// store, then on to b6: 2 blocks disconnected, 5 connected.
		{"side", onSide(), 7},
		{"foreign", foreign, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(s.p, s.store)
			gets := s.store.Gets()
			if err := c.Load(recs, tc.led); err != nil {
				t.Fatal(err)
			}
			if c.Tip().Hash != s.hash("b6") {
				t.Fatalf("tip %s, want b6", s.nameOf(c.Tip().Hash))
			}
			if !bytes.Equal(snap(t, c.Ledger()), want) {
				t.Fatal("loaded ledger differs")
			}
			if n := s.store.Gets() - gets; n > tc.maxReads {
				t.Errorf("Load read %d blocks, want at most %d", n, tc.maxReads)
			}
			for _, r := range recs {
				if n := c.Node(r.Hash); n == nil || n.Invalid != s.c.Node(r.Hash).Invalid {
					t.Errorf("block %s: %+v", s.nameOf(r.Hash), n)
				}
			}
			checkConsistent(t, c, nil)
			// The loaded chain goes on like the original.
			b := s.m.mine(c.Tip().Hash, newWallet(s.p, 9).addr, blockSpec{})
			if r, err := c.Add(b, nil, now); err != nil || !r.TipChanged {
				t.Fatalf("adding on the loaded tip: %+v, %v", r, err)
			}
			if err := c.Load(recs, nil); err == nil {
				t.Error("Load on a chain that holds blocks")
			}
		})
	}
}

// noUndo is a store that kept no undo data.
type noUndo struct{ *MemStore }

func (noUndo) GetUndo([32]byte, uint64) ([]byte, error) { return nil, nil }

// TestLoadTree: the tree loaded without a ledger, from a snapshot at the
// best valid tip or below it on the main chain with undo data above it,
// is the tree Load builds, reading no block; from any other block
// LoadTree declines, so that the caller loads with Load.
func TestLoadTree(t *testing.T) {
	s, recs := history(t)
	tip := s.c.Tip()
	for _, tc := range []struct {
		name   string
		at     [32]byte
		height uint64
		store  Store
		ok     bool
	}{
		{"tip", tip.Hash, tip.Height, nil, true},
		{"tip without undo", tip.Hash, tip.Height, noUndo{s.store}, true},
		{"ancestor", s.hash("b4"), 4, nil, true},
		{"genesis", s.p.Hash(), 0, nil, true},
		{"ancestor without undo", s.hash("b4"), 4, noUndo{s.store}, false},
		{"side", s.hash("c4"), 4, nil, false},
		{"side below", s.hash("c2"), 2, nil, false},
		{"invalid", s.hash("x6"), 6, nil, false},
		{"wrong height", tip.Hash, tip.Height + 1, nil, false},
		{"unknown", [32]byte{1}, tip.Height, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.store
			if st == nil {
				st = s.store
			}
			c := New(s.p, st)
			gets := s.store.Gets()
			ok, err := c.LoadTree(recs, tc.at, tc.height)
			if err != nil || ok != tc.ok {
				t.Fatalf("LoadTree = %v, %v; want %v", ok, err, tc.ok)
			}
			if n := s.store.Gets() - gets; n != 0 {
				t.Errorf("LoadTree read %d blocks", n)
			}
			if !ok {
				return
			}
			if c.Ledger() != nil || c.Tip() != c.Node(tip.Hash) || c.Len() != s.c.Len() {
				t.Fatalf("tip %s of %d blocks, ledger %v", s.nameOf(c.Tip().Hash), c.Len(), c.Ledger() != nil)
			}
			for h := uint64(0); h <= tip.Height+1; h++ {
				if a, b := c.AtHeight(h), s.c.AtHeight(h); (a == nil) != (b == nil) || a != nil && a.Hash != b.Hash {
					t.Errorf("main chain at %d differs", h)
				}
			}
			for _, r := range recs {
				if n := c.Node(r.Hash); n == nil || n.Invalid != s.c.Node(r.Hash).Invalid || n.Work.Cmp(s.c.Node(r.Hash).Work) != 0 {
					t.Errorf("block %s: %+v", s.nameOf(r.Hash), n)
				}
			}
		})
	}
	if _, err := New(s.p, s.store).LoadTree(recs[1:], tip.Hash, tip.Height); !rule.Is(err, rule.Corrupt) {
		t.Errorf("record before its parent: %v, want corrupt", err)
	}
}

// TestLoadUnmarkedInvalid: after a crash between storing a side branch and
// marking it invalid, Load finds the bad block itself and keeps the best
// valid tip.
func TestLoadUnmarkedInvalid(t *testing.T) {
	s, recs := history(t)
	clean := make([]blockstore.Record, len(recs))
	for i, r := range recs {
		r.Invalid = false
		clean[i] = r
	}
	c := New(s.p, s.store)
	if err := c.Load(clean, nil); err != nil {
		t.Fatal(err)
	}
	if c.Tip().Hash != s.hash("b6") {
		t.Fatalf("tip %s, want b6", s.nameOf(c.Tip().Hash))
	}
	for h := 2; h <= 7; h++ {
		if n := c.Node(s.hash(fmt.Sprintf("x%d", h))); !n.Invalid {
			t.Errorf("x%d not marked invalid", h)
		}
	}
	if c.Node(s.hash("x1")).Invalid {
		t.Error("x1 marked invalid")
	}
	checkConsistent(t, c, s.m)
}

func TestLoadCorrupt(t *testing.T) {
	s, recs := history(t)
	orphan := append([]blockstore.Record{}, recs[1:]...) // b2 comes before its parent b1
	if err := New(s.p, s.store).Load(orphan, nil); !rule.Is(err, rule.Corrupt) {
		t.Errorf("record before its parent: %v, want corrupt", err)
	}
	bad := append([]blockstore.Record{}, recs...)
	bad[1].Height = 7
	if err := New(s.p, s.store).Load(bad, nil); !rule.Is(err, rule.Corrupt) {
		t.Errorf("wrong height: %v, want corrupt", err)
	}
	dup := append(append([]blockstore.Record{}, recs...), recs...)
	c := New(s.p, s.store)
	if err := c.Load(dup, nil); err != nil || c.Tip().Hash != s.hash("b6") {
		t.Errorf("repeated records: %v", err)
	}
}

// TestApply: a second chain on the same store, refreshed record by record
// as the writer reports them, follows the writer through a reorganization.
//
//	g - b1 - b2 - b3
//	       \
//	        c2 - c3 - c4 - c5
func TestApply(t *testing.T) {
	p := devnet(t, false)
	s := newScenario(t, p)
	M, N, A := newWallet(p, 1), newWallet(p, 2), newWallet(p, 3)
	reader := New(p, s.store)
	follow := func(r *Result, wantTipChange bool) {
		t.Helper()
		gets := s.store.Gets()
		got, err := reader.Apply(r.Record, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got.TipChanged != wantTipChange || reader.Tip().Hash != s.c.Tip().Hash {
			t.Fatalf("reader: %+v, tip %s; writer tip %s", got, s.nameOf(reader.Tip().Hash), s.nameOf(s.c.Tip().Hash))
		}
		if s.store.Gets() == gets {
			t.Fatal("Apply with no block did not read it")
		}
		if !bytes.Equal(snap(t, reader.Ledger()), snap(t, s.c.Ledger())) {
			t.Fatal("reader's ledger differs")
		}
		if again, err := reader.Apply(r.Record, nil); err != nil || !again.Duplicate {
			t.Fatalf("second Apply: %+v, %v", again, err)
		}
	}
	puts := s.store.Puts()
	follow(s.accept("b1", "g", M.addr), true)
	follow(s.accept("b2", "b1", M.addr), true)
	follow(s.accept("c2", "b1", N.addr), false)
	follow(s.accept("b3", "b2", M.addr), true)
	follow(s.accept("c3", "c2", N.addr), false)
	ts := s.names["c3"].Timestamp
	follow(s.accept("c4", "c3", N.addr, s.m.pay(M, A.addr, 10*coin, 1000, ts)), true)
	follow(s.accept("c5", "c4", N.addr), true)
	if s.store.Puts() != puts+7 {
		t.Errorf("store holds %d new blocks, want 7 (Apply must not store)", s.store.Puts()-puts)
	}
	checkConsistent(t, reader, s.m)

	// A record the writer marked invalid is kept as invalid, and so are
	// its children.
	x := s.block("x6", "c5", N.addr, blockSpec{})
	loc, err := s.store.Put(x, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := blockstore.Record{Hash: x.Hash, PrevHash: x.PrevHash, Height: x.Index, Timestamp: x.Timestamp, Target: x.Target, Loc: loc, Invalid: true}
	if r, err := reader.Apply(rec, x); err != nil || !r.Side || !reader.Node(x.Hash).Invalid {
		t.Fatalf("invalid record: %+v, %v", r, err)
	}
	if reader.Tip().Hash != s.hash("c5") {
		t.Fatal("an invalid record became the tip")
	}
	// A stored block that breaks a ledger rule on the tip is kept as
	// invalid and refused with its code.
	y := s.block("y6", "c5", N.addr, blockSpec{}, s.m.pay(newWallet(p, 7), A.addr, coin, 1000, ts))
	loc, _ = s.store.Put(y, nil)
	rec = blockstore.Record{Hash: y.Hash, PrevHash: y.PrevHash, Height: y.Index, Timestamp: y.Timestamp, Target: y.Target, Loc: loc, TxCount: 1}
	r, err := reader.Apply(rec, nil)
	if !rule.Is(err, rule.InsufficientFunds) || r == nil || len(r.Invalidated) != 1 || !reader.Node(y.Hash).Invalid {
		t.Fatalf("overspend on the tip: %+v, %v", r, err)
	}
	checkConsistent(t, reader, s.m)
	if _, err := reader.Apply(blockstore.Record{Hash: [32]byte{1}, PrevHash: [32]byte{2}}, nil); !rule.Is(err, rule.UnknownParent) {
		t.Errorf("unknown parent: %v", err)
	}
}

// TestReorgAfterReopen: a chain opened from the store (Load at its tip's
// snapshot) holds no undo data of its own; a reorganization of depth d
// reads the d disconnected blocks' undo data back from the store and
// O(d) blocks, not the chain from genesis. With a store that keeps none
// (a directory of an older build) it replays from genesis, as before.
//
//	g - b1 - ... - b30
//	               \
//	                c(31-d) - ... - c31    d blocks below the tip, one more
func TestReorgAfterReopen(t *testing.T) {
	for _, d := range []int{1, 10} {
		for _, noUndo := range []bool{false, true} {
			t.Run(fmt.Sprintf("depth %d, no undo data %v", d, noUndo), func(t *testing.T) {
				p := devnet(t, false)
				s := newScenario(t, p)
				s.store.NoUndo = noUndo
				M, N := newWallet(p, 1), newWallet(p, 2)
				var recs []blockstore.Record
				prev := "g"
				for h := 1; h <= 30; h++ {
					name := fmt.Sprintf("b%d", h)
					recs = append(recs, s.accept(name, prev, M.addr).Record)
					prev = name
				}
				snapshot := s.c.Ledger().Clone()
				want := snap(t, snapshot)

				c := New(p, s.store) // the next process
				if err := c.Load(recs, snapshot); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(snap(t, c.Ledger()), want) || len(c.undo) != 0 {
					t.Fatalf("reopened: %d blocks of undo data held", len(c.undo))
				}
				gets := s.store.Gets()
				prev = fmt.Sprintf("b%d", 30-d)
				var r *Result
				for h := 31 - d; h <= 31; h++ {
					name := fmt.Sprintf("c%d", h)
					b := s.block(name, prev, N.addr, blockSpec{})
					var err error
					if r, err = c.Add(b, nil, now); err != nil {
						t.Fatal(err)
					}
					prev = name
				}
				if !r.TipChanged || len(r.Disconnected) != d || c.Tip().Hash != s.hash("c31") {
					t.Fatalf("the reorganization: %+v", r)
				}
				reads := s.store.Gets() - gets
				if noUndo {
					if reads < 30 {
						t.Fatalf("without undo data the reorganization read %d blocks: it did not replay", reads)
					}
				} else if reads > 2*d {
					t.Fatalf("a reorganization of depth %d read %d blocks, want at most %d", d, reads, 2*d)
				}
				checkConsistent(t, c, nil)
				t.Logf("read %d blocks", reads)
			})
		}
	}
}

// TestDeepReorg: with undo data for only the last 2 blocks in memory and a
// store that keeps none (a directory of an older build), a deeper
// reorganization replays the ledger from genesis, and a failed one keeps
// the old state.
//
//	g - b1 - b2 - ... - b6 - b7 - b8
//	       \
//	        c2 - ... - c7            c6 pays from M, c7 wins at height 7
//	                 \
//	                  d5 bad - d6 - d7 - d8 - d9
func TestDeepReorg(t *testing.T) {
	p := devnet(t, false)
	s := newScenario(t, p)
	s.store.NoUndo = true
	s.c.depth = 2
	M, N, A, W := newWallet(p, 1), newWallet(p, 2), newWallet(p, 3), newWallet(p, 4)
	ts := int64(genesisTime + 1)
	prev := "g"
	for i := 1; i <= 6; i++ {
		s.accept(fmt.Sprintf("b%d", i), prev, M.addr)
		prev = fmt.Sprintf("b%d", i)
		if len(s.c.undo) > 2 {
			t.Fatalf("undo data of %d blocks held, depth 2", len(s.c.undo))
		}
	}
	prev = "b1"
	for i := 2; i <= 7; i++ {
		var r *Result
		if i == 6 {
			r = s.accept(fmt.Sprintf("c%d", i), prev, N.addr, s.m.pay(M, A.addr, coin, 1000, ts))
		} else {
			r = s.accept(fmt.Sprintf("c%d", i), prev, N.addr)
		}
		prev = fmt.Sprintf("c%d", i)
		if i == 7 && (len(r.Disconnected) != 5 || len(r.Connected) != 6) {
			t.Fatalf("c7: disconnected %d, connected %d", len(r.Disconnected), len(r.Connected))
		}
	}
	s.tip("c7")
	if len(s.c.undo) != 2 || s.c.undo[s.hash("c7")] == nil || s.c.undo[s.hash("c6")] == nil {
		t.Fatalf("undo data after the replay: %d blocks", len(s.c.undo))
	}
	before := snap(t, s.c.Ledger())
	prev = "c4"
	for i := 5; i <= 9; i++ {
		name := fmt.Sprintf("d%d", i)
		if i == 5 {
			s.block(name, prev, N.addr, blockSpec{}, s.m.pay(W, A.addr, coin, 1000, ts))
		} else {
			s.block(name, prev, N.addr, blockSpec{})
		}
		prev = name
	}
	for i := 5; i <= 7; i++ {
		s.add(fmt.Sprintf("d%d", i), accepted, "")
	}
	r := s.add("d8", rejected, rule.InsufficientFunds)
	if len(r.Invalidated) != 4 || r.Invalidated[0] != s.hash("d5") {
		t.Fatalf("d8: invalidated %d", len(r.Invalidated))
	}
	s.tip("c7")
	if !bytes.Equal(before, snap(t, s.c.Ledger())) {
		t.Fatal("a failed replay changed the ledger")
	}
	s.add("d9", rejected, rule.InvalidAncestor)
	prev = "b6"
	for i := 7; i <= 8; i++ {
		s.accept(fmt.Sprintf("b%d", i), prev, M.addr)
		prev = fmt.Sprintf("b%d", i)
	}
	s.tip("b8")
}
