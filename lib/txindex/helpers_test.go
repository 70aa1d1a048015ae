package txindex_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/txindex"
	"github.com/coniunctum/cnj/lib/wire"
)

// testOptions make generations of four heights, so that the tests cross
// many.
var testOptions = txindex.WithGenShift(txindex.Options{}, 2)

// key is a deterministic test wallet.
type key struct {
	priv ed25519.PrivateKey
	addr string
}

func newKey(p *params.Params, i int) key {
	seed := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("txindex-test"), uint64(i)))
	priv := ed25519.NewKeyFromSeed(seed[:])
	return key{priv, keys.Address(p.AddressPrefix, priv.Public().(ed25519.PublicKey))}
}

// rig is a chain directory on a devnet with funded keys.
type rig struct {
	t    *testing.T
	p    *params.Params
	dir  string
	n    *node.Node
	keys []key
	seq  uint64
}

// newRig makes a directory whose first blocks pay each of nkeys keys, and
// matures them.
func newRig(t *testing.T, nkeys int) *rig {
	t.Helper()
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: time.Now().Unix() - 3600, NoRetarget: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "chain")
	if err := node.Create(dir, p); err != nil {
		t.Fatal(err)
	}
	n, err := node.OpenWith(dir, node.Options{Index: testOptions})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, p: p, dir: dir, n: n}
	t.Cleanup(func() { r.n.Close() })
	for i := range nkeys {
		r.keys = append(r.keys, newKey(p, i))
	}
	for _, k := range r.keys {
		r.mine(k.addr)
	}
	for range p.Maturity {
		r.mine(r.keys[0].addr)
	}
	return r
}

// transfer signs a transfer.
func (r *rig) transfer(from key, to string, amount uint64) *tx.Tx {
	r.seq++
	t := &tx.Tx{Sender: from.addr, Receiver: to, Amount: amount, Fee: r.p.MinFee, Timestamp: time.Now().Unix()}
	id := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("txindex-test-id"), r.seq))
	copy(t.ID[:], id[:])
	t.Sign(r.p.Hash(), from.priv)
	return t
}

// mine forges the next block on r.n's tip paying miner with txs and
// stores it; it returns the block.
func (r *rig) mine(miner string, txs ...*tx.Tx) *block.Block {
	r.t.Helper()
	return mineOn(r.t, r.n, miner, txs...)
}

func mineOn(t *testing.T, n *node.Node, miner string, txs ...*tx.Tx) *block.Block {
	t.Helper()
	if txs == nil {
		txs = []*tx.Tx{}
	}
	b, err := testchain.Forge(n, miner, txs)
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := n.AddMined(b)
	if err != nil || v.Err != nil || v.Known {
		t.Fatalf("block %d not taken: %v %+v", b.Index, err, v)
	}
	return b
}

// fork copies the directory as it is now into a second one, for a
// competing branch; close it when done.
func (r *rig) fork() *node.Node {
	r.t.Helper()
	dst := filepath.Join(r.t.TempDir(), "fork")
	if err := os.CopyFS(dst, os.DirFS(r.dir)); err != nil {
		r.t.Fatal(err)
	}
	n, err := node.Open(dst)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { n.Close() })
	return n
}

// feed submits blocks (as lines) to r.n.
func (r *rig) feed(bs ...*block.Block) {
	r.t.Helper()
	var items []node.Item
	for _, b := range bs {
		l, err := wire.Decode(b.JSON(), r.p)
		if err != nil {
			r.t.Fatal(err)
		}
		items = append(items, node.Item{Line: l, Number: len(items) + 1})
	}
	vs, err := r.n.Submit(items, false)
	if err != nil {
		r.t.Fatal(err)
	}
	for i, v := range vs {
		if v.Err != nil {
			r.t.Fatalf("block %d refused: %v", i, v.Err)
		}
	}
}

// reader opens a Reader of r's index.
func (r *rig) reader() *txindex.Reader {
	rd := txindex.NewReader(chaindir.Dir(r.dir), r.p.Hash(), time.Second)
	r.t.Cleanup(func() { rd.Close() })
	return rd
}

// want is the index a scan of the main chain gives.
type want struct {
	locs    map[string][]txindex.Loc // txid (bytes as a string) -> locations
	history map[[20]byte][]txindex.Entry
	stats   map[[20]byte]txindex.Stats
}

func scan(t *testing.T, c *chain.Chain) want {
	t.Helper()
	w := want{locs: map[string][]txindex.Loc{}, history: map[[20]byte][]txindex.Entry{}, stats: map[[20]byte]txindex.Stats{}}
	pay := func(a string) [20]byte {
		_, p, err := keys.ParseAddress(a)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	add := func(a string, e txindex.Entry, funded, spent uint64) {
		p := pay(a)
		w.history[p] = append(w.history[p], e)
		s := w.stats[p]
		if e.Flags&(txindex.Received|txindex.Mined) != 0 {
			s.FundedCount++
			s.FundedSum = s.FundedSum.Add(funded)
		}
		if e.Flags&txindex.Sent != 0 {
			s.SpentCount++
			s.SpentSum = s.SpentSum.Add(spent)
		}
		s.TxCount++
		w.stats[p] = s
	}
	for h := uint64(1); h <= c.Tip().Height; h++ {
		b, err := c.Block(c.AtHeight(h))
		if err != nil {
			t.Fatal(err)
		}
		leaf := block.Leaf(b.Reward.Canonical())
		w.locs[string(leaf[:])] = append(w.locs[string(leaf[:])], txindex.Loc{Height: h})
		add(b.Reward.Receiver, txindex.Entry{Loc: txindex.Loc{Height: h}, Flags: txindex.Mined}, b.Reward.Amount, 0)
		for i, x := range b.Txs {
			l := txindex.Loc{Height: h, Pos: uint32(i + 1)}
			w.locs[string(x.ID[:])] = append(w.locs[string(x.ID[:])], l)
			if x.Sender == x.Receiver {
				add(x.Sender, txindex.Entry{Loc: l, Flags: txindex.Sent | txindex.Received}, x.Amount, x.Amount+x.Fee)
				continue
			}
			add(x.Sender, txindex.Entry{Loc: l, Flags: txindex.Sent}, 0, x.Amount+x.Fee)
			add(x.Receiver, txindex.Entry{Loc: l, Flags: txindex.Received}, x.Amount, 0)
		}
	}
	return w
}

// reopen opens r's directory in a new node, closed with the test.
func reopen(t *testing.T, r *rig) *node.Node {
	t.Helper()
	n, err := node.Open(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// inode is the index file's: a new index is made under another name and
// renamed into place.
func inode(t *testing.T, r *rig) uint64 {
	t.Helper()
	fi, err := os.Stat(chaindir.Dir(r.dir).File(chaindir.TxIndexFile))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}
