package node_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/chainsync/chainsynctest"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/wire"
)

// TestMempoolFileOnBlocks: a block that leaves the pool as it was leaves
// mempool.jsonl alone (same file, same bytes); a block that mines a pooled
// transfer rewrites it without that transfer.
func TestMempoolFileOnBlocks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "chain")
	if _, err := chainsynctest.Build(dir, 1, 0); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	p := n.Params()
	// A sender Build funded (its keys are derived as Build derives them).
	seed := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("sync-bench-sender"), 1))
	key := ed25519.NewKeyFromSeed(seed[:])
	from := keys.Address(p.AddressPrefix, key.Public().(ed25519.PublicKey))
	pay := &tx.Tx{Sender: from, Receiver: from, Amount: 1, Fee: p.MinFee, Timestamp: time.Now().Unix()}
	rand.Read(pay.ID[:])
	pay.Sign(p.Hash(), key)
	submit := func(l *wire.Line) {
		t.Helper()
		vs, err := n.Submit([]node.Item{{Line: l, Number: 1}}, false)
		if err != nil || vs[0].Err != nil || vs[0].Known {
			t.Fatalf("Submit: %v %+v", err, vs)
		}
	}
	submit(&wire.Line{Raw: pay.AppendJSON(nil), Tx: pay})
	path := filepath.Join(dir, "mempool.jsonl")
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

	empty, err := chainsynctest.Forge(n, from, []*tx.Tx{})
	if err != nil {
		t.Fatal(err)
	}
	submit(&wire.Line{Raw: empty.JSON(), Block: empty})
	if n.Chain().Tip().Hash != empty.Hash {
		t.Fatal("the empty block is not the tip")
	}
	if inode() != ino || !bytes.Equal(readFile(t, path), before) || n.Pool.Len() != 1 {
		t.Fatal("a block that left the pool alone rewrote mempool.jsonl")
	}

	full, err := chainsynctest.Forge(n, from, nil) // the pool's transfers
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Txs) != 1 || full.Txs[0].Hash != pay.Hash {
		t.Fatalf("the block carries %d transfers", len(full.Txs))
	}
	submit(&wire.Line{Raw: full.JSON(), Block: full})
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
	dir := filepath.Join(b.TempDir(), "chain")
	if _, err := chainsynctest.Build(dir, 1, 0); err != nil {
		b.Fatal(err)
	}
	n, err := node.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	p := n.Params()
	var items []node.Item
	var miner string
	for i := range 2000 {
		seed := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("sync-bench-sender"), uint64(i%50)))
		key := ed25519.NewKeyFromSeed(seed[:])
		from := keys.Address(p.AddressPrefix, key.Public().(ed25519.PublicKey))
		miner = from
		t := &tx.Tx{Sender: from, Receiver: from, Amount: 1, Fee: p.MinFee, Timestamp: time.Now().Unix()}
		rand.Read(t.ID[:])
		t.Sign(p.Hash(), key)
		items = append(items, node.Item{Line: &wire.Line{Raw: t.AppendJSON(nil), Tx: t}, Number: i + 1})
	}
	if _, err := n.Submit(items, false); err != nil || n.Pool.Len() != 2000 {
		b.Fatalf("%v: pool of %d", err, n.Pool.Len())
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		blk, err := chainsynctest.Forge(n, miner, []*tx.Tx{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		vs, err := n.Submit([]node.Item{{Line: &wire.Line{Raw: blk.JSON(), Block: blk}, Number: 1}}, false)
		if err != nil || vs[0].Err != nil {
			b.Fatalf("%v %+v", err, vs)
		}
	}
}
