package mempool

import (
	"testing"

	"github.com/coniunctum/cnj/lib/tx"
)

// stream returns n valid transfers from three funded senders; each pays 1
// unit and the minimum fee, so 50 CNJ cover millions of them.
func stream(b testing.TB, n int) (*fixture, []*tx.Tx) {
	b.Helper()
	f := newFixture(b)
	f.mine(f.bob.addr)
	f.mine(f.carol.addr)
	f.mine(f.miner.addr)
	f.mine(f.miner.addr)
	f.mine(f.miner.addr)
	from := []wallet{f.alice, f.bob, f.carol}
	txs := make([]*tx.Tx, n)
	for i := range txs {
		txs[i] = f.pay(from[i%3], from[(i+1)%3].addr, 1, minFee+uint64(i%7), f.now())
	}
	return f, txs
}

func benchmarkAdd(b *testing.B, verified bool) {
	f, txs := stream(b, b.N)
	m := New(f.p, b.N+1)
	add := m.Add
	if verified {
		add = m.AddVerified
	}
	now := f.now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := add(txs[i], f.led, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAdd(b *testing.B)         { benchmarkAdd(b, false) }
func BenchmarkAddVerified(b *testing.B) { benchmarkAdd(b, true) }

func BenchmarkTemplate(b *testing.B) {
	f, txs := stream(b, 5000)
	m := New(f.p, 0)
	now := f.now()
	for _, t := range txs {
		if err := m.AddVerified(t, f.led, now); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Template(f.led, now, int(f.p.MaxBlockBytes)-1000)
	}
}
