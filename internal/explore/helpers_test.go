package explore_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/explore"
	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/txindex"
	"github.com/coniunctum/cnj/lib/web"
	"github.com/coniunctum/cnj/lib/wire"
)

// wallet is a deterministic key of the test chain.
type wallet struct {
	priv ed25519.PrivateKey
	addr string
}

// testChain is the chain directory newChain builds:
//
//	genesis - 1 - 2 - 3 - 4 - 5 - 6     main chain, tip 6
//	           \
//	            3'                      side branch, paid to dave
//
//	blocks 1..5   rewards to alice
//	block 5       also alice -> bob 10 CNJ (mined)
//	block 6       reward to carol
//	block 3'      reward to dave
//	mempool       bob -> carol 1 CNJ (pending)
type testChain struct {
	dir                     string
	p                       *params.Params
	alice, bob, carol, dave wallet
	blocks                  []*block.Block // blocks[h] is main-chain block h, h >= 1
	side                    *block.Block   // 3', stored after block 6
	mined, pending          *tx.Tx
}

// newChain builds the directory of testChain. All the building of this
// package's tests is here, so that a change of the directory API is a
// change of this function alone.
func newChain(t *testing.T) *testChain {
	t.Helper()
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: time.Now().Unix() - 60, NoRetarget: true})
	if err != nil {
		t.Fatal(err)
	}
	w := func(i int) wallet {
		seed := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("explore-test"), uint64(i)))
		priv := ed25519.NewKeyFromSeed(seed[:])
		return wallet{priv, keys.Address(p.AddressPrefix, priv.Public().(ed25519.PublicKey))}
	}
	c := &testChain{dir: filepath.Join(t.TempDir(), "chain"), p: p,
		alice: w(1), bob: w(2), carol: w(3), dave: w(4), blocks: make([]*block.Block, 7)}
	if err := node.Create(c.dir, p); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(c.dir)
	if err != nil {
		t.Fatal(err)
	}

	// forge makes the next block on the tip with txs (nil: the pool's).
	forge := func(miner string, txs []*tx.Tx) *block.Block {
		t.Helper()
		b, err := testchain.Forge(n, miner, txs)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	add := func(b *block.Block, tip bool) {
		t.Helper()
		v, _, err := n.AddMined(b)
		if err != nil || v.Err != nil || v.Known || v.Tip != tip {
			t.Fatalf("block %d: %v %+v", b.Index, err, v)
		}
	}
	transfer := func(from wallet, to string, amt uint64) *tx.Tx {
		t.Helper()
		x := &tx.Tx{Sender: from.addr, Receiver: to, Amount: amt, Fee: p.MinFee, Timestamp: n.Now()}
		rand.Read(x.ID[:])
		x.Sign(p.Hash(), from.priv)
		vs, err := n.Submit([]node.Item{{Line: &wire.Line{Raw: x.AppendJSON(nil), Tx: x}, Number: 1}}, false)
		if err != nil || vs[0].Err != nil || vs[0].Known {
			t.Fatalf("transfer: %v %+v", err, vs)
		}
		return x
	}

	for h := 1; h <= 4; h++ {
		if h == 3 {
			// 3' is forged on block 2 now and stored at the end.
			c.side = forge(c.dave.addr, []*tx.Tx{})
		}
		c.blocks[h] = forge(c.alice.addr, []*tx.Tx{})
		add(c.blocks[h], true)
	}
	c.mined = transfer(c.alice, c.bob.addr, 10*amount.Coin)
	c.blocks[5] = forge(c.alice.addr, nil)
	if len(c.blocks[5].Txs) != 1 {
		t.Fatalf("block 5 carries %d transfers", len(c.blocks[5].Txs))
	}
	add(c.blocks[5], true)
	c.blocks[6] = forge(c.carol.addr, []*tx.Tx{})
	add(c.blocks[6], true)
	add(c.side, false)
	c.pending = transfer(c.bob, c.carol.addr, amount.Coin)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	return c
}

// open opens the node of a chain directory for the length of the test.
func open(t *testing.T, dir string) *node.Node {
	t.Helper()
	n, err := node.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// lookup returns the lookups of n through its transfer index, for the
// length of the test.
func lookup(t *testing.T, n *node.Node) explore.Lookup {
	t.Helper()
	x := txindex.NewReader(n.Dir(), n.Params().Hash(), 0)
	t.Cleanup(func() { x.Close() })
	return explore.Lookup{N: n, X: x}
}

// serve serves the chain directory with the web app (cnj-serve) for the
// length of the test and returns a Remote that asks it.
func serve(t *testing.T, dir string) *explore.Remote {
	t.Helper()
	s, err := web.New(web.Config{Chain: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	r, err := explore.NewRemote(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
