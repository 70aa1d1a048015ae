package mempool

import (
	"errors"
	"slices"
	"testing"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

var errInsufficient = rule.Errorf(rule.InsufficientFunds, "fake ledger")

// want is an expected outcome of Add: a rule code, "known" for ErrKnown, or
// "" for admitted.
func outcome(err error) rule.Code {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrKnown):
		if rule.CodeOf(err) != "" {
			return "known-with-code"
		}
		return "known"
	case rule.CodeOf(err) == "":
		return "no-code: " + rule.Code(err.Error())
	}
	return rule.CodeOf(err)
}

func TestAdd(t *testing.T) {
	tests := []struct {
		name string
		// setup returns the transfers to admit first (each must be
		// admitted) and the one under test.
		setup func(f *fixture) (before []*tx.Tx, t *tx.Tx)
		want  rule.Code
	}{
		{"valid", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			return nil, f.pay(f.alice, f.bob.addr, coin, minFee, f.now())
		}, ""},
		{"same transfer again", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			t := f.pay(f.alice, f.bob.addr, coin, minFee, f.now())
			c := *t
			return []*tx.Tx{t}, &c
		}, "known"},
		{"whole balance", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			return nil, f.pay(f.alice, f.bob.addr, 50*coin-minFee, minFee, f.now())
		}, ""},
		{"one unit over the balance", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			return nil, f.pay(f.alice, f.bob.addr, 50*coin-minFee+1, minFee, f.now())
		}, rule.InsufficientFunds},
		{"two pool transfers to the unit", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			a := f.pay(f.alice, f.bob.addr, 30*coin, minFee, f.now())
			return []*tx.Tx{a}, f.pay(f.alice, f.carol.addr, 20*coin-2*minFee, minFee, f.now())
		}, ""},
		{"overspend across two pool transfers", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			a := f.pay(f.alice, f.bob.addr, 30*coin, minFee, f.now())
			return []*tx.Tx{a}, f.pay(f.alice, f.carol.addr, 20*coin-2*minFee+1, minFee, f.now())
		}, rule.InsufficientFunds},
		{"overspend across three pool transfers", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			a := f.pay(f.alice, f.bob.addr, 20*coin, minFee, f.now())
			b := f.pay(f.alice, f.bob.addr, 20*coin, minFee, f.now())
			return []*tx.Tx{a, b}, f.pay(f.alice, f.carol.addr, 10*coin, minFee, f.now())
		}, rule.InsufficientFunds},
		{"pending incoming does not count", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			a := f.pay(f.alice, f.carol.addr, 10*coin, minFee, f.now())
			return []*tx.Tx{a}, f.pay(f.carol, f.bob.addr, coin, minFee, f.now())
		}, rule.InsufficientFunds},
		{"immature reward", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			return nil, f.pay(f.miner, f.bob.addr, coin, minFee, f.now())
		}, rule.ImmatureSpend},
		{"fee at the minimum", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			return nil, f.pay(f.alice, f.bob.addr, coin, f.p.MinFee, f.now())
		}, ""},
		{"fee one under the minimum", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			return nil, f.pay(f.alice, f.bob.addr, coin, f.p.MinFee-1, f.now())
		}, rule.LowFee},
		{"zero amount", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			return nil, f.pay(f.alice, f.bob.addr, 0, minFee, f.now())
		}, rule.ZeroAmount},
		{"bad signature", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			t := f.pay(f.alice, f.bob.addr, coin, minFee, f.now())
			t.Signature[5] ^= 1
			return nil, t
		}, rule.BadSignature},
		{"bad hash", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			t := f.pay(f.alice, f.bob.addr, coin, minFee, f.now())
			t.Amount++
			return nil, t
		}, rule.BadHash},
		{"claims the hash of a pooled transfer", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			t := f.pay(f.alice, f.bob.addr, coin, minFee, f.now())
			c := *t
			c.Amount++
			return []*tx.Tx{t}, &c
		}, rule.BadHash},
		{"wrong network", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			t := f.pay(f.alice, f.bob.addr, coin, minFee, f.now())
			t.Receiver = newWallet(params.Main(), 2).addr
			return nil, f.resign(t, f.alice)
		}, rule.WrongNetwork},
		{"duplicate id on the chain", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			mined := f.pay(f.alice, f.bob.addr, coin, minFee, f.now())
			f.mine(f.miner.addr, mined)
			t := f.pay(f.alice, f.carol.addr, coin, minFee, f.now())
			t.ID = mined.ID
			return nil, f.resign(t, f.alice)
		}, rule.DuplicateID},
		{"same transfer as on the chain", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			mined := f.pay(f.alice, f.bob.addr, coin, minFee, f.now())
			f.mine(f.miner.addr, mined)
			return nil, mined
		}, rule.DuplicateID},
		{"duplicate id in the pool", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			a := f.pay(f.alice, f.bob.addr, coin, minFee, f.now())
			t := f.pay(f.alice, f.carol.addr, coin, minFee, f.now())
			t.ID = a.ID
			return []*tx.Tx{a}, f.resign(t, f.alice)
		}, rule.DuplicateID},
		// Ids are scoped to their sender: another key's transfer under
		// an id on the chain or in the pool is judged on its own.
		{"another sender's id on the chain", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			mined := f.pay(f.alice, f.bob.addr, coin, minFee, f.now())
			f.mine(f.miner.addr, mined)
			t := f.pay(f.miner, f.carol.addr, coin, minFee, f.now())
			t.ID = mined.ID
			return nil, f.resign(t, f.miner)
		}, ""},
		{"another sender's id in the pool", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			f.mine(f.miner.addr) // the miner's first reward matures
			a := f.pay(f.alice, f.bob.addr, coin, minFee, f.now())
			t := f.pay(f.miner, f.carol.addr, coin, minFee, f.now())
			t.ID = a.ID
			return []*tx.Tx{a}, f.resign(t, f.miner)
		}, ""},
		{"timestamp a day old", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			return nil, f.pay(f.alice, f.bob.addr, coin, minFee, f.now()-params.TxWindowAfter)
		}, ""},
		{"timestamp a day and a second old", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			return nil, f.pay(f.alice, f.bob.addr, coin, minFee, f.now()-params.TxWindowAfter-1)
		}, rule.BadTxTime},
		{"timestamp two hours ahead", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			return nil, f.pay(f.alice, f.bob.addr, coin, minFee, f.now()+params.TxWindowBefore)
		}, ""},
		{"timestamp two hours and a second ahead", func(f *fixture) ([]*tx.Tx, *tx.Tx) {
			return nil, f.pay(f.alice, f.bob.addr, coin, minFee, f.now()+params.TxWindowBefore+1)
		}, rule.BadTxTime},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			m := New(f.p, 0)
			before, x := tc.setup(f)
			for _, b := range before {
				if err := m.Add(b, f.led, f.now()); err != nil {
					t.Fatalf("admitting the setup: %v", err)
				}
			}
			err := m.Add(x, f.led, f.now())
			if got := outcome(err); got != tc.want {
				t.Fatalf("Add: %v; want %q", err, tc.want)
			}
			n := len(before)
			if tc.want == "" {
				n++
			}
			if m.Len() != n {
				t.Fatalf("Len = %d, want %d", m.Len(), n)
			}
			if tc.want == "" && (!m.Has(x.Hash) || !m.HasID(x.ID)) {
				t.Fatalf("admitted transfer not in the pool")
			}
		})
	}
}

func TestAddVerified(t *testing.T) {
	f := newFixture(t)
	m := New(f.p, 0)
	x := f.pay(f.alice, f.bob.addr, coin, minFee, f.now())
	x.Signature[0] ^= 1
	if err := m.AddVerified(x, f.led, f.now()); err != nil {
		t.Fatalf("AddVerified skips the signature: %v", err)
	}
	y := f.pay(f.alice, f.bob.addr, coin, minFee, f.now())
	y.Amount++
	if err := m.AddVerified(y, f.led, f.now()); rule.CodeOf(err) != rule.BadHash {
		t.Fatalf("AddVerified checks the form: %v", err)
	}
}

func TestEviction(t *testing.T) {
	type step struct {
		fee   uint64
		want  rule.Code
		evict int // index of the step whose transfer it evicts, or -1
	}
	tests := []struct {
		name  string
		max   int
		steps []step
	}{
		{"at the bound and one past", 3, []step{
			{2000, "", -1}, {1000, "", -1}, {1500, "", -1},
			{1000, MempoolFull, -1},
		}},
		{"equal fee does not evict", 2, []step{
			{3000, "", -1}, {3000, "", -1},
			{3000, MempoolFull, -1},
		}},
		{"higher fee evicts the lowest", 3, []step{
			{2000, "", -1}, {1000, "", -1}, {1500, "", -1},
			{1001, "", 1},
			{1001, MempoolFull, -1},
			{1002, "", 3},
		}},
		{"ties evict the newest", 3, []step{
			{1000, "", -1}, {1000, "", -1}, {5000, "", -1},
			{2000, "", 1},
			{2000, "", 0},
			{2000, MempoolFull, -1},
			{2001, "", 4},
		}},
		{"bound of one", 1, []step{
			{1000, "", -1}, {1000, MempoolFull, -1}, {1001, "", 0},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			m := New(f.p, tc.max)
			var txs []*tx.Tx
			for i, s := range tc.steps {
				x := f.pay(f.alice, f.bob.addr, coin, s.fee, f.now())
				txs = append(txs, x)
				err := m.Add(x, f.led, f.now())
				if got := outcome(err); got != s.want {
					t.Fatalf("step %d: Add: %v; want %q", i, err, s.want)
				}
				if s.evict >= 0 && m.Has(txs[s.evict].Hash) {
					t.Fatalf("step %d: transfer of step %d not evicted", i, s.evict)
				}
				ev := m.TakeEvicted()
				switch {
				case s.evict < 0 && len(ev) != 0:
					t.Fatalf("step %d: TakeEvicted = %v, want none", i, ev)
				case s.evict >= 0 && (len(ev) != 1 || ev[0].Tx != txs[s.evict] || ev[0].By != x):
					t.Fatalf("step %d: TakeEvicted = %v, want step %d's by this one", i, ev, s.evict)
				}
				if m.Len() > tc.max {
					t.Fatalf("step %d: Len = %d above %d", i, m.Len(), tc.max)
				}
			}
			// What remains is accounted for exactly.
			var out int64
			for _, x := range m.Txs() {
				out += int64(x.Amount + x.Fee)
			}
			if got := m.Pending(f.alice.addr); got != -out {
				t.Fatalf("Pending(alice) = %d, want %d", got, -out)
			}
		})
	}
}

func TestEvictionFreesFunds(t *testing.T) {
	f := newFixture(t)
	m := New(f.p, 1)
	a := f.pay(f.alice, f.bob.addr, 40*coin, minFee, f.now())
	if err := m.Add(a, f.led, f.now()); err != nil {
		t.Fatal(err)
	}
	// alice cannot spend 20 more while a is pending, even at a higher fee:
	// funds are checked before eviction.
	b := f.pay(f.alice, f.bob.addr, 20*coin, 2*minFee, f.now())
	if err := m.Add(b, f.led, f.now()); !rule.Is(err, rule.InsufficientFunds) {
		t.Fatalf("Add: %v", err)
	}
	// carol's transfer evicts a, and then alice can spend again.
	f.mine(f.carol.addr)
	f.mine(f.carol.addr)
	f.mine(f.carol.addr)
	c := f.pay(f.carol, f.bob.addr, coin, 3*minFee, f.now())
	if err := m.Add(c, f.led, f.now()); err != nil {
		t.Fatal(err)
	}
	if m.Has(a.Hash) || m.Pending(f.alice.addr) != 0 || m.Pending(f.bob.addr) != coin {
		t.Fatalf("after eviction: has a %v, pending alice %d bob %d", m.Has(a.Hash), m.Pending(f.alice.addr), m.Pending(f.bob.addr))
	}
}

func TestPending(t *testing.T) {
	f := newFixture(t)
	m := New(f.p, 0)
	for _, x := range []*tx.Tx{
		f.pay(f.alice, f.bob.addr, 3*coin, minFee, f.now()),
		f.pay(f.alice, f.carol.addr, 2*coin, 2*minFee, f.now()),
		f.pay(f.alice, f.alice.addr, coin, minFee, f.now()), // to itself: costs the fee
	} {
		if err := m.Add(x, f.led, f.now()); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		addr string
		want int64
	}{
		{f.alice.addr, -(5*coin + 4*minFee)},
		{f.bob.addr, 3 * coin},
		{f.carol.addr, 2 * coin},
		{f.miner.addr, 0},
	} {
		if got := m.Pending(tc.addr); got != tc.want {
			t.Errorf("Pending(%s) = %d, want %d", tc.addr, got, tc.want)
		}
	}
}

func TestTxsOrder(t *testing.T) {
	f := newFixture(t)
	m := New(f.p, 0)
	var want []*tx.Tx
	for i := range 20 {
		x := f.pay(f.alice, f.bob.addr, coin, minFee+uint64(i*7%5), f.now())
		if err := m.Add(x, f.led, f.now()); err != nil {
			t.Fatal(err)
		}
		want = append(want, x)
	}
	if got := m.Txs(); !slices.Equal(got, want) {
		t.Fatalf("Txs not in admission order")
	}
}

// TestGet: a pooled transfer is found by its hash, and nothing else is.
func TestGet(t *testing.T) {
	f := newFixture(t)
	m := New(f.p, 0)
	x := f.pay(f.alice, f.bob.addr, coin, minFee, f.now())
	if err := m.Add(x, f.led, f.now()); err != nil {
		t.Fatal(err)
	}
	if got := m.Get(x.Hash); got != x {
		t.Fatalf("Get(pooled) = %v", got)
	}
	other := x.Hash
	other[0] ^= 1
	if got := m.Get(other); got != nil {
		t.Fatalf("Get(another hash) = %v", got)
	}
}

// TestUpdateReorg: a block is replaced by a competing one.
//
//	genesis - 1 - 2 - 3 - 4a          4a: alice->bob (kept), alice->carol, carol->bob
//	                    \
//	                     4b - 5b      4b: alice->carol (mined on both), alice->miner big spend
func TestUpdateReorg(t *testing.T) {
	f := newFixture(t)
	m := New(f.p, 0)
	now := f.now()
	toBob := f.pay(f.alice, f.bob.addr, coin, minFee, now)
	toCarol := f.pay(f.alice, f.carol.addr, 5*coin, minFee, now)
	carolToBob := f.pay(f.carol, f.bob.addr, 2*coin, minFee, now) // spends what toCarol credits
	pooled := f.pay(f.alice, f.bob.addr, 2*coin, minFee, now)
	if err := m.Add(pooled, f.led, now); err != nil {
		t.Fatal(err)
	}
	b4a := f.mine(f.miner.addr, toBob, toCarol, carolToBob)
	if dropped := m.Update([]*block.Block{b4a}, nil, f.led, f.now()); len(dropped) != 0 {
		t.Fatalf("Update after 4a dropped %d", len(dropped))
	}
	if m.Len() != 1 || !m.Has(pooled.Hash) {
		t.Fatalf("pool after 4a: %d", m.Len())
	}

	// Reorg to 4b, 5b.
	f.disconnect()
	big := f.pay(f.alice, f.miner.addr, 42*coin, minFee, now)
	b4b := f.mine(f.miner.addr, toCarol, big)
	b5b := f.mine(f.miner.addr)
	dropped := m.Update([]*block.Block{b4b, b5b}, []*block.Block{b4a}, f.led, f.now())

	// alice has 50 - 5 - 42 - fees left, about 3 CNJ: toBob (put back
	// first, in chain order) still fits, pooled (2 CNJ) then does not.
	// carolToBob spent a credit of 4a, but carol's 5 CNJ come from 4b too:
	// it is valid. toCarol is mined again and is not put back.
	if len(dropped) != 1 || dropped[0].Tx != pooled || rule.CodeOf(dropped[0].Err) != rule.InsufficientFunds {
		t.Fatalf("Update dropped %d transfers: %v", len(dropped), dropped)
	}
	if m.Len() != 2 || !m.Has(toBob.Hash) || !m.Has(carolToBob.Hash) || m.Has(toCarol.Hash) || m.Has(big.Hash) {
		t.Fatalf("pool after the reorg: %v", m.Txs())
	}
	if got := m.Txs(); got[0] != toBob || got[1] != carolToBob {
		t.Fatalf("put-back transfers not in chain order")
	}
	if m.Pending(f.alice.addr) != -int64(coin+minFee) {
		t.Fatalf("Pending(alice) = %d", m.Pending(f.alice.addr))
	}
}

// TestUpdateAbandonedInvalid: an abandoned block's transfer that spends a
// credit of the same block goes back only when it is still covered.
func TestUpdateAbandonedInvalid(t *testing.T) {
	f := newFixture(t)
	m := New(f.p, 0)
	now := f.now()
	toCarol := f.pay(f.alice, f.carol.addr, 5*coin, minFee, now)
	carolToBob := f.pay(f.carol, f.bob.addr, 2*coin, minFee, now)
	b4a := f.mine(f.miner.addr, toCarol, carolToBob)
	m.Update([]*block.Block{b4a}, nil, f.led, f.now())
	f.disconnect()
	b4b := f.mine(f.miner.addr)
	dropped := m.Update([]*block.Block{b4b}, []*block.Block{b4a}, f.led, f.now())
	// toCarol is back; carolToBob is not: pending incoming does not count.
	if len(dropped) != 1 || dropped[0].Tx != carolToBob || rule.CodeOf(dropped[0].Err) != rule.InsufficientFunds {
		t.Fatalf("Update dropped %v", dropped)
	}
	if m.Len() != 1 || !m.Has(toCarol.Hash) {
		t.Fatalf("pool: %v", m.Txs())
	}
}

func TestUpdateExpires(t *testing.T) {
	f := newFixture(t)
	m := New(f.p, 0)
	now := f.now()
	old := f.pay(f.alice, f.bob.addr, coin, minFee, now-params.TxWindowAfter+100)
	fresh := f.pay(f.alice, f.bob.addr, coin, minFee, now)
	for _, x := range []*tx.Tx{old, fresh} {
		if err := m.Add(x, f.led, now); err != nil {
			t.Fatal(err)
		}
	}
	if d := m.Update(nil, nil, f.led, now+100); len(d) != 0 {
		t.Fatalf("at the edge of the window: dropped %v", d)
	}
	if d := m.Update(nil, nil, f.led, now+101); len(d) != 1 || d[0].Tx != old || rule.CodeOf(d[0].Err) != rule.BadTxTime {
		t.Fatalf("one past the window: dropped %v", d)
	}
	if m.Len() != 1 || !m.Has(fresh.Hash) {
		t.Fatalf("pool: %v", m.Txs())
	}
}

func TestUpdateMinedConflict(t *testing.T) {
	f := newFixture(t)
	m := New(f.p, 0)
	now := f.now()
	pooled := f.pay(f.alice, f.bob.addr, coin, minFee, now)
	if err := m.Add(pooled, f.led, now); err != nil {
		t.Fatal(err)
	}
	// Another transfer with the same id is mined.
	other := f.pay(f.alice, f.carol.addr, coin, minFee, now)
	other.ID = pooled.ID
	f.resign(other, f.alice)
	b := f.mine(f.miner.addr, other)
	if d := m.Update([]*block.Block{b}, nil, f.led, f.now()); len(d) != 1 || d[0].Tx != pooled || rule.CodeOf(d[0].Err) != rule.DuplicateID {
		t.Fatalf("Update dropped %v", d)
	}
	if m.Len() != 0 || m.HasID(pooled.ID) {
		t.Fatalf("pool: %v", m.Txs())
	}
}

func TestUpdateBound(t *testing.T) {
	f := newFixture(t)
	m := New(f.p, 2)
	now := f.now()
	a := f.pay(f.alice, f.bob.addr, coin, 5*minFee, now)
	b := f.pay(f.alice, f.bob.addr, coin, 3*minFee, now)
	c := f.pay(f.alice, f.bob.addr, coin, 1*minFee, now)
	blk := f.mine(f.miner.addr, c)
	for _, x := range []*tx.Tx{a, b} {
		if err := m.Add(x, f.led, f.now()); err != nil {
			t.Fatal(err)
		}
	}
	f.disconnect()
	d := m.Update(nil, []*block.Block{blk}, f.led, f.now())
	// c comes back first, and b and a, paying more, push it out.
	if len(d) != 1 || d[0].Tx != c || rule.CodeOf(d[0].Err) != rule.Evicted || m.Len() != 2 || !m.Has(a.Hash) || !m.Has(b.Hash) {
		t.Fatalf("Update dropped %v; pool %v", d, m.Txs())
	}
}

func TestLoad(t *testing.T) {
	f := newFixture(t)
	m := New(f.p, 0)
	now := f.now()
	var lines [][]byte
	var want []*tx.Tx
	for i := range 300 { // more than one signature batch
		x := f.pay(f.alice, f.bob.addr, coin/100, minFee+uint64(i), now)
		want = append(want, x)
		lines = append(lines, x.AppendJSON(nil))
	}
	badSig := f.pay(f.alice, f.bob.addr, coin, minFee, now)
	badSig.Signature[3] ^= 1
	over := f.pay(f.alice, f.bob.addr, 49*coin, minFee, now)
	lines = append(lines,
		nil,                     // empty: skipped
		lines[7],                // repeated: already there
		[]byte(`{"type":"tx"}`), // does not decode
		badSig.AppendJSON(nil),  // bad signature, in the last batch
		over.AppendJSON(nil),    // overspends
		make([]byte, params.MaxTxLine+1),
	)
	if dropped := m.Load(lines, f.led, now); dropped != 4 {
		t.Fatalf("Load dropped %d, want 4", dropped)
	}
	got := m.Txs()
	if len(got) != len(want) {
		t.Fatalf("Load kept %d transfers, want %d", len(got), len(want))
	}
	for i, x := range got {
		if x.Hash != want[i].Hash {
			t.Fatalf("transfer %d out of order", i)
		}
	}
}

// TestConcurrent runs admissions beside readers (go test -race).
func TestConcurrent(t *testing.T) {
	f := newFixture(t)
	now := f.now()
	m := New(f.p, 0)
	const writers, each = 4, 25
	txs := make([][]*tx.Tx, writers)
	for w := range txs {
		for range each {
			txs[w] = append(txs[w], f.pay(f.alice, f.bob.addr, coin/1000, minFee, now))
		}
	}
	done := make(chan error, writers)
	for w := range writers {
		go func() {
			for _, x := range txs[w] {
				if err := m.Add(x, f.led, now); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 20 {
		m.Template(f.led, now, 1<<20)
		m.Pending(f.alice.addr)
		m.Txs()
	}
	for range writers {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if m.Len() != writers*each || m.Pending(f.bob.addr) != writers*each*coin/1000 {
		t.Fatalf("Len %d, Pending(bob) %d", m.Len(), m.Pending(f.bob.addr))
	}
}
