package chain

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"testing"

	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/blockstore"
	"github.com/coniunctum/cnj/lib/pow"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

const coin = amount.Coin

// TestForkChoice: equal work keeps the first seen, more work wins, and a
// reorganization leaves the balances of a fresh replay.
//
//	g - b1 - b2 - b3 - b4 - b5
//	       \
//	        c2 - c3 - c4
//
// M mines the b blocks, N the c blocks; b4 pays B 5 CNJ and c4 pays A 10
// CNJ, both from M's b1 reward, which matures at height 4.
func TestForkChoice(t *testing.T) {
	p := devnet(t, false)
	s := newScenario(t, p)
	M, N, A, B := newWallet(p, 1), newWallet(p, 4), newWallet(p, 2), newWallet(p, 3)

	s.accept("b1", "g", M.addr)
	s.tip("b1")
	s.accept("b2", "b1", M.addr)
	s.tip("b2")
	if r := s.accept("c2", "b1", N.addr); !r.Side || r.TipChanged {
		t.Fatalf("c2: %+v, want a side block", r)
	}
	s.tip("b2") // equal work: the first seen stays
	s.accept("b3", "b2", M.addr)
	s.tip("b3")
	s.accept("c3", "c2", N.addr)
	s.tip("b3")

	ts := s.names["c3"].Timestamp
	r := s.accept("c4", "c3", N.addr, s.m.pay(M, A.addr, 10*coin, 1000, ts))
	s.tip("c4") // more work wins
	if r.Side || !r.TipChanged {
		t.Fatalf("c4: %+v, want a reorganization", r)
	}
	if got := s.blockNames(r.Disconnected); !slices.Equal(got, []string{"b3", "b2"}) {
		t.Errorf("c4 disconnected %v, want [b3 b2]", got)
	}
	if got := s.blockNames(r.Connected); !slices.Equal(got, []string{"c2", "c3", "c4"}) {
		t.Errorf("c4 connected %v, want [c2 c3 c4]", got)
	}
	if got := s.c.Ledger().Balance(A.addr).Confirmed; got != 10*coin {
		t.Errorf("A holds %d after c4, want %d", got, 10*coin)
	}

	s.accept("b4", "b3", M.addr, s.m.pay(M, B.addr, 5*coin, 1000, ts))
	s.tip("c4") // equal work again
	r = s.accept("b5", "b4", M.addr)
	s.tip("b5")
	if got := s.blockNames(r.Disconnected); !slices.Equal(got, []string{"c4", "c3", "c2"}) {
		t.Errorf("b5 disconnected %v, want [c4 c3 c2]", got)
	}
	if got := s.blockNames(r.Connected); !slices.Equal(got, []string{"b2", "b3", "b4", "b5"}) {
		t.Errorf("b5 connected %v, want [b2 b3 b4 b5]", got)
	}
	led := s.c.Ledger()
	if a, b := led.Balance(A.addr), led.Balance(B.addr); a.Confirmed != 0 || a.Immature != 0 || b.Confirmed != 5*coin {
		t.Errorf("after b5: A %+v, B %+v; want A empty, B 5 CNJ", a, b)
	}
	if c4, b4 := s.names["c4"].Txs[0], s.names["b4"].Txs[0]; led.HasID(c4.Sender, c4.ID) || !led.HasID(b4.Sender, b4.ID) {
		t.Error("recent ids not those of the main chain")
	}

	// Known blocks are passed over quietly, on either branch.
	puts := s.store.Puts()
	s.add("c4", duplicate, "")
	s.add("b2", duplicate, "")
	if s.store.Puts() != puts {
		t.Error("a duplicate was stored again")
	}
	s.tip("b5")

	// A block whose parent never arrived.
	s.block("o6", "b5", M.addr, blockSpec{})
	s.reject("o7", "o6", M.addr, blockSpec{}, rule.UnknownParent)
	s.tip("b5")

	// The chain's view of the tree.
	if n := s.c.Node(s.hash("c4")); n == nil || n.Height != 4 || n.Parent != s.c.Node(s.hash("c3")) || n.TxCount != 1 {
		t.Errorf("node c4: %+v", n)
	}
	if s.c.AtHeight(2).Hash != s.hash("b2") || s.c.Len() != 9 {
		t.Errorf("AtHeight(2) or Len (%d) wrong", s.c.Len())
	}
}

// TestLongerChainWithLessWorkLoses: on a retargeting devnet, blocks 1 s
// apart get harder targets than blocks 10 s apart, so a shorter branch can
// carry more work.
//
//	g - l1 - l2 - ... - l13 - l14     10 s apart: easy, longer
//	  \
//	   a1 - a2 - ... - a10            1 s apart: hard, heavier
func TestLongerChainWithLessWorkLoses(t *testing.T) {
	p := devnet(t, true)
	s := newScenario(t, p)
	M, N := newWallet(p, 1), newWallet(p, 2)

	prev := "g"
	for i := 1; i <= 14; i++ {
		name := fmt.Sprintf("l%d", i)
		s.block(name, prev, M.addr, blockSpec{dt: 10})
		prev = name
	}
	prev = "g"
	for i := 1; i <= 10; i++ {
		name := fmt.Sprintf("a%d", i)
		s.block(name, prev, N.addr, blockSpec{dt: 1})
		prev = name
	}
	work := func(prefix string, n int) *big.Int {
		w := new(big.Int)
		for i := 1; i <= n; i++ {
			tg := s.names[fmt.Sprintf("%s%d", prefix, i)].Target
			w.Add(w, pow.Work(&tg))
		}
		return w
	}
	if work("a", 10).Cmp(work("l", 14)) <= 0 {
		t.Fatalf("precondition: a1..a10 (work %v) must outweigh l1..l14 (work %v)", work("a", 10), work("l", 14))
	}

	for i := 1; i <= 13; i++ {
		s.add(fmt.Sprintf("l%d", i), accepted, "")
	}
	s.tip("l13")
	switched := 0
	for i := 1; i <= 10; i++ {
		s.add(fmt.Sprintf("a%d", i), accepted, "")
		heavier := work("a", i).Cmp(work("l", 13)) > 0
		if heavier != (s.c.Tip().Hash == s.hash(fmt.Sprintf("a%d", i))) {
			t.Fatalf("after a%d: tip %s, branch a heavier: %v", i, s.nameOf(s.c.Tip().Hash), heavier)
		}
		if heavier && switched == 0 {
			switched = i
		}
	}
	s.tip("a10")
	if switched == 0 || switched >= 13 {
		t.Fatalf("switched to the a branch at a%d", switched)
	}
	// The l branch grows longer still but keeps less work.
	s.add("l14", accepted, "")
	s.tip("a10")
	if l, a := s.c.Node(s.hash("l14")), s.c.Tip(); l.Height <= a.Height || l.Work.Cmp(a.Work) >= 0 {
		t.Fatalf("l14 at %d with work %v, tip at %d with work %v", l.Height, l.Work, a.Height, a.Work)
	}

	// Loaded from the index, with or without a ledger, the tree has the
	// same work block by block: targets change along both branches.
	var recs []blockstore.Record
	for _, name := range []string{"l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9", "l10", "l11", "l12", "l13",
		"a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10", "l14"} {
		recs = append(recs, s.c.Node(s.hash(name)).Record())
	}
	loaded, tree := New(p, s.store), New(p, s.store)
	if err := loaded.Load(recs, nil); err != nil {
		t.Fatal(err)
	}
	if ok, err := tree.LoadTree(recs, s.hash("a10"), 10); !ok || err != nil {
		t.Fatalf("LoadTree at a10: %v %v", ok, err)
	}
	for _, r := range recs {
		want := s.c.Node(r.Hash).Work
		if loaded.Node(r.Hash).Work.Cmp(want) != 0 || tree.Node(r.Hash).Work.Cmp(want) != 0 {
			t.Fatalf("block %s: work %v and %v loaded, %v added", s.nameOf(r.Hash), loaded.Node(r.Hash).Work, tree.Node(r.Hash).Work, want)
		}
	}
	if loaded.Tip().Hash != s.hash("a10") || tree.Tip().Hash != s.hash("a10") {
		t.Fatalf("loaded tips %s and %s, want a10", s.nameOf(loaded.Tip().Hash), s.nameOf(tree.Tip().Hash))
	}
}

// TestInvalidForkNeverWins: a heavier fork holding an overspend at depth k
// is refused when it would take over; the old tip stays, the bad block and
// its descendants are marked invalid, and what builds on them is refused.
//
//	g - b1 - b2 - b3 - b4
//	       \
//	        x2 - ... - x(1+k) bad - ... - x5 - x6
func TestInvalidForkNeverWins(t *testing.T) {
	for k := 1; k <= 4; k++ {
		t.Run(fmt.Sprintf("depth%d", k), func(t *testing.T) {
			p := devnet(t, false)
			s := newScenario(t, p)
			M, W, A := newWallet(p, 1), newWallet(p, 2), newWallet(p, 3)
			prev := "g"
			for i := 1; i <= 4; i++ {
				s.accept(fmt.Sprintf("b%d", i), prev, M.addr)
				prev = fmt.Sprintf("b%d", i)
			}
			before := snap(t, s.c.Ledger())

			bad := fmt.Sprintf("x%d", 1+k)
			prev = "b1"
			for h := 2; h <= 5; h++ {
				name := fmt.Sprintf("x%d", h)
				if name == bad {
					// W has nothing: a well-signed overspend.
					s.block(name, prev, A.addr, blockSpec{}, s.m.pay(W, A.addr, coin, 1000, genesisTime))
				} else {
					s.block(name, prev, A.addr, blockSpec{})
				}
				prev = name
			}
			puts := s.store.Puts()
			for h := 2; h <= 4; h++ {
				if r := s.add(fmt.Sprintf("x%d", h), accepted, ""); !r.Side {
					t.Fatalf("x%d: %+v, want side", h, r)
				}
			}
			// A second child of the bad block, on a side branch of its own
			// (where it does not outweigh b4): the invalidation reaches
			// every descendant, not only those of the branch tried.
			invalidated, sibling := 5-k, k <= 2
			if sibling {
				s.block("z", bad, A.addr, blockSpec{})
				if r := s.add("z", accepted, ""); !r.Side {
					t.Fatalf("z: %+v, want side", r)
				}
				invalidated++
				puts++ // z is stored too
			}
			s.tip("b4")
			r := s.add("x5", rejected, rule.InsufficientFunds)
			s.tip("b4")
			if !bytes.Equal(snap(t, s.c.Ledger()), before) {
				t.Fatal("ledger changed by a failed reorganization")
			}
			if r == nil || !r.Side || r.TipChanged || len(r.Invalidated) != invalidated || r.Invalidated[0] != s.hash(bad) || !r.Record.Invalid {
				t.Fatalf("x5: %+v, want side, %s first of %d invalidated", r, bad, invalidated)
			}
			if sibling && !s.c.Node(s.hash("z")).Invalid {
				t.Error("z, a child of the bad block, is not invalid")
			}
			if s.store.Puts() != puts+4 {
				t.Errorf("stored %d blocks of the side branch, want 4", s.store.Puts()-puts)
			}
			for h := 2; h <= 5; h++ {
				n := s.c.Node(s.hash(fmt.Sprintf("x%d", h)))
				if want := h >= 1+k; n.Invalid != want {
					t.Errorf("x%d invalid %v, want %v", h, n.Invalid, want)
				}
			}
			s.block("x6", "x5", A.addr, blockSpec{})
			s.add("x6", rejected, rule.InvalidAncestor)
			s.add("x5", duplicate, "")
			s.tip("b4")
			// The main chain goes on.
			s.accept("b5", "b4", M.addr)
			s.tip("b5")
			// The valid part of the fork can still grow, and win with more
			// work than the main chain.
			if k > 1 {
				prev = fmt.Sprintf("x%d", k)
				for h := k + 1; h <= 6; h++ {
					s.accept(fmt.Sprintf("y%d", h), prev, A.addr)
					prev = fmt.Sprintf("y%d", h)
				}
				s.tip("y6")
			}
		})
	}
}

// TestContextualRules: maturity, funds in block order, replayed ids, and
// the reward limit, each refused with its code; a refused block is not
// stored and leaves the ledger as it was.
//
//	g - b1 - b2 - b3 - b4 - b5 - b6
//	          \    \    \    \
//	           b3x  b4x  b5x  b6x, b6y
//
//	b3x: M spends 1 CNJ of b1's reward one block early   immature-spend
//	b4:  M pays A 30 CNJ, the first block b1's reward is spendable in
//	b4x: A (holding nothing yet) pays B                    insufficient-funds
//	b5x: A pays B 20 and C 20 holding 30                  insufficient-funds
//	b5:  A pays B 20
//	b6x: replays b5's transfer                             duplicate-id
//	b6y: reward one unit above subsidy + fees              bad-reward
func TestContextualRules(t *testing.T) {
	p := devnet(t, false)
	s := newScenario(t, p)
	M, A, B, C := newWallet(p, 1), newWallet(p, 2), newWallet(p, 3), newWallet(p, 4)
	ts := int64(genesisTime + 1)

	s.accept("b1", "g", M.addr)
	s.accept("b2", "b1", M.addr)
	if bl := s.c.Ledger().Balance(M.addr); bl.Confirmed != 0 || bl.Immature != 100*coin {
		t.Fatalf("M after b2: %+v", bl)
	}
	if err := s.c.Ledger().CanSpend(M.addr, coin); !rule.Is(err, rule.ImmatureSpend) {
		t.Fatalf("CanSpend after b2: %v", err)
	}
	steps := []struct {
		name, parent string
		spec         blockSpec
		txs          func() []*tx.Tx
		code         rule.Code
	}{
		{"b3x", "b2", blockSpec{}, func() []*tx.Tx { return list(s.m.pay(M, A.addr, coin, 1000, ts)) }, rule.ImmatureSpend},
		{"b3", "b2", blockSpec{}, nil, ""},
		{"b4x", "b3", blockSpec{}, func() []*tx.Tx { return list(s.m.pay(A, B.addr, coin, 1000, ts)) }, rule.InsufficientFunds},
		{"b4", "b3", blockSpec{}, func() []*tx.Tx { return list(s.m.pay(M, A.addr, 30*coin, 1000, ts)) }, ""},
		{"b5x", "b4", blockSpec{}, func() []*tx.Tx {
			return list(s.m.pay(A, B.addr, 20*coin, 1000, ts), s.m.pay(A, C.addr, 20*coin, 1000, ts))
		}, rule.InsufficientFunds},
		{"b5", "b4", blockSpec{}, func() []*tx.Tx { return list(s.m.pay(A, B.addr, 20*coin, 1000, ts)) }, ""},
		{"b6x", "b5", blockSpec{}, func() []*tx.Tx { return s.names["b5"].Txs }, rule.DuplicateID},
		{"b6y", "b5", blockSpec{extra: 1}, nil, rule.BadReward},
		{"b6", "b5", blockSpec{}, nil, ""},
	}
	for _, st := range steps {
		var txs []*tx.Tx
		if st.txs != nil {
			txs = st.txs()
		}
		puts, before := s.store.Puts(), snap(t, s.c.Ledger())
		s.block(st.name, st.parent, M.addr, st.spec, txs...)
		if st.code == "" {
			s.add(st.name, accepted, "")
			s.tip(st.name)
			continue
		}
		s.add(st.name, rejected, st.code)
		if s.store.Puts() != puts || s.c.Node(s.hash(st.name)) != nil || !bytes.Equal(before, snap(t, s.c.Ledger())) {
			t.Fatalf("%s: refused block was stored or changed the ledger", st.name)
		}
		s.tip(st.parent)
	}
	led := s.c.Ledger()
	if a, b := led.Balance(A.addr), led.Balance(B.addr); a.Confirmed != 10*coin-1000 || b.Confirmed != 20*coin {
		t.Errorf("A %+v, B %+v", a, b)
	}
}

// TestStoreFailure: a block the store cannot keep is not accepted and
// changes nothing; it can be given again once the store works.
func TestStoreFailure(t *testing.T) {
	p := devnet(t, false)
	s := newScenario(t, p)
	M := newWallet(p, 1)
	s.accept("b1", "g", M.addr)
	s.block("b2", "b1", M.addr, blockSpec{})
	s.block("c2", "b1", M.addr, blockSpec{})
	before := snap(t, s.c.Ledger())
	disk := errors.New("disk full")
	s.store.PutErr = disk
	for _, name := range []string{"b2", "c2"} {
		b := s.names[name]
		if _, err := s.c.Add(b, nil, now); !errors.Is(err, disk) {
			t.Fatalf("%s: %v, want the store's error", name, err)
		}
		if s.c.Node(b.Hash) != nil || !bytes.Equal(before, snap(t, s.c.Ledger())) {
			t.Fatalf("%s: a block the store refused changed the chain", name)
		}
	}
	s.tip("b1")
	s.store.PutErr = nil
	s.add("b2", accepted, "")
	s.tip("b2")
}

// flaky is a store whose Get fails for chosen blocks.
type flaky struct {
	*MemStore
	fail map[blockstore.Loc]bool
}

func (f *flaky) Get(loc blockstore.Loc) (*block.Block, error) {
	if f.fail[loc] {
		return nil, errors.New("read error")
	}
	return f.MemStore.Get(loc)
}

// TestStoreReadFailureDuringReorg: when a block cannot be read back in the
// middle of a reorganization, the old tip and its ledger stay.
//
//	g - b1 - b2 - b3
//	       \
//	        c2 - c3 - c4
func TestStoreReadFailureDuringReorg(t *testing.T) {
	for _, unreadable := range []string{"b3", "b2", "c2", "c3"} {
		t.Run(unreadable, func(t *testing.T) {
			p := devnet(t, false)
			s := newScenario(t, p)
			f := &flaky{MemStore: s.store, fail: map[blockstore.Loc]bool{}}
			s.c = New(p, f)
			M, N := newWallet(p, 1), newWallet(p, 2)
			s.accept("b1", "g", M.addr)
			s.accept("b2", "b1", M.addr)
			s.accept("b3", "b2", M.addr)
			s.accept("c2", "b1", N.addr)
			s.accept("c3", "c2", N.addr)
			before := snap(t, s.c.Ledger())
			f.fail[s.c.Node(s.hash(unreadable)).Loc] = true
			s.block("c4", "c3", N.addr, blockSpec{})
			r, err := s.c.Add(s.names["c4"], nil, now)
			if err == nil || rule.CodeOf(err) != "" || len(r.Invalidated) != 0 {
				t.Fatalf("c4 with %s unreadable: %+v, %v; want a plain error", unreadable, r, err)
			}
			if s.c.Tip().Hash != s.hash("b3") || !bytes.Equal(before, snap(t, s.c.Ledger())) {
				t.Fatal("the tip or ledger moved")
			}
			// Once the store reads again, the heavier branch wins.
			delete(f.fail, s.c.Node(s.hash(unreadable)).Loc)
			s.accept("c5", "c4", N.addr)
			s.tip("c5")
		})
	}
}

// TestHeaderContext: the chain checks headers against the branch and the
// clock it is given.
func TestHeaderContext(t *testing.T) {
	p := devnet(t, true)
	s := newScenario(t, p)
	M := newWallet(p, 1)
	for i, prev := 1, "g"; i <= 5; i++ {
		name := fmt.Sprintf("b%d", i)
		s.block(name, prev, M.addr, blockSpec{dt: 1})
		if got, want := s.c.NextTarget(now), s.names[name].Target; got != want {
			t.Fatalf("NextTarget before %s: %x, want %x", name, got[:8], want[:8])
		}
		s.add(name, accepted, "")
		prev = name
	}
	s.block("late", "b5", M.addr, blockSpec{dt: 3 * 3600})
	if _, err := s.c.Add(s.names["late"], nil, s.names["b5"].Timestamp); !rule.Is(err, rule.TimeTooNew) {
		t.Errorf("block 3 h ahead of the clock: %v", err)
	}
	if _, err := s.c.Block(s.c.Genesis()); err == nil {
		t.Error("Block(genesis) did not fail")
	}
	if mtp := s.c.MedianTime(s.c.Tip()); mtp != s.names["b3"].Timestamp {
		t.Errorf("median time past of b5 is %d, want b3's %d", mtp, s.names["b3"].Timestamp)
	}
}

// TestForkDepth: under a fork depth of 3, a block that leaves the main
// chain more than 3 blocks below the tip is refused (fork-too-deep) unless
// it gives its branch more work than the tip; one 3 below is kept, and an
// honest reorganization within the depth happens. A side block far behind
// the tip in work is kept but marked Behind (not passed on); a competitor
// of the tip is not. Without limits (a downloaded branch, cnj-sync's) a
// deep fork is kept, and the block that then gives that branch more work
// is taken under the limits too.
//
//	g - b1 - b2 - ... - b6 - b7 - b8 - b9 - b10 - b11
//	          \          \    \         //	           \          d7   c8 - c9   e10          d7, c9: fork-too-deep
//	            x3 - ... - x10 - x11 - x12            x3..x11 without limits
//	                        //	                         y11 - y12 - y13          a reorganization of 2
func TestForkDepth(t *testing.T) {
	p := devnet(t, false)
	s := newScenario(t, p)
	M, N := newWallet(p, 1), newWallet(p, 2)
	prev := "g"
	for h := 1; h <= 10; h++ {
		s.accept(fmt.Sprintf("b%d", h), prev, M.addr)
		prev = fmt.Sprintf("b%d", h)
	}
	s.lim = Limits{MaxForkDepth: 3}

	s.reject("d7", "b6", N.addr, blockSpec{}, rule.ForkTooDeep)
	if r := s.accept("c8", "b7", N.addr); !r.Side || !r.Behind {
		t.Fatalf("c8, 2 blocks behind: %+v; want kept on a side branch, behind", r)
	}
	if r := s.accept("e10", "b9", N.addr); !r.Side || r.Behind {
		t.Fatalf("e10, the tip's competitor: %+v; want kept, not behind", r)
	}
	s.accept("b11", "b10", M.addr)
	s.tip("b11")
	// c's fork point b7 is 4 below the tip now: c cannot grow.
	s.reject("c9", "c8", N.addr, blockSpec{}, rule.ForkTooDeep)

	// Without limits, as a download of a branch with more work adds it.
	s.lim = Limits{}
	prev = "b2"
	for h := 3; h <= 11; h++ {
		s.accept(fmt.Sprintf("x%d", h), prev, N.addr)
		prev = fmt.Sprintf("x%d", h)
	}
	s.tip("b11")
	s.lim = Limits{MaxForkDepth: 3}
	// x12 gives x more work than b11: taken, 9 blocks deep.
	s.accept("x12", "x11", N.addr)
	s.tip("x12")

	// An honest reorganization within the depth: y leaves the main chain
	// 2 below its tip and outgrows it.
	s.accept("y11", "x10", M.addr)
	s.accept("y12", "y11", M.addr)
	s.accept("y13", "y12", M.addr)
	s.tip("y13")
}
