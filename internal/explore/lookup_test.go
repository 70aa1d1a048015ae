package explore_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/explore"
	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/txindex"
	"github.com/coniunctum/cnj/lib/wire"
)

// TestLookupsOverALaggingIndex: the index stays on a branch the chain
// left (a writer could not have it: a read held it), with entries at
// heights the new branch holds other blocks at. Lookups through it answer
// what the blocks alone answer: transactions, histories page by page,
// totals.
func TestLookupsOverALaggingIndex(t *testing.T) {
	c := newChain(t)
	// A copy of the directory at the tip (6), where a longer branch from
	// block 4 is mined: blocks 5' 6' 7', 7' with a transfer of its own.
	fork := filepath.Join(t.TempDir(), "fork")
	if err := os.CopyFS(fork, os.DirFS(c.dir)); err != nil {
		t.Fatal(err)
	}
	opts := node.Options{Index: txindex.Options{Wait: 20 * time.Millisecond}}
	n, err := node.OpenWith(c.dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	f, err := node.OpenWith(fork, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var branch []*block.Block
	parent := c.blocks[4]
	for i := range 3 {
		txs := []*tx.Tx{} // not nil: Forge would take the mempool's
		if i == 2 {
			x := &tx.Tx{Sender: c.alice.addr, Receiver: c.carol.addr, Amount: 5, Fee: c.p.MinFee, Timestamp: f.Now()}
			rand.Read(x.ID[:])
			x.Sign(c.p.Hash(), c.alice.priv)
			txs = []*tx.Tx{x}
		}
		b, err := forgeOn(f, parent, c.dave.addr, txs)
		if err != nil {
			t.Fatal(err)
		}
		branch = append(branch, b)
		parent = b
	}

	// A read holds the index while the node switches branches: its writes
	// store the blocks, the index stays on 1..6.
	x := txindex.NewReader(n.Dir(), n.Params().Hash(), 0)
	defer x.Close()
	hold, held := make(chan struct{}), make(chan struct{})
	release := sync.OnceFunc(func() { close(hold) })
	defer release()
	go x.View(func(*txindex.View) error { close(held); <-hold; return nil })
	<-held
	var items []node.Item
	for i, b := range branch {
		l, err := wire.Decode(b.JSON(), c.p)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, node.Item{Line: l, Number: i + 1})
	}
	vs, err := n.Submit(items, false)
	if err != nil || n.Chain().Tip().Hash != branch[2].Hash {
		t.Fatalf("the branch did not become the tip: %v %+v", err, vs)
	}
	release()
	if n.IndexError() == nil {
		t.Fatal("the write had the index: the test needs it held")
	}
	err = x.View(func(v *txindex.View) error {
		hash, _, _ := v.Tip()
		if hash != c.blocks[6].Hash {
			t.Fatalf("the index moved to %x", hash[:4])
		}
		if a, _ := v.Agree(n.Chain()); a != 4 {
			t.Fatalf("Agree = %d, want 4", a)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	indexed := explore.Lookup{N: n, X: x}
	blocks := explore.Lookup{N: n} // no index: the blocks alone
	for _, a := range []string{c.alice.addr, c.bob.addr, c.carol.addr, c.dave.addr} {
		for _, page := range []int{0, 1, 2} {
			got, want := pages(t, indexed, a, page), pages(t, blocks, a, page)
			if !bytes.Equal(got, want) {
				t.Errorf("history of %s in pages of %d:\n index %s\nblocks %s", a, page, got, want)
			}
		}
		gs, err1 := indexed.Stats(a)
		ws, err2 := blocks.Stats(a)
		if err1 != nil || err2 != nil || gs != ws {
			t.Errorf("totals of %s: %+v %v, blocks alone %+v %v", a, gs, err1, ws, err2)
		}
	}
	for _, id := range [][]byte{c.mined.ID[:], branch[2].Txs[0].ID[:], rewardLeaf(c.blocks[6]), rewardLeaf(branch[0])} {
		line := func(f explore.Found, err error) string {
			if err != nil {
				return err.Error()
			}
			return string(explore.AppendTx(nil, f))
		}
		g, err1 := indexed.FindTx(id)
		w, err2 := blocks.FindTx(id)
		if got, want := line(g, err1), line(w, err2); got != want {
			t.Errorf("tx %x:\n index %s\nblocks %s", id, got, want)
		}
	}
}

// pages returns addr's whole history read in pages of n (0: one), as
// lines.
func pages(t *testing.T, l explore.Lookup, addr string, n int) []byte {
	t.Helper()
	var out []byte
	var after []byte
	for {
		k := 0
		err := l.History(addr, after, n, func(f explore.Found) bool {
			out = append(explore.AppendEvent(out, explore.EventOf(f, addr)), '\n')
			after = f.TxID()
			k++
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 || k < n {
			return out
		}
	}
}

// forgeOn forges a block on parent (a block of n's chain, not
// necessarily its tip) paying miner with txs.
func forgeOn(n *node.Node, parent *block.Block, miner string, txs []*tx.Tx) (*block.Block, error) {
	b, err := testchain.Forge(n, miner, txs)
	if err != nil {
		return nil, err
	}
	b.Index, b.PrevHash, b.Timestamp = parent.Index+1, parent.Hash, parent.Timestamp+1
	b.Reward.Index = b.Index
	b.Reward.Amount = n.Params().Subsidy(b.Index)
	for _, x := range txs {
		b.Reward.Amount += x.Fee
	}
	b.MerkleRoot = block.MerkleRoot(n.Params().Hash(), &b.Reward, b.Txs)
	return b, testchain.Prove(b)
}
