package node

import (
	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/wire"
)

// blockOverhead is room kept in a template for the header fields and the
// reward around the transfers.
const blockOverhead = 1024

// BlockRoom is the bytes of a block line of network p that its transfers
// may take, each counted as its JSON line and a comma (as
// block.CanonicalSize counts them): the size limit that consensus puts on
// the whole line, less blockOverhead for the header and the reward.
// Template fills this room; cnj-serve projects the next blocks into it.
func BlockRoom(p *params.Params) int { return int(p.MaxBlockBytes) - blockOverhead }

// Template returns the next block to mine on the tip, paying miner: the
// mempool's transfers by fee, the subsidy plus their fees as the reward, the
// retarget rule's target and a timestamp of now, or just above the median
// time past when the clock is behind it. Proof and Hash are left zero.
func (n *Node) Template(miner string) *block.Block {
	c := n.Chain()
	tip := c.Tip()
	now := n.Now()
	ts := max(now, c.MedianTime(tip)+1)
	txs := n.Pool.Template(c.Ledger(), ts, BlockRoom(n.p))
	var fees uint64
	for _, t := range txs {
		fees, _ = amount.Add(fees, t.Fee) // pool transfers are valid: no overflow
	}
	b := &block.Block{
		Header: block.Header{
			Index:     tip.Height + 1,
			Timestamp: ts,
			Miner:     miner,
			PrevHash:  tip.Hash,
			Target:    consensus.NextTarget(n.p, c.Context(tip, now)),
		},
		Reward: tx.Reward{Receiver: miner, Amount: n.p.Subsidy(tip.Height+1) + fees, Index: tip.Height + 1},
		Txs:    txs,
	}
	b.MerkleRoot = block.MerkleRoot(n.p.Hash(), &b.Reward, b.Txs)
	return b
}

// AddMined stores a block this process mined and returns its verdict.
func (n *Node) AddMined(b *block.Block) (Verdict, []byte, error) {
	line := b.JSON()
	vs, err := n.Submit([]Item{{Line: &wire.Line{Raw: line, Block: b}, Number: 1}}, false)
	if err != nil {
		return Verdict{}, nil, err
	}
	return vs[0], line, nil
}

// PendingOut is what addr already spends in the mempool: amounts plus fees.
func (n *Node) PendingOut(addr string) uint64 {
	var out uint64
	for _, t := range n.Pool.Txs() {
		if t.Sender == addr {
			out += t.Amount + t.Fee
		}
	}
	return out
}
