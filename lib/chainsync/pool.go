package chainsync

import (
	"context"
	"errors"

	"github.com/coniunctum/cnj/lib/chainhash"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/webclient"
	"github.com/coniunctum/cnj/lib/wire"
)

// The bounds of the pool's convergence (Options.PoolPerPeer, PoolPerRun).
const (
	DefaultPoolPerPeer = 500
	DefaultPoolPerRun  = 2000
)

// fetchPools takes from each peer that answered the pending transfers
// its pool holds and this node's lacks: it reads the peer's ids
// (/api/mempool/txids), fetches those of the ids this pool does not hold
// in batches (/api/mempool/txs), and judges them as cnj-verify would
// (node.Submit). At most o.PoolPerPeer transfers from one peer and
// o.PoolPerRun in the run; a peer that fails is reported and the others
// are asked. A transfer refused goes to rejects.log without the peer's IP:
// two honest pools may disagree (a payment each that the sender cannot
// cover both of), so a refusal says nothing against the peer.
func (s *syncer) fetchPools(ctx context.Context, peers []*peerState) error {
	have := make(map[chainhash.ID]bool)
	for _, t := range s.n.Pool.Txs() {
		have[t.ID] = true
	}
	left := s.o.PoolPerRun
	for _, ps := range peers {
		if ps.err != nil || left <= 0 || ctx.Err() != nil {
			continue
		}
		ids, err := s.c.PoolIDs(ctx, ps.addr)
		if err != nil {
			ps.poolErr = err
			continue
		}
		var want []chainhash.ID
		for _, id := range ids {
			if len(want) == min(s.o.PoolPerPeer, left) {
				break
			}
			if !have[id] {
				have[id] = true
				want = append(want, id)
			}
		}
		left -= len(want)
		for len(want) > 0 {
			batch := want[:min(len(want), webclient.MaxPoolBatch)]
			want = want[len(batch):]
			lines, err := s.c.PoolTxs(ctx, ps.addr, batch)
			if err != nil {
				ps.poolErr = err
				break
			}
			// An id may stand for the transfers of several senders: no
			// more lines than ids are judged.
			if err := s.judgePool(ps, lines[:min(len(lines), len(batch))]); err != nil {
				return err
			}
		}
	}
	return nil
}

// judgePool submits the transfer lines a peer's pool served.
func (s *syncer) judgePool(ps *peerState, lines [][]byte) error {
	items := make([]node.Item, len(lines))
	for i, l := range lines {
		items[i].Number = i + 1
		rec, err := wire.Decode(l, s.p)
		switch {
		case err != nil:
			items[i].Err = err
		case rec.Tx == nil || rec.From.IsValid():
			items[i].Err = rule.Errorf(rule.BadJSON, "not a transfer line")
		default:
			items[i].Line = rec
		}
	}
	vs, err := s.n.Submit(items, false)
	if err != nil {
		return local(err)
	}
	for i, v := range vs {
		switch {
		case v.Err == nil && !v.Known:
			s.rep.PoolTxs++
		case v.Err != nil:
			code := rule.CodeOf(v.Err)
			if code == "" {
				code = rule.BadJSON
			}
			if err := s.n.LogReject(items[i], rule.Errorf(code, "from the pool of %s: %s", ps.addr, msgOf(v.Err))); err != nil {
				return local(err)
			}
		}
	}
	return nil
}

// msgOf is a verdict's message without its code.
func msgOf(err error) string {
	var re *rule.Error
	if errors.As(err, &re) {
		return re.Msg
	}
	return err.Error()
}
