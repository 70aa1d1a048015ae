package chaindir

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chain"
)

// Writer stores blocks and mempool lines during Dir.Write, while the Dir
// holds the directory's lock. It is valid only inside the function given to
// Write.
type Writer struct {
	d          *Dir
	seg        *os.File // segment segN, open for appending
	segN       uint32
	segDirty   bool // seg was appended to: fsync before the index and the end
	idx        *os.File
	memChecked bool // mempool.jsonl's torn tail was cut
	repaired   bool // repair ran: blocks may be appended
	saveState  bool // write the state file at the end
	putDone    bool // put stored a line during the current AddBlock
	done       bool
}

func (w *Writer) check() error {
	if w.done {
		return errors.New("chaindir: Writer used after its Write returned")
	}
	return nil
}

// Dir returns the directory being written.
func (w *Writer) Dir() *Dir { return w.d }

// Write takes the directory's lock (flock on LOCK; it waits for another
// writer to finish), catches up with what other processes stored
// (Refresh), runs fn, completes the index, writes the state file when it
// is due and releases the lock. What a crashed writer left is repaired
// (repair) by the first Write of a Dir, and later before a Write's first
// block: a Write that only adds transfers, as most of a validator's do,
// leaves the segments alone. The lock is held only for the call:
// processes take turns. Then, when the blocks rolled over to a new
// segment, the full one is sealed: compressed without the lock, installed
// under it again.
func (d *Dir) Write(fn func(w *Writer) error) error {
	if err := d.write(fn); err != nil {
		return err
	}
	return d.sealFull()
}

func (d *Dir) write(fn func(w *Writer) error) error {
	if d.w != nil {
		return errors.New("chaindir: Write called inside Write")
	}
	unlock, err := d.lockDir()
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := d.refresh(); err != nil {
		return err
	}
	w := &Writer{d: d}
	d.w = w
	defer func() {
		w.close()
		w.done = true
		d.w = nil
	}()
	if d.stateErr != nil {
		w.saveState = true // replace a damaged state file at the end
	}
	if !d.cleaned {
		// The first Write of this Dir repairs at once, and removes what
		// crashed writers left.
		if err := d.repair(w); err != nil {
			return err
		}
		w.repaired = true
	}
	err = fn(w)
	if ferr := d.flush(w); err == nil {
		err = ferr
	}
	return err
}

func (w *Writer) close() {
	if w.seg != nil {
		w.seg.Close()
		w.seg = nil
	}
	if w.idx != nil {
		w.idx.Close()
		w.idx = nil
	}
}

// AddBlock gives b to the chain (chain.Add: full validation). A block the
// chain keeps is appended to the current segment; before Write returns, the
// segment is fsynced once for all the blocks of the call and they are
// indexed: once Write returns, every block AddBlock returned a Result for
// that is not Duplicate survives a crash, power loss included. line is b's exact JSON line. As
// with chain.Add, a failed reorganization returns both a Result (the block
// is stored, marked invalid) and the rule error.
func (w *Writer) AddBlock(b *block.Block, line []byte, now int64) (*chain.Result, error) {
	if err := w.check(); err != nil {
		return nil, err
	}
	d := w.d
	w.putDone = false
	res, err := d.ch.Add(b, line, now)
	if res == nil || res.Duplicate {
		if w.putDone {
			// Stored but not taken: cannot happen with package chain as it
			// is; keep the directory and the view consistent anyway.
			if err := w.syncIndex(); err != nil {
				return nil, err
			}
			d.reset()
			if lerr := d.load(); lerr != nil {
				return nil, lerr
			}
		}
		return res, err
	}
	d.added(res.Record, res)
	d.wrote = true
	return res, err
}

// syncIndex makes the blocks stored so far durable (one fsync of the
// segment for all of them) and then indexes them, so that the index never
// names a block the segments could lose.
func (w *Writer) syncIndex() error {
	if err := w.syncSeg(); err != nil {
		return err
	}
	return w.writeIndex()
}

// syncSeg fsyncs the open segment when blocks were appended to it.
func (w *Writer) syncSeg() error {
	if w.seg == nil || !w.segDirty {
		return nil
	}
	if err := w.seg.Sync(); err != nil {
		return err
	}
	w.segDirty = false
	crash("segment synced", nil, nil, 0)
	return nil
}

// put appends one block line to the last segment (Store.Put). The fsync
// waits for the end of the Write (syncIndex), one for all its blocks.
func (w *Writer) put(b *block.Block, line []byte) (chain.Loc, error) {
	d := w.d
	if line == nil {
		line = b.JSON()
	}
	if bytes.IndexByte(line, '\n') >= 0 || len(line) == 0 || int64(len(line)) >= 1<<32-1 {
		return chain.Loc{}, fmt.Errorf("chaindir: block line of %d bytes, or with a newline", len(line))
	}
	if !w.repaired {
		if err := d.repair(w); err != nil {
			return chain.Loc{}, err
		}
		w.repaired = true
	}
	if err := w.roll(); err != nil {
		return chain.Loc{}, err
	}
	if w.seg == nil || w.segN != d.end.seg {
		if err := w.openSeg(); err != nil {
			return chain.Loc{}, err
		}
	}
	buf := make([]byte, 0, len(line)+1)
	buf = append(append(buf, line...), '\n')
	crash("segment append", w.seg, buf, int64(d.end.off))
	if _, err := w.seg.WriteAt(buf, int64(d.end.off)); err != nil {
		// Not stored: take back what reached the file (best effort; a
		// leftover is a torn line the next writer cuts).
		w.seg.Truncate(int64(d.end.off))
		if serr := w.syncSeg(); serr != nil {
			err = fmt.Errorf("%w (and syncing the segment: %v)", err, serr)
		}
		w.seg.Close()
		w.seg = nil
		w.segDirty = false
		return chain.Loc{}, err
	}
	w.segDirty = true
	loc := chain.Loc{Segment: d.end.seg, Offset: d.end.off, Length: uint32(len(line))}
	d.end.off += uint64(len(buf))
	d.seenSize = int64(d.end.off)
	w.putDone = true
	return loc, nil
}

// roll moves d.end to a new segment when the current one is full or
// sealed. Full segments are sealed after the lock is released (sealFull).
func (w *Writer) roll() error {
	d := w.d
	seg := d.end.seg
	sealed := int(seg) < d.nsegs && d.sealed[seg]
	if !sealed && d.end.off < uint64(SegmentSize) {
		return nil
	}
	if w.seg != nil && w.segN == seg {
		if err := w.syncSeg(); err != nil {
			return err
		}
		w.seg.Close()
		w.seg = nil
	}
	d.end = pos{seg + 1, 0}
	d.seenSize = 0
	return nil
}

// sealFull seals the plain segments before the last one: each is
// compressed without the lock (it can take a second) and installed under
// it. Two processes may compress the same segment; the second install finds
// the work done.
func (d *Dir) sealFull() error {
	for i := 0; i+1 < d.nsegs; i++ {
		if d.sealed[i] {
			continue
		}
		seg := uint32(i)
		comp, size, err := compressSegment(d.path, seg)
		if errors.Is(err, fs.ErrNotExist) {
			continue // sealed by another process meanwhile
		}
		if err != nil {
			return err
		}
		err = func() error {
			unlock, err := d.lockDir()
			if err != nil {
				return err
			}
			defer unlock()
			return installSealed(d.path, seg, comp, size)
		}()
		if err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(d.path, sealedName(seg))); err == nil {
			d.sealed[i] = true
			d.segs.forget(seg)
		}
	}
	return nil
}

// openSeg opens (creating it when new) the segment d.end points into and
// checks that it ends there.
func (w *Writer) openSeg() error {
	d := w.d
	if w.seg != nil {
		if err := w.syncSeg(); err != nil {
			return err
		}
		w.seg.Close()
		w.seg = nil
	}
	seg := d.end.seg
	if int(seg) > d.nsegs {
		return fmt.Errorf("chaindir: segment %d after %d segments", seg, d.nsegs)
	}
	if err := os.MkdirAll(filepath.Join(d.path, blocksDir), 0o755); err != nil {
		return err
	}
	name := segName(seg)
	f, err := os.OpenFile(filepath.Join(d.path, name), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	if fi.Size() != int64(d.end.off) {
		f.Close()
		return corruptf(name, 0, "is %d bytes, the index ends at %d: %s", fi.Size(), d.end.off, reindexHint)
	}
	if int(seg) == d.nsegs {
		if err := syncDir(filepath.Join(d.path, blocksDir)); err != nil {
			f.Close()
			return err
		}
		d.nsegs++
		d.sealed = append(d.sealed, false)
	}
	w.seg, w.segN = f, seg
	return nil
}

// repair fixes, under the lock and before a Write appends its first block,
// what a crashed writer left: a torn last line, a sealed segment's plain
// copy, temporary files, and an index file that lacks records, has a torn
// one or stale flags (the end of every Write completes the index too).
func (d *Dir) repair(w *Writer) error {
	// Other writers may have sealed or added segments.
	if err := d.list(); err != nil {
		return err
	}
	if d.torn {
		seg := d.end.seg
		path := filepath.Join(d.path, segName(seg))
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		crash("cut torn line", nil, nil, 0)
		err = f.Truncate(int64(d.end.off))
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		d.segs.forget(seg)
		d.torn = false
		d.seenSize = int64(d.end.off)
	}
	if !d.cleaned {
		if err := d.cleanup(); err != nil {
			return err
		}
		d.cleaned = true
	}
	return w.writeIndex()
}

// cleanup removes a sealed segment's leftover plain copy and temporary
// files of writers that crashed.
func (d *Dir) cleanup() error {
	for i, s := range d.sealed {
		if !s {
			continue
		}
		err := os.Remove(filepath.Join(d.path, segName(uint32(i))))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	for _, pat := range []string{"blocks/*.tmp", indexFile + ".tmp*", stateFile + ".tmp*", mempoolFile + ".tmp*"} {
		m, _ := filepath.Glob(filepath.Join(d.path, pat))
		for _, f := range m {
			os.Remove(f)
		}
	}
	return nil
}

// writeIndex brings the index file in line with d.recs: rewritten whole
// when its header is bad, else cut after its good records, flags rewritten
// in place, then the missing records appended.
func (w *Writer) writeIndex() error {
	d := w.d
	if d.idxHdr && !d.idxBad && len(d.idxFlags) == 0 && d.idxGood == len(d.recs) {
		return nil // nothing to write: the file is not even opened
	}
	path := filepath.Join(d.path, indexFile)
	if !d.idxHdr {
		buf := indexHeaderBytes(d.genesis)
		for i := range d.recs {
			buf = appendRecord(buf, &d.recs[i])
		}
		if w.idx != nil {
			w.idx.Close()
			w.idx = nil
		}
		if err := writeAtomic(path, buf); err != nil {
			return err
		}
		d.idxHdr, d.idxBad, d.idxGood, d.idxFlags = true, false, len(d.recs), nil
		id, err := statID(path)
		d.idxID = id
		return err
	}
	if w.idx == nil {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		w.idx = f
	}
	if d.idxBad {
		crash("cut index", nil, nil, 0)
		if err := w.idx.Truncate(int64(indexHeader + d.idxGood*recordSize)); err != nil {
			return err
		}
		d.idxBad = false
	}
	for _, j := range d.idxFlags {
		if j < d.idxGood {
			rec, off := appendRecord(nil, &d.recs[j]), int64(indexHeader+j*recordSize)
			crash("index flag", w.idx, rec, off)
			if _, err := w.idx.WriteAt(rec, off); err != nil {
				return err
			}
		}
	}
	d.idxFlags = d.idxFlags[:0]
	if d.idxGood < len(d.recs) {
		var buf []byte
		for j := d.idxGood; j < len(d.recs); j++ {
			buf = appendRecord(buf, &d.recs[j])
		}
		off := int64(indexHeader + d.idxGood*recordSize)
		crash("index append", w.idx, buf, off)
		if _, err := w.idx.WriteAt(buf, off); err != nil {
			return err
		}
		d.idxGood = len(d.recs)
	}
	fi, err := w.idx.Stat()
	if err != nil {
		return err
	}
	d.idxID = idOf(fi)
	return nil
}

// flush ends a Write: make the new blocks durable and index them, write
// the state file when due. Appended mempool lines are not fsynced (see
// AddMempool).
func (d *Dir) flush(w *Writer) error {
	if err := w.syncIndex(); err != nil {
		return err
	}
	due := d.blocksSince >= StateEveryBlocks || d.txsSince >= StateEveryTxs
	if due && d.stateTook >= stateSlow && time.Since(d.stateAt) < stateShare*d.stateTook {
		due = false // a large state: wait until it is a tenth of the time
	}
	if w.saveState || due {
		if err := w.writeState(); err != nil {
			return err
		}
	}
	return nil
}

// writeState replaces the state file with the ledger at the tip. The index
// is fsynced first so that the state's block is always in it.
func (w *Writer) writeState() error {
	d := w.d
	if w.idx != nil {
		if err := w.idx.Sync(); err != nil {
			return err
		}
	}
	begin := time.Now()
	led := d.ch.Ledger()
	snap, err := led.MarshalBinary()
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(d.path, stateFile), encodeState(d.genesis, led.Tip(), led.Height(), snap)); err != nil {
		return err
	}
	d.stateHeight, d.stateErr = led.Height(), nil
	d.blocksSince, d.txsSince = 0, 0
	d.stateAt = time.Now()
	d.stateTook = d.stateAt.Sub(begin)
	return nil
}
