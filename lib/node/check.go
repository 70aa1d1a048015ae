package node

import (
	"bytes"
	"errors"
	"os"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/blockstore"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/ledger"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/txindex"
)

// replay puts every block line of the segments, in order, through a fresh
// chain with full validation: what Check compares the derived files with
// and what Reindex writes them from.
type replay struct {
	rp   *blockstore.Replay
	ch   *chain.Chain
	recs []blockstore.Record
	idx  map[[32]byte]int
	dup  map[int]bool // records of a line repeating an earlier block
}

func newReplay(d chaindir.Dir, p *params.Params) *replay {
	rp := blockstore.NewReplay(d, p.Hash())
	return &replay{rp: rp, ch: chain.New(p, rp), idx: map[[32]byte]int{}, dup: map[int]bool{}}
}

// run replays the segments; a block the fresh chain refuses stops it.
func (r *replay) run() error {
	now := time.Now().Unix()
	return r.rp.Run(func(loc blockstore.Loc, line []byte, b *block.Block) error {
		res, err := r.ch.Add(b, line, now)
		if res == nil {
			return err
		}
		for _, h := range res.Invalidated {
			if j, ok := r.idx[h]; ok {
				r.recs[j].Invalid = true
			}
		}
		rec := res.Record
		rec.Loc = loc
		if res.Duplicate {
			r.dup[len(r.recs)] = true
		} else {
			r.idx[rec.Hash] = len(r.recs)
		}
		r.recs = append(r.recs, rec)
		return nil
	})
}

// Check verifies the whole directory: every line of every segment parses
// and is intact, every block passes consensus and connects in a fresh
// in-memory chain, and the index, the state file, the transfer index (up
// to its own tip, see txindex.Check) and this node's view equal what that
// fresh replay gives. It first catches up (Refresh) and
// checks the blocks up to there. A torn last line, and index records or
// blocks a crashed writer left unfinished, are not problems: Open and the
// next writer deal with them. The first problem is returned as a
// *chaindir.CorruptError naming the file and line.
func (n *Node) Check() error {
	if n.w != nil {
		return errors.New("node: Check called inside Write")
	}
	// The state file first: a writer may replace it meanwhile, but only
	// with one at a block stored before it.
	stateData, stateReadErr := blockstore.ReadStateFile(n.dir)
	if err := n.Refresh(); err != nil {
		return err
	}
	raw, err := os.ReadFile(n.dir.File(chaindir.GenesisFile))
	if err != nil {
		return err
	}
	if !bytes.Equal(raw, append(n.p.JSON(), '\n')) {
		return chaindir.Corruptf(chaindir.GenesisFile, 1, "not the canonical genesis line")
	}

	r := newReplay(n.dir, n.p)
	defer r.rp.Close()
	mark := n.store.Mark()
	r.rp.Until = &mark
	if err := r.run(); err != nil {
		return err
	}

	// The view: what Open made of the index and the segments.
	have := n.store.Records()
	if len(r.recs) != len(have) {
		return chaindir.Corruptf(chaindir.IndexFile, 0, "the directory shows %d blocks, the segments hold %d: %s", len(have), len(r.recs), chaindir.ReindexHint)
	}
	for i := range r.recs {
		if !blockstore.SameRecord(r.recs[i], have[i], r.dup[i]) {
			return chaindir.Corruptf(chaindir.IndexFile, 0, "record %d (block %x) differs from a fresh replay: %s", i+1, have[i].Hash[:8], chaindir.ReindexHint)
		}
	}
	if err := blockstore.CheckIndexFile(n.dir, n.p.Hash(), r.recs, r.dup); err != nil {
		return err
	}

	want, err := r.ch.Ledger().MarshalBinary()
	if err != nil {
		return err
	}
	wantTip := r.ch.Tip().Hash

	// The state file: from its snapshot, the blocks since must give the
	// same ledger as the replay from genesis.
	if stateReadErr != nil {
		return stateReadErr
	}
	if stateData != nil {
		sn, err := blockstore.DecodeStateFile(stateData, n.p.Hash())
		if err != nil {
			return err
		}
		led := ledger.New(n.p)
		if err := led.UnmarshalBinary(sn.Ledger); err != nil {
			return chaindir.Corruptf(chaindir.StateFile, 0, "%v: %s", err, chaindir.ReindexHint)
		}
		nd := r.ch.Node(sn.Tip)
		if nd == nil || nd.Invalid || nd.Height != sn.Height || led.Tip() != sn.Tip || led.Height() != sn.Height {
			return chaindir.Corruptf(chaindir.StateFile, 0, "at block %x, which is not a valid stored block: %s", sn.Tip[:8], chaindir.ReindexHint)
		}
		c := chain.New(n.p, r.rp)
		if err := c.Load(r.recs, led); err != nil {
			return chaindir.Corruptf(chaindir.StateFile, 0, "the blocks since it do not connect: %v: %s", err, chaindir.ReindexHint)
		}
		got, err := c.Ledger().MarshalBinary()
		if err != nil {
			return err
		}
		if c.Tip().Hash != wantTip || !bytes.Equal(got, want) {
			return chaindir.Corruptf(chaindir.StateFile, 0, "balances differ from a replay of the blocks: %s", chaindir.ReindexHint)
		}
	}

	// The view's tip and balances.
	got, err := n.ch.Ledger().MarshalBinary()
	if err != nil {
		return err
	}
	if n.ch.Tip().Hash != wantTip || !bytes.Equal(got, want) {
		return chaindir.Corruptf(chaindir.IndexFile, 0, "the tip or balances differ from a replay of the blocks: %s", chaindir.ReindexHint)
	}

	// mempool.jsonl: transfer lines.
	for i, line := range n.mem.Lines() {
		if _, err := tx.Parse(line); err != nil {
			return chaindir.Corruptf(chaindir.MempoolFile, i+1, "%v", err)
		}
	}

	// The transfer index: that of a branch of the replay.
	return txindex.Check(n.dir, r.ch, r.ch.Block)
}

// Reindex rebuilds the derived files (index, state and the transfer
// index) of the chain directory at dir from the block segments alone,
// validating every block as Check does, under the lock. The index and the
// state are each written to a temporary file, fsynced and renamed, so a
// crash at any instant leaves the old file or the new one; the transfer
// index is made anew in place, so that a crash leaves it part built, at a
// block of the chain, for the next write to complete.
//
// It works on a directory that Open refuses. When a line cannot be used
// (it is damaged, its block is refused, or its segment is missing or does
// not decompress), that line and every line after it are set aside in
// lost/ (the lines before stay), so the directory opens again with the
// chain up to there; moved names the files set aside, relative to dir. A
// torn last line is cut, as a writer would.
func Reindex(dir string) (moved []string, err error) {
	d := chaindir.Dir(dir)
	p, err := d.ReadGenesis()
	if err != nil {
		return nil, err
	}
	lk := d.NewLock()
	defer lk.Close()
	if _, err := lk.Lock(); err != nil {
		return nil, err
	}
	if err := blockstore.CheckGenesis(d, p.Hash()); err != nil {
		return nil, err
	}
	r := newReplay(d, p)
	defer r.rp.Close()
	r.rp.Salvage = true
	if err := r.run(); err != nil {
		return nil, err
	}
	if moved, err = r.rp.SetAside(); err != nil {
		return moved, err
	}
	led := r.ch.Ledger()
	snap, err := led.MarshalBinary()
	if err != nil {
		return moved, err
	}
	err = blockstore.WriteDerived(d, p.Hash(), r.recs, blockstore.Snapshot{Tip: led.Tip(), Height: led.Height(), Ledger: snap})
	if err != nil {
		return moved, err
	}
	_, err = txindex.Rebuild(d, r.ch, r.ch.Block, txindex.Options{})
	return moved, err
}
