package web

import (
	"encoding/hex"
	"errors"
	"log"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/mempool"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/txindex"
)

// errUnavailable says that the chain directory could not be read: the
// server answers 503 until a refresh opens it again.
var errUnavailable = errors.New("the chain directory is unavailable")

// chainState is the one open node the handlers share. A node.Node is not
// safe for concurrent use, so queries hold mu for reading and the refresher
// holds it alone; nobody holds it while writing to a client.
type chainState struct {
	dir       string
	log       *log.Logger
	scanBytes int // bounds the block lines read under one hold of the read lock

	mu     sync.RWMutex
	n      *node.Node // nil while the directory cannot be read
	failed bool       // the last refresh failed (logged once)

	// idx reads the transfer index: it lets go of it when a writer asks
	// (the refresher polls it), and works across reopens of the node.
	idx *txindex.Reader

	snap atomic.Pointer[snapshot]

	// Owned by the refresher.
	lastFull time.Time // the last Refresh
}

// fullRefreshEvery bounds how long the refresher trusts its cheap checks.
const fullRefreshEvery = 2 * time.Second

// snapshot is what the cheapest answers need, rebuilt when the tip or the
// pool changes, read without the lock.
type snapshot struct {
	tip    *chain.BlockNode
	pool   *mempool.Pool
	params []byte // the genesis line with its newline
	height []byte // text answers
	hash   []byte
	tipAPI []byte // /api/tip

	poolOnce sync.Once
	poolView *poolView
}

// openState opens the chain directory.
func openState(dir string, lg *log.Logger) (*chainState, error) {
	n, err := node.Open(dir)
	if err != nil {
		return nil, err
	}
	st := &chainState{dir: dir, log: lg, n: n, lastFull: time.Now(),
		idx: txindex.NewReader(n.Dir(), n.Params().Hash(), 0)}
	st.snap.Store(newSnapshot(n, nil))
	return st, nil
}

func newSnapshot(n *node.Node, old *snapshot) *snapshot {
	tip := n.Chain().Tip()
	if old != nil && old.tip == tip && old.pool == n.Pool {
		return old
	}
	s := &snapshot{tip: tip, pool: n.Pool}
	if old != nil {
		s.params = old.params
	} else {
		s.params = append(n.Params().JSON(), '\n')
	}
	s.height = strconv.AppendUint(nil, tip.Height, 10)
	s.hash = hex.AppendEncode(nil, tip.Hash[:])
	b := append([]byte(`{"height":`), s.height...)
	b = append(b, `,"hash":"`...)
	b = append(b, s.hash...)
	b = append(b, `","work":"`...)
	b = tip.Work.Append(b, 16)
	s.tipAPI = append(b, "\"}\n"...)
	return s
}

// mempool returns the pool's answers, computed once per snapshot. The
// pool of a snapshot never changes: the node replaces it rather than
// change it when it follows the directory.
func (s *snapshot) mempool() *poolView {
	s.poolOnce.Do(func() { s.poolView = newPoolView(s.pool.Txs()) })
	return s.poolView
}

// rlock returns the node with the read lock held, or nil (and no lock) when
// the directory is unavailable. Release it with runlock.
func (st *chainState) rlock() *node.Node {
	st.mu.RLock()
	if st.n == nil {
		st.mu.RUnlock()
		return nil
	}
	return st.n
}

func (st *chainState) runlock() { st.mu.RUnlock() }

// refresh follows what other processes wrote. It takes the write lock only
// when a few stat calls, made without it, say that something changed (or
// once in fullRefreshEvery), so that queries seldom wait. When following
// fails the node is dropped (503 meanwhile) and the directory opened again,
// without the lock.
func (st *chainState) refresh() {
	st.idx.Poll()
	// Only this goroutine changes the Dir: its stat calls race with
	// nothing but readers.
	if n := st.rlock(); n != nil {
		same := !n.TipChanged() && !n.MempoolChanged() && time.Since(st.lastFull) < fullRefreshEvery
		st.runlock()
		if same {
			return
		}
	}
	st.lastFull = time.Now()
	st.mu.Lock()
	n := st.n
	var err error
	if n != nil {
		if err = n.Refresh(); err == nil {
			st.snap.Store(newSnapshot(n, st.snap.Load()))
			st.failed = false
			st.mu.Unlock()
			return
		}
		st.n = nil
	}
	st.mu.Unlock()
	if n != nil {
		n.Close()
		st.log.Printf("reading %s: %v", st.dir, err)
	}
	n, err = node.Open(st.dir)
	if err != nil {
		if !st.failed {
			st.log.Printf("opening %s: %v", st.dir, err)
		}
		st.failed = true
		return
	}
	if st.failed {
		st.log.Printf("%s: readable again", st.dir)
	}
	st.failed = false
	st.mu.Lock()
	st.n = n
	st.snap.Store(newSnapshot(n, nil))
	st.mu.Unlock()
}

func (st *chainState) close() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	var err error
	if st.n != nil {
		err = st.n.Close()
		st.n = nil
	}
	if cerr := st.idx.Close(); err == nil {
		err = cerr
	}
	return err
}

// path returns the main-chain blocks from height from to height to (capped
// at the tip), in ascending order: a fixed branch that later refreshes do
// not change.
func (st *chainState) path(from, to uint64) ([]*chain.BlockNode, error) {
	n := st.rlock()
	if n == nil {
		return nil, errUnavailable
	}
	defer st.runlock()
	c := n.Chain()
	to = min(to, c.Tip().Height)
	if from > to {
		return nil, nil
	}
	p := make([]*chain.BlockNode, to-from+1)
	for nd, i := c.AtHeight(to), len(p)-1; i >= 0; nd, i = nd.Parent, i-1 {
		p[i] = nd
	}
	return p, nil
}

// defaultScanBytes bounds the block lines read under one hold of the read
// lock (Config.scanBytes when zero).
const defaultScanBytes = 1 << 20

// scanPieces reads path a piece at a time: piece, under the read lock,
// reads some of the blocks left (at least one) and says how many; flush
// then runs without the lock. piece may return errStop to end the scan
// early (scanPieces then flushes and returns nil).
func (st *chainState) scanPieces(path []*chain.BlockNode, piece func(*node.Node, []*chain.BlockNode) (int, error), flush func() error) error {
	for i := 0; i < len(path); {
		n := st.rlock()
		if n == nil {
			return errUnavailable
		}
		k, err := piece(n, path[i:])
		st.runlock()
		i += k
		if errors.Is(err, errStop) {
			return flush()
		}
		if err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
	}
	return nil
}

var errStop = errors.New("stop")
