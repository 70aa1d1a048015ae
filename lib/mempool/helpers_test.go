package mempool

import (
	"bytes"
	"crypto/ed25519"
	"testing"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/ledger"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/pow"
	"github.com/coniunctum/cnj/lib/tx"
)

// *ledger.Ledger is what callers pass as a Ledger.
var _ Ledger = (*ledger.Ledger)(nil)

const (
	genesisTime = 1_700_000_000
	coin        = 100_000_000
	minFee      = 1000
)

// wallet is a deterministic test key.
type wallet struct {
	priv ed25519.PrivateKey
	addr string
}

func newWallet(p *params.Params, n byte) wallet {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{n}, ed25519.SeedSize))
	return wallet{priv, keys.Address(p.AddressPrefix, priv.Public().(ed25519.PublicKey))}
}

// chain is a devnet with a ledger at its tip: blocks are built on the tip
// and connected without proof of work (the ledger does not look at it).
type chain struct {
	t      testing.TB
	p      *params.Params
	led    *ledger.Ledger
	blocks []*block.Block
	undos  []*ledger.Undo
	times  []int64 // timestamps from genesis to the tip
	idSeq  uint64
}

func newChain(t testing.TB) *chain {
	t.Helper()
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: genesisTime, NoRetarget: true})
	if err != nil {
		t.Fatal(err)
	}
	return &chain{t: t, p: p, led: ledger.New(p), times: []int64{genesisTime}}
}

// build returns a block on the tip paying the reward to miner, stamped two
// seconds after the tip.
func (c *chain) build(miner string, txs ...*tx.Tx) *block.Block {
	prev := c.p.Hash()
	if n := len(c.blocks); n > 0 {
		prev = c.blocks[n-1].Hash
	}
	idx := uint64(len(c.blocks) + 1)
	b := &block.Block{Header: block.Header{Index: idx, Timestamp: c.times[len(c.times)-1] + 2, Miner: miner, PrevHash: prev, Target: c.p.InitialTarget}}
	var fees uint64
	for _, t := range txs {
		fees += t.Fee
	}
	b.Reward = tx.Reward{Receiver: miner, Amount: c.p.Subsidy(idx) + fees, Index: idx}
	b.Txs = txs
	b.MerkleRoot = block.MerkleRoot(c.p.Hash(), &b.Reward, txs)
	b.Hash = b.ComputeHash()
	b.JSON()
	return b
}

// connect connects b on the tip.
func (c *chain) connect(b *block.Block) {
	c.t.Helper()
	ts := c.times[max(0, len(c.times)-pow.MedianSpan):]
	u, err := c.led.Connect(b, pow.MedianTime(ts))
	if err != nil {
		c.t.Fatalf("connect block %d: %v", b.Index, err)
	}
	c.blocks = append(c.blocks, b)
	c.undos = append(c.undos, u)
	c.times = append(c.times, b.Timestamp)
}

// mine builds and connects a block.
func (c *chain) mine(miner string, txs ...*tx.Tx) *block.Block {
	c.t.Helper()
	b := c.build(miner, txs...)
	c.connect(b)
	return b
}

// disconnect takes back the tip block and returns it.
func (c *chain) disconnect() *block.Block {
	c.t.Helper()
	n := len(c.blocks) - 1
	b := c.blocks[n]
	if err := c.led.Disconnect(b, c.undos[n]); err != nil {
		c.t.Fatal(err)
	}
	c.blocks, c.undos, c.times = c.blocks[:n], c.undos[:n], c.times[:n+1]
	return b
}

// now is a clock shortly after the tip.
func (c *chain) now() int64 { return c.times[len(c.times)-1] + 10 }

// pay returns a signed transfer stamped at ts with a fresh id.
func (c *chain) pay(from wallet, to string, amount, fee uint64, ts int64) *tx.Tx {
	c.idSeq++
	t := &tx.Tx{Sender: from.addr, Receiver: to, Amount: amount, Fee: fee, Timestamp: ts}
	t.ID[0] = 0x1d
	for i := 0; i < 8; i++ {
		t.ID[8+i] = byte(c.idSeq >> (56 - 8*i))
	}
	t.Sign(c.p.Hash(), from.priv)
	return t
}

// resign signs t again after a change of its fields.
func (c *chain) resign(t *tx.Tx, from wallet) *tx.Tx {
	t.Sign(c.p.Hash(), from.priv)
	return t
}

// fixture is a chain on which alice has 50 CNJ spendable in the next block
// (block 1's reward), and miner has only immature rewards (blocks 2, 3).
type fixture struct {
	*chain
	alice, bob, carol, miner wallet
}

func newFixture(t testing.TB) *fixture {
	c := newChain(t)
	f := &fixture{chain: c, alice: newWallet(c.p, 1), bob: newWallet(c.p, 2), carol: newWallet(c.p, 3), miner: newWallet(c.p, 9)}
	c.mine(f.alice.addr)
	c.mine(f.miner.addr)
	c.mine(f.miner.addr)
	if bl := c.led.Balance(f.alice.addr); bl.Confirmed != 50*coin {
		t.Fatalf("alice holds %+v", bl)
	}
	return f
}

// fakeLedger is a Ledger of plain balances, for states a chain would take
// many blocks to reach.
type fakeLedger struct {
	bal map[string]uint64
	ids map[senderID]bool
}

func (l *fakeLedger) CanSpend(addr string, need uint64) error {
	if need <= l.bal[addr] {
		return nil
	}
	return errInsufficient
}

func (l *fakeLedger) HasID(sender string, id [16]byte) bool { return l.ids[senderID{sender, id}] }
