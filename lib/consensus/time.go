package consensus

import (
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/pow"
	"github.com/coniunctum/cnj/lib/rule"
)

// The windows themselves are constants of package params, which no genesis
// file changes: MedianSpan (11 blocks), MaxFuture (2 h), TxWindowAfter
// (24 h) and TxWindowBefore (2 h).

// MedianTime is the median time past of the branch's last block.
func (c *Context) MedianTime() int64 {
	ts := make([]int64, 0, params.MedianSpan)
	for i := max(0, len(c.Branch)-params.MedianSpan); i < len(c.Branch); i++ {
		ts = append(ts, c.Branch[i].Timestamp)
	}
	return pow.MedianTime(ts)
}

// checkHeaderTime checks a header's timestamp: above the median time past
// of its branch and at most MaxFuture ahead of the node's clock.
func checkHeaderTime(b *block.Block, c *Context) error {
	if mtp := c.MedianTime(); b.Timestamp <= mtp {
		return rule.Errorf(rule.TimeTooOld, "timestamp %d not above the median time past %d", b.Timestamp, mtp)
	}
	if b.Timestamp > c.Now+params.MaxFuture {
		return rule.Errorf(rule.TimeTooNew, "timestamp %d more than 2 h ahead of %d", b.Timestamp, c.Now)
	}
	return nil
}

// TxTimeOK reports whether a transfer stamped txTime may be in a block
// stamped blockTime: at most 24 h after it and at most 2 h before it.
func TxTimeOK(txTime, blockTime int64) bool {
	return blockTime <= txTime+params.TxWindowAfter && blockTime >= txTime-params.TxWindowBefore
}
