package node_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/wire"
)

// newNode opens a node on a chain of testchain.Build: 50 funded
// senders, no transfers yet.
func newNode(t testing.TB) (*node.Node, *testchain.Chain) {
	t.Helper()
	c, err := testchain.Build(filepath.Join(t.TempDir(), "chain"), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(c.Dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n, c
}

// payment is a transfer of 1 unit from key to itself, as a Submit item.
func payment(n *node.Node, key ed25519.PrivateKey) (*tx.Tx, node.Item) {
	p := n.Params()
	from := keys.Address(p.AddressPrefix, key.Public().(ed25519.PublicKey))
	t := &tx.Tx{Sender: from, Receiver: from, Amount: 1, Fee: p.MinFee, Timestamp: time.Now().Unix()}
	rand.Read(t.ID[:])
	t.Sign(p.Hash(), key)
	return t, node.Item{Line: &wire.Line{Raw: t.AppendJSON(nil), Tx: t}, Number: 1}
}

// blockItem is b as a Submit item.
func blockItem(b *block.Block) node.Item {
	return node.Item{Line: &wire.Line{Raw: b.JSON(), Block: b}, Number: 1}
}

// TestMempoolFileOnBlocks: a block that leaves the pool as it was leaves
// mempool.jsonl alone (same file, same bytes); a block that mines a pooled
// transfer rewrites it without that transfer.
func TestMempoolFileOnBlocks(t *testing.T) {
	n, c := newNode(t)
	submit := func(it node.Item) {
		t.Helper()
		vs, err := n.Submit([]node.Item{it}, false)
		if err != nil || vs[0].Err != nil || vs[0].Known {
			t.Fatalf("Submit: %v %+v", err, vs)
		}
	}
	pay, it := payment(n, c.Senders[1])
	submit(it)
	path := filepath.Join(c.Dir, "mempool.jsonl")
	inode := func() uint64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	before, ino := readFile(t, path), inode()
	if !bytes.Equal(before, append(pay.AppendJSON(nil), '\n')) {
		t.Fatalf("mempool.jsonl = %q", before)
	}

	miner := pay.Sender
	empty, err := testchain.Forge(n, miner, []*tx.Tx{})
	if err != nil {
		t.Fatal(err)
	}
	submit(blockItem(empty))
	if n.Chain().Tip().Hash != empty.Hash {
		t.Fatal("the empty block is not the tip")
	}
	if inode() != ino || !bytes.Equal(readFile(t, path), before) || n.Pool.Len() != 1 {
		t.Fatal("a block that left the pool alone rewrote mempool.jsonl")
	}

	full, err := testchain.Forge(n, miner, nil) // the pool's transfers
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Txs) != 1 || full.Txs[0].Hash != pay.Hash {
		t.Fatalf("the block carries %d transfers", len(full.Txs))
	}
	submit(blockItem(full))
	if got := readFile(t, path); len(got) != 0 || n.Pool.Len() != 0 {
		t.Fatalf("after the transfer was mined: mempool.jsonl = %q, pool %d", got, n.Pool.Len())
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkBlockOverPool is the cost of taking a block that carries none
// of a pool of 2000 transfers: Submit under the lock, the pool brought to
// the new tip, mempool.jsonl left as it is.
func BenchmarkBlockOverPool(b *testing.B) {
	n, c := newNode(b)
	var items []node.Item
	for i := range 2000 {
		_, it := payment(n, c.Senders[i%len(c.Senders)])
		it.Number = i + 1
		items = append(items, it)
	}
	if _, err := n.Submit(items, false); err != nil || n.Pool.Len() != 2000 {
		b.Fatalf("%v: pool of %d", err, n.Pool.Len())
	}
	miner := items[0].Line.Tx.Sender
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		blk, err := testchain.Forge(n, miner, []*tx.Tx{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		vs, err := n.Submit([]node.Item{blockItem(blk)}, false)
		if err != nil || vs[0].Err != nil {
			b.Fatalf("%v %+v", err, vs)
		}
	}
}

// TestMempoolFileIsThePool: after every write mempool.jsonl holds exactly
// the pool, line for line in admission order, through evictions one at a
// time and in a batch, and after loading a file that held lines the pool
// did not take; each eviction is one rejects.log line, reason evicted,
// naming the transfer that left.
func TestMempoolFileIsThePool(t *testing.T) {
	_, c := newNode(t)
	const max = 20
	n, err := node.OpenWith(c.Dir, node.Options{MaxPool: max})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	d := n.Dir()
	pay := func(i int, fee uint64) node.Item {
		_, it := payment(n, c.Senders[i%len(c.Senders)])
		it.Line.Tx.Fee = fee
		it.Line.Tx.Sign(n.Params().Hash(), c.Senders[i%len(c.Senders)])
		it.Line.Raw = it.Line.Tx.AppendJSON(nil)
		return it
	}
	exact := func(when string) {
		t.Helper()
		var want []byte
		for _, x := range n.Pool.Txs() {
			want = append(x.AppendJSON(want), '\n')
		}
		got, err := os.ReadFile(d.File("mempool.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: mempool.jsonl holds %d lines, the pool %d transfers", when, bytes.Count(got, []byte("\n")), n.Pool.Len())
		}
	}
	minFee := n.Params().MinFee
	var evicted [][16]byte
	submit := func(when string, items ...node.Item) {
		t.Helper()
		before := n.Pool.Txs()
		vs, err := n.Submit(items, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if v.Err != nil || v.Known {
				t.Fatalf("%s: %+v", when, v)
			}
		}
		for _, x := range before {
			if !n.Pool.Has(x.Hash) {
				evicted = append(evicted, x.ID)
			}
		}
		exact(when)
	}
	var items []node.Item
	for i := range max {
		items = append(items, pay(i, minFee))
	}
	submit("filling the pool", items...)
	for i := range 5 {
		submit("one eviction", pay(i, minFee+1+uint64(i)))
	}
	items = items[:0]
	for i := range 10 {
		items = append(items, pay(i, minFee+100+uint64(i)))
	}
	submit("ten evictions in a batch", items...)
	if len(evicted) != 15 || n.Pool.Len() != max {
		t.Fatalf("%d evicted, %d pooled", len(evicted), n.Pool.Len())
	}
	logged := rejectsWith(t, d.File("rejects.log"), "evicted")
	if len(logged) != len(evicted) {
		t.Fatalf("rejects.log holds %d evictions, %d happened", len(logged), len(evicted))
	}
	all := bytes.Join(logged, []byte("\n"))
	for i, id := range evicted {
		if bytes.Count(all, []byte(`"id":"`+hexOf(id[:])+`"`)) != 1 {
			t.Fatalf("eviction %d (%x) is not logged once:\n%s", i+1, id, all)
		}
	}

	// A file that holds a line the pool does not take is made exact by the
	// next write.
	f, err := os.OpenFile(d.File("mempool.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte(`{"type":"tx","garbage":1}` + "\n"))
	f.Close()
	again := n.Pool.Txs()[0]
	vs, err := n.Submit([]node.Item{{Line: &wire.Line{Raw: again.AppendJSON(nil), Tx: again}, Number: 1}}, false)
	if err != nil || !vs[0].Known {
		t.Fatalf("resending a pooled transfer: %+v, %v", vs, err)
	}
	exact("after a line the pool does not take")
}

// rejectsWith returns the lines of a rejects.log whose reason is reason.
func rejectsWith(t *testing.T, path, reason string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		if bytes.Contains(l, []byte(`"reason":"`+reason+`"`)) {
			out = append(out, l)
		}
	}
	return out
}

func hexOf(b []byte) string { return fmt.Sprintf("%x", b) }
