package node

import (
	"errors"
	"fmt"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/blockstore"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/ledger"
	"github.com/coniunctum/cnj/lib/mempool"
)

// load builds the chain from the store as opened (or reloaded): the tree
// from the index records, the ledger from the state file when it is sound
// (else replayed from genesis), then the blocks found beyond the index.
func (n *Node) load() error {
	st := n.store
	n.ch = chain.New(n.p, st)
	sn := st.State()
	var led *ledger.Ledger
	var stateErr error
	if sn != nil {
		led = ledger.New(n.p)
		if err := led.UnmarshalBinary(sn.Ledger); err != nil {
			stateErr, led = chaindir.Corruptf(chaindir.StateFile, 0, "%v", err), nil
		} else if led.Tip() != sn.Tip || led.Height() != sn.Height {
			stateErr, led = chaindir.Corruptf(chaindir.StateFile, 0, "header and snapshot disagree"), nil
		}
	}
	var height uint64
	if led != nil {
		height = sn.Height
	}
	if err := n.ch.Load(st.Records(), led); err != nil {
		if led == nil || chaindir.CorruptOf(err) != nil {
			return blockstore.LoadError(err)
		}
		// A snapshot that does not fit: replay from genesis.
		stateErr, height = fmt.Errorf("%s: %v", chaindir.StateFile, err), 0
		n.ch = chain.New(n.p, st)
		if err := n.ch.Load(st.Records(), nil); err != nil {
			return blockstore.LoadError(err)
		}
	}
	st.UseState(height, stateErr)
	st.SyncInvalid(func(h [32]byte) (bool, bool) {
		nd := n.ch.Node(h)
		return nd != nil, nd != nil && nd.Invalid
	})
	if err := st.ApplyTail(n.apply); err != nil {
		return err
	}
	_, err := n.mem.Refresh(true)
	return err
}

// errBeyondIndex refuses the blocks found beyond the index when the node
// opens without its ledger: they need it.
var errBeyondIndex = errors.New("node: a block beyond the index")

// loadTree builds the chain from the store, opened with
// blockstore.Options.StateHeader, without the ledger, and the pool from
// mempool.bin. It reports false when that is not the node load and
// reloadPool build (see Options.NoLedger): chain.LoadTree declines the
// state file's block, blocks lie beyond the index, or mempool.jsonl holds
// lines mempool.bin does not.
func (n *Node) loadTree() (bool, error) {
	st := n.store
	sn := st.State()
	if sn == nil {
		return false, nil
	}
	n.ch = chain.New(n.p, st)
	if ok, err := n.ch.LoadTree(st.Records(), sn.Tip, sn.Height); !ok || err != nil {
		return false, err
	}
	err := st.ApplyTail(func(blockstore.Record, *block.Block) (blockstore.Record, [][32]byte, error) {
		return blockstore.Record{}, nil, errBeyondIndex
	})
	if err != nil {
		return false, nil
	}
	st.UseState(sn.Height, nil)
	if _, err := n.mem.Refresh(true); err != nil {
		return false, err
	}
	n.Pool = mempool.New(n.p, n.o.MaxPool)
	if tail, ok := n.poolFromBin(n.Pool); ok && len(tail) == 0 {
		n.binTip, n.binTail = n.ch.Tip().Hash, 0
	} else if len(n.mem.Lines()) == 0 {
		// Nothing to judge: the empty pool a full open loads too.
		n.Pool = mempool.New(n.p, n.o.MaxPool)
		n.binTip = [32]byte{}
	} else {
		return false, nil
	}
	n.markPoolSynced()
	return true, nil
}

// apply gives the chain a block another process stored (blockstore's
// Applier).
func (n *Node) apply(rec blockstore.Record, b *block.Block) (blockstore.Record, [][32]byte, error) {
	res, err := n.ch.Apply(rec, b)
	if res == nil {
		if err == nil {
			err = errors.New("no result")
		}
		return rec, nil, err
	}
	n.took(res)
	return res.Record, res.Invalidated, nil
}

// refresh catches up with what other processes wrote: blocks (reading
// everything again when the index was replaced) and mempool.jsonl. It
// reports whether the tip, the stored blocks or the mempool file changed.
func (n *Node) refresh() (bool, error) {
	if n.ch.Ledger() == nil {
		return true, n.needLedger()
	}
	tip := n.ch.Tip().Hash
	grew, err := n.store.Follow(n.apply)
	if errors.Is(err, blockstore.ErrReload) {
		if err = n.store.Reload(); err == nil {
			err = n.load()
		}
		if err != nil {
			return false, err
		}
		return true, nil
	}
	if err != nil {
		return false, err
	}
	mem, err := n.mem.Refresh(false)
	if err != nil {
		return false, err
	}
	return grew || mem || n.ch.Tip().Hash != tip, nil
}

// snapshot is the ledger at the tip, for the store's state file.
func (n *Node) snapshot() (blockstore.Snapshot, error) {
	led := n.ch.Ledger()
	b, err := led.MarshalBinary()
	return blockstore.Snapshot{Tip: led.Tip(), Height: led.Height(), Ledger: b}, err
}

// Writer adds blocks and mempool lines during Node.Write, while the node
// holds the directory's lock. It is valid only inside the function given
// to Write.
type Writer struct {
	n    *Node
	done bool
}

func (w *Writer) check() error {
	if w.done {
		return errors.New("node: Writer used after its Write returned")
	}
	return nil
}

// Write takes the directory's lock (it waits for another writer to
// finish), catches up with what other processes stored, runs fn, makes
// the blocks fn added durable and indexes them, writes the state file when
// it is due, brings the transfer index to the new tip (index.go; while
// the node indexes in steps, once a step is complete), and
// releases the lock: processes take turns. Then, when the blocks rolled
// over to a new segment, the full one is sealed.
func (n *Node) Write(fn func(w *Writer) error) error {
	if n.w != nil {
		return errors.New("node: Write called inside Write")
	}
	if err := n.needLedger(); err != nil { // before the lock: it replaces the store
		return err
	}
	unlock, err := n.store.Lock()
	if err != nil {
		return err
	}
	n.writing = true
	defer func() {
		n.writing = false
		if n.step == 0 {
			n.taken, n.takenTxs = nil, 0
		}
	}()
	err = func() error {
		defer unlock()
		if _, err := n.refresh(); err != nil {
			return err
		}
		if err := n.store.Begin(); err != nil {
			return err
		}
		w := &Writer{n: n}
		n.w = w
		defer func() { w.done, n.w = true, nil }()
		err := fn(w)
		if eerr := n.store.End(n.snapshot); err == nil {
			err = eerr
		}
		if err == nil {
			n.index()
		}
		return err
	}()
	if err != nil {
		return err
	}
	return n.store.SealFull()
}

// AddBlock gives b to the chain (chain.Add: full validation). A block the
// chain keeps is appended to the current segment; once Write returns,
// every block AddBlock returned a Result for that is not Duplicate
// survives a crash, power loss included. line is b's exact JSON line. As
// with chain.Add, a failed reorganization returns both a Result (the
// block is stored, marked invalid) and the rule error.
func (w *Writer) AddBlock(b *block.Block, line []byte, now int64) (*chain.Result, error) {
	return w.addBlock(b, line, now, chain.Limits{})
}

// addBlock is AddBlock under the side-branch policy lim (chain.AddWith).
func (w *Writer) addBlock(b *block.Block, line []byte, now int64, lim chain.Limits) (*chain.Result, error) {
	if err := w.check(); err != nil {
		return nil, err
	}
	n := w.n
	n.store.TakePut()
	res, err := n.ch.AddWith(b, line, now, lim)
	if res == nil || res.Duplicate {
		if n.store.TakePut() {
			// Stored but not taken: cannot happen with package chain as it
			// is; keep the directory and the view consistent anyway.
			if err := n.store.SyncIndex(); err != nil {
				return nil, err
			}
			if lerr := n.store.Reload(); lerr != nil {
				return nil, lerr
			}
			if lerr := n.load(); lerr != nil {
				return nil, lerr
			}
		}
		return res, err
	}
	n.store.Added(res.Record, res.Invalidated)
	n.wrote = true
	n.took(res)
	return res, err
}

// AddMempool appends transfer lines to mempool.jsonl (chaindir.Mempool's
// Append).
func (w *Writer) AddMempool(lines ...[]byte) error {
	if err := w.check(); err != nil {
		return err
	}
	return w.n.mem.Append(lines...)
}

// SetMempool replaces mempool.jsonl with lines (chaindir.Mempool's
// Replace): for when transfers leave the pool.
func (w *Writer) SetMempool(lines [][]byte) error {
	if err := w.check(); err != nil {
		return err
	}
	return w.n.mem.Replace(lines)
}
