package txindex

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chaindir"
)

// ErrNoIndex says that there is no usable index to read: none was made
// yet (no writer ran since the directory had blocks), or it is of another
// version or network, or damaged. Readers then have only the blocks; the
// next writer makes it, cnj-chain reindex rebuilds it.
var ErrNoIndex = errors.New("no usable transfer index")

// DefaultReaderWait is how long a reader waits for a writer to finish
// with the index before it gives up (ErrBusy).
const DefaultReaderWait = 5 * time.Second

// idleClose is how long a Reader keeps the database open after its last
// read: a writer waits for no idle reader longer than that.
const idleClose = 20 * time.Millisecond

// Reader reads the index of a chain directory for a long-lived process
// (cnj-serve) or a short one (cnj-chain). It keeps the database open
// while reads follow each other, and lets go of it as soon as a writer
// asks (the lock file, looked at before each read and by Poll) or after
// idleClose without a read, so that a writer waits for no reader longer
// than the reads under way; it opens the database again on the next read.
// It is safe for concurrent use.
type Reader struct {
	d       chaindir.Dir
	genesis [32]byte
	wait    time.Duration

	mu      sync.Mutex
	cond    *sync.Cond
	db      *bolt.DB
	users   int  // reads under way
	closing bool // a writer asked: close when the reads under way end
	want    *wantWatch
	idle    *time.Timer // closes the database after idleClose without a read
	reads   uint64      // reads begun: the idle timer closes only if none since
	meta    viewMeta    // of the open database: it does not change while open
	looked  time.Time   // when the lock file was last looked at
}

// wantEvery is how often a Reader that keeps reading looks at the lock
// file (two system calls): a writer waits that much longer at most.
const wantEvery = 2 * time.Millisecond

// viewMeta is what a View reads of the meta bucket. No writer changes the
// database while a Reader has it open, so it is read once per open.
type viewMeta struct {
	tip    [32]byte
	height uint64
	lay    layout
}

// NewReader returns a Reader of the index of d for the network whose
// genesis hash is genesis; wait bounds how long a read waits for a writer
// (DefaultReaderWait when zero). It opens nothing yet.
func NewReader(d chaindir.Dir, genesis [32]byte, wait time.Duration) *Reader {
	if wait <= 0 {
		wait = DefaultReaderWait
	}
	r := &Reader{d: d, genesis: genesis, wait: wait, want: newWantWatch(d.File(chaindir.TxIndexLockFile))}
	r.cond = sync.NewCond(&r.mu)
	return r
}

// View runs fn on a consistent view of the index (one read transaction).
// It returns ErrNoIndex when there is no usable index, ErrBusy when a
// writer kept it longer than the Reader's wait. fn must not keep the View
// or anything it returned but copies.
func (r *Reader) View(fn func(v *View) error) error {
	db, meta, err := r.acquire()
	if err != nil {
		return err
	}
	defer r.release()
	return guard(func() error {
		return db.View(func(tx *bolt.Tx) error { return fn(&View{tx: tx, meta: meta}) })
	})
}

// acquire returns the open database for one more read, opening it when
// needed, and closing it first when a writer asked.
func (r *Reader) acquire() (*bolt.DB, *viewMeta, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		if r.db != nil && !r.closing {
			now := time.Now()
			if now.Sub(r.looked) < wantEvery || !r.want.Held() {
				if now.Sub(r.looked) >= wantEvery {
					r.looked = now
				}
				r.users++
				r.reads++
				return r.db, &r.meta, nil
			}
			r.closing = true
		}
		if r.db != nil {
			if r.users > 0 {
				r.cond.Wait()
				continue
			}
			r.db.Close()
			r.db, r.closing = nil, false
		}
		r.want.reopen() // made by the first writer, perhaps since
		if err := r.want.waitFree(r.wait); err != nil {
			return nil, nil, err
		}
		db, err := openDB(r.d.File(chaindir.TxIndexFile), true, r.wait)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, nil, ErrNoIndex
		case errors.Is(err, ErrBusy):
			return nil, nil, err
		case err != nil:
			return nil, nil, fmt.Errorf("%w: %v", ErrNoIndex, err)
		}
		ok := false
		guard(func() error {
			return db.View(func(tx *bolt.Tx) error {
				if ok = usable(tx, r.genesis); ok {
					r.meta.tip, r.meta.height, _ = readTip(tx)
					r.meta.lay, _ = readLayout(tx)
				}
				return nil
			})
		})
		if !ok {
			db.Close()
			return nil, nil, ErrNoIndex
		}
		r.db, r.looked = db, time.Now()
	}
}

func (r *Reader) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.users--
	if r.users == 0 && r.closing {
		r.db.Close()
		r.db, r.closing = nil, false
	}
	if r.users == 0 && r.db != nil {
		reads := r.reads
		if r.idle != nil {
			r.idle.Stop()
		}
		r.idle = time.AfterFunc(idleClose, func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.reads == reads && r.users == 0 && r.db != nil {
				r.db.Close()
				r.db, r.closing = nil, false
			}
		})
	}
	r.cond.Broadcast()
}

// Poll lets go of the database when a writer asks for it and no read is
// under way (else when the last one ends). A long-lived reader calls it
// every so often (cnj-serve: each time it follows the directory), so that
// an idle reader does not keep a writer waiting.
func (r *Reader) Poll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.db == nil || r.closing || !r.want.Held() {
		return
	}
	if r.users > 0 {
		r.closing = true
		return
	}
	r.db.Close()
	r.db = nil
}

// Close lets go of the database; reads under way finish first.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.users > 0 {
		r.cond.Wait()
	}
	if r.idle != nil {
		r.idle.Stop()
	}
	var err error
	if r.db != nil {
		err = r.db.Close()
		r.db = nil
	}
	r.want.close()
	return err
}

// View is a consistent view of the index: the main chain it indexed, up
// to its tip.
type View struct {
	tx   *bolt.Tx
	meta *viewMeta
}

// Tip returns the block the index is at.
func (v *View) Tip() (hash [32]byte, height uint64, err error) {
	return v.meta.tip, v.meta.height, nil
}

// Block returns the record of the main-chain block at height h, if the
// index holds one.
func (v *View) Block(h uint64) (BlockInfo, bool, error) {
	b := v.tx.Bucket(bucketBlocks).Get(heightKey(h))
	if b == nil {
		return BlockInfo{}, false, nil
	}
	bi, err := decodeBlockInfo(b)
	return bi, err == nil, err
}

// Span returns the hash and line length of the main-chain block at
// height h and where its transaction pos is in its line: ok is false when
// the index has no record of the block, or no span for pos (Block's
// Spans, for one transaction).
func (v *View) Span(h uint64, pos uint32) (hash [32]byte, lineLen uint32, sp Span, ok bool, err error) {
	b := v.tx.Bucket(bucketBlocks).Get(heightKey(h))
	if b == nil {
		return hash, 0, sp, false, nil
	}
	return decodeSpan(b, pos)
}

// Agree returns the height up to which the index and c's main chain hold
// the same blocks: entries above it are of a branch c left or does not
// know yet, and the blocks of c above it are not indexed yet (a writer
// catches up after each write; a crash leaves it behind until the next).
func (v *View) Agree(c *chain.Chain) (uint64, error) {
	hash, height, err := v.Tip()
	if err != nil {
		return 0, err
	}
	if nd := c.Node(hash); nd != nil && c.AtHeight(nd.Height) == nd {
		return nd.Height, nil
	}
	for h := min(height, c.Tip().Height); h > 0; h-- {
		bi, ok, err := v.Block(h)
		if err != nil {
			return 0, err
		}
		if ok && bi.Hash == c.AtHeight(h).Hash {
			return h, nil
		}
	}
	return 0, nil
}

// layout returns the height of the index's tip and its generations.
func (v *View) layout() (uint64, layout, error) { return v.meta.height, v.meta.lay, nil }

// Lookup calls fn with the location of each indexed transaction whose
// txid (16 bytes, a transfer's id; 32, a reward's leaf) begins as txid
// does in its first 7 bytes, newest generation first, until fn returns
// false: the caller reads each and keeps those with the whole txid.
func (v *View) Lookup(txid []byte, fn func(Loc) bool) error {
	if len(txid) < idPrefix {
		return fmt.Errorf("a txid of %d bytes", len(txid))
	}
	height, lay, err := v.layout()
	if err != nil {
		return err
	}
	ids := v.tx.Bucket(bucketTxs)
	for g := int64(lay.genOf(height)); g >= 0; g-- {
		more := true
		err := lay.decodeTxEntries(uint32(g), ids.Get(txsKey(uint32(g), txid)), func(e txEntry) bool {
			if !bytes.Equal(e.rest[:], txid[idKeyLen:idPrefix]) {
				return true
			}
			// A reward's txid is its leaf (position 0), a transfer's its id.
			if (e.loc.Pos == 0) != (len(txid) == 32) {
				return true
			}
			more = fn(e.loc)
			return more
		})
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// History calls fn with the entries of the address whose payload is p
// that lie before before, newest first, until fn returns false. History
// from End starts at the newest.
func (v *View) History(p [PayloadSize]byte, before Loc, fn func(Entry) bool) error {
	height, lay, err := v.layout()
	if err != nil {
		return err
	}
	c := v.tx.Bucket(bucketAddrs).Cursor()
	var es []Entry
	for g := int64(lay.genOf(min(height, before.Height))); g >= 0; g-- {
		sec := section(uint32(g), &p)
		from := sectionEnd(sec)
		if lay.genOf(before.Height) == uint32(g) {
			from = lay.addrKey(&p, before)
		}
		k, val := c.Seek(from)
		if k == nil {
			k, val = c.Last()
		} else {
			k, val = c.Prev() // a chunk at or after before begins too late
		}
		for ; k != nil && bytes.HasPrefix(k, sec); k, val = c.Prev() {
			if es, err = lay.decodeChunk(k, val, es[:0]); err != nil {
				return err
			}
			for i := len(es) - 1; i >= 0; i-- {
				if !es[i].Loc.Less(before) {
					continue
				}
				if !fn(es[i]) {
					return nil
				}
			}
		}
	}
	return nil
}

// Stats returns the totals of the address whose payload is p (all zero
// for one the index has never seen).
func (v *View) Stats(p [PayloadSize]byte) (Stats, error) {
	b := v.tx.Bucket(bucketStats).Get(p[:])
	if b == nil {
		return Stats{}, nil
	}
	return decodeStats(b)
}
