package mempool

import (
	"slices"
	"testing"

	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
)

// size is what a transfer takes of Template's budget.
func size(t *tx.Tx) int { return len(t.AppendJSON(nil)) + 1 }

func sizes(txs []*tx.Tx) (n int) {
	for _, t := range txs {
		n += size(t)
	}
	return n
}

// funded returns a fixture where alice, bob and carol each have 50 CNJ
// spendable in the next block.
func funded(t *testing.T) *fixture {
	f := newFixture(t)
	f.mine(f.bob.addr)
	f.mine(f.carol.addr)
	f.mine(f.miner.addr)
	f.mine(f.miner.addr)
	f.mine(f.miner.addr)
	for _, w := range []wallet{f.alice, f.bob, f.carol} {
		if bl := f.led.Balance(w.addr); bl.Confirmed != 50*coin {
			t.Fatalf("%s holds %+v", w.addr, bl)
		}
	}
	return f
}

func TestTemplateOrder(t *testing.T) {
	f := funded(t)
	now := f.now()
	// In the order Template must pick them: fee, then timestamp, then id.
	want := []*tx.Tx{
		f.pay(f.bob, f.carol.addr, coin, 9000, now),
		f.pay(f.alice, f.bob.addr, coin, 5000, now-50),
		f.pay(f.carol, f.bob.addr, coin, 5000, now-10),
		f.pay(f.alice, f.carol.addr, coin, 5000, now), // id below the next
		f.pay(f.bob, f.alice.addr, coin, 5000, now),
		f.pay(f.carol, f.alice.addr, coin, minFee, now),
	}
	// Admitted in several orders, the pool gives the same template.
	for _, perm := range [][]int{{0, 1, 2, 3, 4, 5}, {5, 4, 3, 2, 1, 0}, {3, 0, 5, 1, 4, 2}} {
		m := New(f.p, 0)
		for _, i := range perm {
			if err := m.Add(want[i], f.led, now); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			if got := m.Template(f.led, now, 1<<20); !slices.Equal(got, want) {
				t.Fatalf("admitted in order %v: Template = %v", perm, got)
			}
		}
	}
}

func TestTemplateSize(t *testing.T) {
	f := funded(t)
	now := f.now()
	m := New(f.p, 0)
	var all []*tx.Tx
	for i := range 5 {
		x := f.pay(f.alice, f.bob.addr, coin, minFee*uint64(10-i), now) // fees descending
		if err := m.Add(x, f.led, now); err != nil {
			t.Fatal(err)
		}
		all = append(all, x)
	}
	// A smaller transfer (shorter amount) to show that a tx that does not
	// fit is skipped, not the end of the template.
	small := f.pay(f.bob, f.alice.addr, 1, minFee, now)
	if err := m.Add(small, f.led, now); err != nil {
		t.Fatal(err)
	}
	if size(small) >= size(all[4]) {
		t.Fatalf("small transfer is not smaller: %d >= %d", size(small), size(all[4]))
	}
	three := sizes(all[:3])
	tests := []struct {
		name     string
		maxBytes int
		want     []*tx.Tx
	}{
		{"everything", 1 << 20, append(slices.Clone(all), small)},
		{"all at the limit", sizes(all) + size(small), append(slices.Clone(all), small)},
		{"all one under the limit", sizes(all) + size(small) - 1, all},
		{"three at the limit", three, all[:3]},
		{"three and the small one", three + size(small), append(slices.Clone(all[:3]), small)},
		{"three, one under", three - 1, append(slices.Clone(all[:2]), small)},
		{"nothing", size(small) - 1, nil},
		{"zero", 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := m.Template(f.led, now, tc.maxBytes)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Template(%d) = %d transfers, want %d", tc.maxBytes, len(got), len(tc.want))
			}
			if sizes(got) > tc.maxBytes {
				t.Fatalf("Template(%d) takes %d bytes", tc.maxBytes, sizes(got))
			}
		})
	}
}

func TestTemplateTime(t *testing.T) {
	f := funded(t)
	now := f.now()
	m := New(f.p, 0)
	early := f.pay(f.alice, f.bob.addr, coin, minFee, now-params.TxWindowAfter+100)
	late := f.pay(f.alice, f.bob.addr, coin, minFee, now+params.TxWindowBefore)
	for _, x := range []*tx.Tx{early, late} {
		if err := m.Add(x, f.led, now); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name      string
		blockTime int64
		want      []*tx.Tx
	}{
		{"both", now, []*tx.Tx{early, late}},
		{"early at its edge", now + 100, []*tx.Tx{early, late}},
		{"early one past", now + 101, []*tx.Tx{late}},
		{"late at its edge", now, []*tx.Tx{early, late}},
		{"late one past", now - 1, []*tx.Tx{early}},
	} {
		if got := m.Template(f.led, tc.blockTime, 1<<20); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Template = %v", tc.name, got)
		}
	}
}

// TestTemplateFunds: against a ledger that changed since admission, each
// transfer is taken only when covered at its point in the block, counting
// what earlier picks paid the sender.
func TestTemplateFunds(t *testing.T) {
	f := newFixture(t)
	now := f.now()
	a, b, c, d := f.alice, f.bob, f.carol, newWallet(f.p, 4)
	led := &fakeLedger{bal: map[string]uint64{a.addr: 100 * coin, b.addr: 100 * coin, c.addr: 100 * coin}}
	m := New(f.p, 0)
	// In fee order, with 10 CNJ each at the start of the block:
	aToB := f.pay(a, b.addr, 5*coin, 9000, now)         // a: 5 CNJ - 9000 left; b: 15 CNJ
	bToC := f.pay(b, c.addr, 14*coin, 8000, now)        // b: 1 CNJ - 8000 left; c: 24 CNJ
	cToD := f.pay(c, d.addr, 24*coin-7000, 7000, now)   // c: exactly covered
	bAgain := f.pay(b, d.addr, coin-14000+1, 6000, now) // b: one unit short
	aAgain := f.pay(a, d.addr, 5*coin-14000, 5000, now) // a: exactly covered
	for _, x := range []*tx.Tx{aToB, bToC, cToD, bAgain, aAgain} {
		if err := m.Add(x, led, now); err != nil {
			t.Fatal(err)
		}
	}
	led.bal[a.addr], led.bal[b.addr], led.bal[c.addr] = 10*coin, 10*coin, 10*coin
	if got, want := m.Template(led, now, 1<<20), []*tx.Tx{aToB, bToC, cToD, aAgain}; !slices.Equal(got, want) {
		t.Fatalf("Template = %v, want %v", got, want)
	}
	// Without aToB (a is short of it), b and c cannot pay theirs either.
	led.bal[a.addr] = 5 * coin
	if got, want := m.Template(led, now, 1<<20), []*tx.Tx{bAgain, aAgain}; !slices.Equal(got, want) {
		t.Fatalf("Template on a poorer ledger = %v, want %v", got, want)
	}
	// A recent id on the chain is not picked.
	led.ids = map[senderID]bool{keyOf(aAgain): true}
	if got, want := m.Template(led, now, 1<<20), []*tx.Tx{bAgain}; !slices.Equal(got, want) {
		t.Fatalf("Template with a mined id = %v, want %v", got, want)
	}
}
