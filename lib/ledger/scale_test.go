package ledger

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/tx"
)

// bulk builds the state of a busy chain: 100,000 funded addresses and
// 1,000,000 recent ids, connected as 1,000 blocks of 1,000 transfers.
func bulk(t testing.TB, blocks, perBlock, addrs int) (*Ledger, []string, time.Duration) {
	p := testParams(t, 1)
	l := New(p)
	// Cheap distinct addresses: the ledger keys balances by string and
	// checks addresses only when loading a snapshot.
	base := addr(p, 2)
	as := make([]string, addrs)
	for i := range as {
		as[i] = base + itoa(i)
	}
	miner := addr(p, 1)
	var spent time.Duration
	var id uint64
	// The ledger keeps no pointer to a block or transfer, so one set of
	// transfers is rewritten for every block.
	txs := make([]*tx.Tx, perBlock)
	for i := range txs {
		txs[i] = &tx.Tx{Sender: miner, Amount: 1000, Fee: 1000}
	}
	for h := 1; h <= blocks; h++ {
		b := &block.Block{Header: block.Header{Index: uint64(h), PrevHash: l.Tip(), Miner: miner}}
		b.Hash = [32]byte{byte(h), byte(h >> 8), byte(h >> 16), 1}
		b.Reward = tx.Reward{Receiver: miner, Amount: 50 * coin * uint64(perBlock), Index: uint64(h)}
		if h > 1 {
			b.Txs = txs
			for _, t := range txs {
				id++
				t.Receiver, t.Timestamp = as[int(id)%addrs], t0+int64(h)
				binary.BigEndian.PutUint64(t.ID[:], id)
			}
		}
		start := time.Now()
		if _, err := l.Connect(b, t0); err != nil {
			t.Fatal(err)
		}
		spent += time.Since(start)
	}
	return l, as, spent
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		if i /= 10; i == 0 {
			return string(b[n:])
		}
	}
}

// TestLargeState: a ledger of 100,000 addresses and many recent ids
// connects, clones and round-trips in modest time and memory. By default it
// holds 200,000 ids, to keep the test quick; CNJ_LARGE=1 makes it the full
// 1,000,000 (about 90 MB of heap, 1 µs per transfer connected).
func TestLargeState(t *testing.T) {
	if testing.Short() {
		t.Skip("large state in -short mode")
	}
	blocks := 200
	if os.Getenv("CNJ_LARGE") == "1" {
		blocks = 1000
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l, _, spent := bulk(t, blocks+1, 1000, 100_000)
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d ids, %d addresses: Connect %v for %d blocks, heap %d MB", l.IDs(), l.Addresses(), spent, blocks, heap>>20)
	if l.IDs() != blocks*1000 || l.Addresses() != 100_001 {
		t.Fatalf("%d ids, %d addresses", l.IDs(), l.Addresses())
	}
	if heap > int64(blocks)*400<<10 {
		t.Errorf("ledger holds %d MB", heap>>20)
	}
	start := time.Now()
	data, err := l.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c := l.Clone()
	t.Logf("snapshot %d MB, marshal+clone %v", len(data)>>20, time.Since(start))
	if c.IDs() != l.IDs() {
		t.Fatal("clone lost ids")
	}
	// Pruning a day's worth of ids at once.
	b := &block.Block{Header: block.Header{Index: l.Height() + 1, PrevHash: l.Tip(), Miner: addr(l.p, 1)}, Hash: [32]byte{7}}
	b.Reward = tx.Reward{Receiver: b.Miner, Index: b.Index}
	u, err := l.Connect(b, t0+day+600)
	if err != nil {
		t.Fatal(err)
	}
	if l.IDs() >= blocks*1000 {
		t.Fatal("nothing pruned")
	}
	if err := l.Disconnect(b, u); err != nil {
		t.Fatal(err)
	}
	if d, _ := l.MarshalBinary(); !bytes.Equal(d, data) {
		t.Fatal("prune and restore of a large set differs")
	}
}

// BenchmarkConnect measures connecting and disconnecting a block of 1,000
// transfers on a ledger of 100,000 addresses.
func BenchmarkConnect(bm *testing.B) {
	l, as, _ := bulk(bm, 101, 1000, 100_000)
	miner := addr(l.p, 1)
	b := &block.Block{Header: block.Header{Index: l.Height() + 1, PrevHash: l.Tip(), Miner: miner}, Hash: [32]byte{9}}
	b.Reward = tx.Reward{Receiver: miner, Index: b.Index}
	for i := 0; i < 1000; i++ {
		t := &tx.Tx{Sender: miner, Receiver: as[i*97%len(as)], Amount: 1000, Fee: 1000, Timestamp: t0}
		binary.BigEndian.PutUint64(t.ID[:], 1<<40+uint64(i))
		b.Txs = append(b.Txs, t)
	}
	bm.ResetTimer()
	for i := 0; i < bm.N; i++ {
		u, err := l.Connect(b, t0)
		if err != nil {
			bm.Fatal(err)
		}
		if err := l.Disconnect(b, u); err != nil {
			bm.Fatal(err)
		}
	}
}

// BenchmarkMarshal measures a snapshot of 100,000 balances and 1,000,000
// recent ids: what a writer pays for each state file of a busy chain.
func BenchmarkMarshal(bm *testing.B) {
	l, _, _ := bulk(bm, 1001, 1000, 100_000)
	ids := newIDSet(l.ids.len()) // random ids, as transfers carry
	l.ids.each(func(k idKey, e recent) {
		binary.BigEndian.PutUint64(k.id[:], rand.Uint64())
		binary.BigEndian.PutUint64(k.id[8:], rand.Uint64())
		ids.put(k, e)
	})
	l.ids = ids
	bm.ResetTimer()
	for bm.Loop() {
		if _, err := l.MarshalBinary(); err != nil {
			bm.Fatal(err)
		}
	}
}
