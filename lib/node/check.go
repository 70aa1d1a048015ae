package node

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/blockstore"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/ledger"
	"github.com/coniunctum/cnj/lib/mempool"
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
		if err := checkState(n.p, r, sn, wantTip, want); err != nil {
			return err
		}
	}

	if err := checkUndo(n.dir, n.p, r.ch); err != nil {
		return err
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
	// mempool.bin, when it fits the lines and the tip, gives the pool the
	// lines give when each is judged in full.
	fromBin := mempool.New(n.p, n.o.MaxPool)
	if tail, ok := n.poolFromBin(fromBin); ok {
		led, now := n.ch.Ledger(), n.NextTime()
		fromBin.Load(tail, led, now)
		full := mempool.New(n.p, n.o.MaxPool)
		full.Load(n.mem.Lines(), led, now)
		a, b := fromBin.Txs(), full.Txs()
		if !slices.EqualFunc(a, b, func(x, y *tx.Tx) bool { return *x == *y }) {
			return chaindir.Corruptf(chaindir.MempoolBinFile, 0, "holds %d transfers, the lines of %s give %d or others: %s", len(a), chaindir.MempoolFile, len(b), chaindir.ReindexHint)
		}
	}

	// The transfer index: that of a branch of the replay.
	return txindex.Check(n.dir, r.ch, r.ch.Block)
}

// checkUndo checks the undo file against a replay: every record whole (a
// torn last one is a crashed write, not damage), and the record of each
// main-chain block whose undo data the replay holds equal to it. Records
// of other blocks (side branches, blocks a crashed writer never indexed)
// are not damage.
func checkUndo(d chaindir.Dir, p *params.Params, ch *chain.Chain) error {
	recs, err := blockstore.ReadUndoFile(d, p.Hash())
	if err != nil {
		return err
	}
	for _, u := range recs {
		nd := ch.Node(u.Hash)
		if nd == nil || ch.AtHeight(nd.Height) != nd {
			continue
		}
		want := ch.Undo(nd)
		if nd.Height != u.Height || (want != nil && !bytes.Equal(want, u.Data)) {
			return chaindir.Corruptf(chaindir.UndoFile, 0, "the record of block %d (%x) differs from a replay of the blocks: %s", nd.Height, u.Hash[:8], chaindir.ReindexHint)
		}
	}
	return nil
}

// undoRecords returns the undo data the chain holds for its main chain,
// oldest first: what Reindex writes to the undo file.
func undoRecords(ch *chain.Chain) []blockstore.UndoRecord {
	var out []blockstore.UndoRecord
	tip := ch.Tip().Height
	for h := uint64(1); h <= tip; h++ {
		if h+chain.UndoDepth <= tip {
			continue
		}
		nd := ch.AtHeight(h)
		if data := ch.Undo(nd); data != nil {
			out = append(out, blockstore.UndoRecord{Hash: nd.Hash, Height: h, Data: data})
		}
	}
	return out
}

// checkState checks a state file's snapshot against a replay: from it,
// the blocks since must give the replay's tip and ledger (want). A
// snapshot an older build wrote is not damage: Open replays the blocks
// instead of using it, and the next write replaces it.
func checkState(p *params.Params, r *replay, sn blockstore.Snapshot, wantTip [32]byte, want []byte) error {
	led := ledger.New(p)
	err := led.UnmarshalBinary(sn.Ledger)
	switch {
	case errors.Is(err, ledger.ErrOldVersion):
		return nil
	case err != nil:
		return chaindir.Corruptf(chaindir.StateFile, 0, "%v: %s", err, chaindir.ReindexHint)
	}
	nd := r.ch.Node(sn.Tip)
	if nd == nil || nd.Invalid || nd.Height != sn.Height || led.Tip() != sn.Tip || led.Height() != sn.Height {
		return chaindir.Corruptf(chaindir.StateFile, 0, "at block %x, which is not a valid stored block: %s", sn.Tip[:8], chaindir.ReindexHint)
	}
	c := chain.New(p, r.rp)
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
	return nil
}

// Reindex rebuilds the derived files (index, state, undo and the transfer
// index) of the chain directory at dir from the block segments alone,
// validating every block as Check does, under the lock. The index, the
// state and the undo file are each written to a temporary file, fsynced
// and renamed, so a crash at any instant leaves the old file or the new
// one; the transfer index is made anew in place, so that a crash leaves it
// part built, at a block of the chain, for the next write to complete. The undo file gets the undo data of the last UndoDepth
// main-chain blocks (a directory of an older build has none); mempool.bin
// is removed, for the next writer to write again.
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
	if err := blockstore.WriteDerived(d, p.Hash(), r.recs, blockstore.Snapshot{Tip: led.Tip(), Height: led.Height(), Ledger: snap}); err != nil {
		return moved, err
	}
	// mempool.bin goes: the next writer writes it from the lines.
	if err := os.Remove(d.File(chaindir.MempoolBinFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return moved, err
	}
	if err := blockstore.WriteUndoFile(d, p.Hash(), undoRecords(r.ch)); err != nil {
		return moved, err
	}
	_, err = txindex.Rebuild(d, r.ch, r.ch.Block, txindex.Options{})
	return moved, err
}
