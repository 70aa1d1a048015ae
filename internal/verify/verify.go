// Package verify runs cnj-verify's stream: it reads lines, decodes them,
// checks transfer signatures in batches, and hands each batch to the node
// under one lock, calling back with each line's verdict in input order.
//
// Batching follows the input: a line that arrives alone is judged at once
// (low latency in a relay pipeline); lines that arrive together are judged
// together, up to MaxBatch, so signatures go through the batch verifier and
// the lock is taken once per batch.
package verify

import (
	"io"

	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/jsonl"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/wire"
)

// MaxBatch is the most lines judged under one lock.
const MaxBatch = 512

type read struct {
	line []byte
	num  int
	err  error
}

// Stream judges every line of in. each is called in input order with each
// line's item and verdict; flush after each batch. It returns the first
// error of reading, of the node (I/O), or of a callback.
func Stream(n *node.Node, in io.Reader, dryRun bool, each func(node.Item, node.Verdict) error, flush func() error) error {
	p := n.Params()
	lines := make(chan read, MaxBatch)
	go func() {
		defer close(lines)
		r := jsonl.NewReader(in, wire.MaxLine(p))
		for {
			l, err := r.Next()
			if err == io.EOF {
				return
			}
			lines <- read{append([]byte(nil), l...), r.Line(), err}
			if err != nil && !isVerdict(err) {
				return
			}
		}
	}()
	for {
		first, ok := <-lines
		if !ok {
			return nil
		}
		batch := []read{first}
	more:
		for len(batch) < MaxBatch {
			select {
			case r, ok := <-lines:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		items := make([]node.Item, len(batch))
		for i, r := range batch {
			if r.err != nil && !isVerdict(r.err) {
				return r.err
			}
			items[i] = decode(r, n)
		}
		checkSignatures(items, n)
		verdicts, err := n.Submit(items, dryRun)
		if err != nil {
			return err
		}
		for i := range items {
			if err := each(items[i], verdicts[i]); err != nil {
				return err
			}
		}
		if err := flush(); err != nil {
			return err
		}
	}
}

func isVerdict(err error) bool { return err != nil && ruleCode(err) != "" }

func decode(r read, n *node.Node) node.Item {
	it := node.Item{Number: r.num}
	if r.err != nil {
		it.Err = r.err
		return it
	}
	l, err := wire.Decode(r.line, n.Params())
	if err != nil {
		it.Err = err
		it.From = wire.Sender(r.line)
		return it
	}
	it.Line, it.From = l, l.From
	// A line tagged with a peer's address came on its own from the
	// relay: the side-branch policy applies to its block. An untagged
	// line is the operator's own input.
	it.Relayed = l.From.IsValid()
	return it
}

// checkSignatures verifies the batch's transfers together. Transfers that
// fail their form checks are refused here; the rest are marked SigDone when
// the batch verifies, or checked one by one to find the bad ones.
func checkSignatures(items []node.Item, n *node.Node) {
	var txs []*tx.Tx
	var idx []int
	for i := range items {
		it := &items[i]
		if it.Err != nil || it.Line.Tx == nil {
			continue
		}
		if err := consensus.CheckTxForm(it.Line.Tx, n.Params()); err != nil {
			it.Err = err
			continue
		}
		if n.Pool.Has(it.Line.Tx.Hash) {
			continue // probably a resend: the pool compares it in full
		}
		txs = append(txs, it.Line.Tx)
		idx = append(idx, i)
	}
	if len(txs) == 0 {
		return
	}
	err := consensus.VerifySignatures(txs)
	switch {
	case err == nil:
		for _, i := range idx {
			items[i].SigDone = true
		}
		return
	case len(txs) == 1:
		items[idx[0]].Err = err // the one check named it
		return
	}
	for k, i := range idx {
		if err := consensus.VerifySignatures(txs[k : k+1]); err != nil {
			items[i].Err = err
		} else {
			items[i].SigDone = true
		}
	}
}
