package consensus_test

import (
	"crypto/ed25519"
	"testing"

	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/pow"
	"github.com/coniunctum/cnj/lib/tx"
)

// t0 is the genesis time of every test devnet.
const t0 = 1_800_000_000

// devnet returns a fresh retargeting devnet born at t0.
func devnet(t *testing.T) *params.Params {
	t.Helper()
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: t0})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// key is a test key and its address on one network.
type key struct {
	priv ed25519.PrivateKey
	addr string
}

func newKey(p *params.Params, seed byte) key {
	var s [32]byte
	s[0] = seed
	priv := ed25519.NewKeyFromSeed(s[:])
	return key{priv, keys.Address(p.AddressPrefix, priv.Public().(ed25519.PublicKey))}
}

// transfer returns a signed transfer of 1 CNJ at the minimum fee from
// from to to, stamped t0, whose id starts with n; edit, when not nil,
// changes it before it is signed.
func transfer(p *params.Params, from key, to string, n byte, edit func(*tx.Tx)) *tx.Tx {
	t := &tx.Tx{ID: [16]byte{n}, Sender: from.addr, Receiver: to, Amount: amount.Coin, Fee: p.MinFee, Timestamp: t0}
	if edit != nil {
		edit(t)
	}
	t.Sign(p.Hash(), from.priv)
	return t
}

// body returns block 1, stamped t0 and mined by m, carrying txs and the
// whole reward (subsidy + fees), sealed. It has no proof: CheckBody does
// not look.
func body(p *params.Params, m key, txs ...*tx.Tx) *block.Block {
	b := &block.Block{Header: block.Header{Index: 1, Timestamp: t0, Miner: m.addr, PrevHash: p.Hash(), Target: p.InitialTarget}, Txs: txs}
	var fees uint64
	for _, t := range txs {
		fees += t.Fee
	}
	b.Reward = tx.Reward{Receiver: m.addr, Amount: p.Subsidy(1) + fees, Index: 1}
	seal(p, b)
	return b
}

// seal sets b's merkle root and size after an edit, as a miner would.
func seal(p *params.Params, b *block.Block) {
	b.MerkleRoot = block.MerkleRoot(p.Hash(), &b.Reward, b.Txs)
	b.JSON()
}

// branch returns the context of a child of block 11: genesis and 11
// blocks one second apart, twice as fast as the devnet's spacing, so that
// the retarget rule gives a target below the limit. The clock reads the
// parent's time.
func branch(t *testing.T, p *params.Params) *consensus.Context {
	c := &consensus.Context{ParentIndex: 11, Now: t0 + 11}
	for i := range int64(12) {
		c.Branch = append(c.Branch, pow.Point{Timestamp: t0 + i, Target: p.InitialTarget})
	}
	if consensus.NextTarget(p, c) == p.InitialTarget {
		t.Fatal("the test branch does not retarget")
	}
	return c
}

// header returns the child of c's last block, one second after it, with
// the retarget rule's target; edit changes it before it is mined.
func header(p *params.Params, c *consensus.Context, m key, edit func(*block.Block)) *block.Block {
	last := c.Branch[len(c.Branch)-1]
	b := &block.Block{Header: block.Header{
		Index:     c.ParentIndex + 1,
		Timestamp: last.Timestamp + 1,
		Miner:     m.addr,
		Target:    consensus.NextTarget(p, c),
	}}
	b.Reward = tx.Reward{Receiver: m.addr, Amount: p.Subsidy(b.Index), Index: b.Index}
	if edit != nil {
		edit(b)
	}
	b.MerkleRoot = block.MerkleRoot(p.Hash(), &b.Reward, b.Txs)
	mine(b)
	return b
}

// mine sets b's proof to the first proof above 0 that meets b's target
// while the proof before it does not, and b's hash: so proof-1 is a near
// miss with high-hash.
func mine(b *block.Block) {
	prev := meets(b, 0)
	for b.Proof = 1; ; b.Proof++ {
		cur := meets(b, b.Proof)
		if cur && !prev {
			break
		}
		prev = cur
	}
	b.Hash = b.ComputeHash()
}

func meets(b *block.Block, proof uint64) bool {
	h := b.Header
	h.Proof = proof
	hash := h.ComputeHash()
	return pow.Meets(&hash, &h.Target)
}
