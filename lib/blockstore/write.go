package blockstore

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/coniunctum/cnj/internal/crashpoint"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
)

// session is one write: the files open while the store holds the lock.
type session struct {
	seg      *os.File // segment segN, open for appending
	segN     uint32
	segDirty bool // seg was appended to: fsync before the index and the end
	idx      *os.File
	repaired bool   // repair ran: blocks may be appended
	putDone  bool   // Put stored a line since the last TakePut
	undo     []byte // undo records PutUndo buffered, not yet written
}

// Lock takes the directory's write lock (waiting for another writer to
// finish). The composer takes it, follows what others stored (Follow),
// then calls Begin, its writes, End and unlock, in that order.
func (s *Store) Lock() (unlock func() error, err error) { return s.lock.Lock() }

// Begin starts a write under the lock: what a crashed writer left is
// repaired at the first write of a Store, and later before a write's
// first block (a write that only adds transfers, as most of a
// validator's do, leaves the segments alone).
func (s *Store) Begin() error {
	if s.w != nil {
		return errors.New("blockstore: Begin during a write")
	}
	if s.o.StateHeader {
		return errors.New("blockstore: Begin on a store opened to read the state's header alone")
	}
	s.w = &session{}
	if !s.cleaned {
		if err := s.repair(); err != nil {
			s.abort()
			return err
		}
		s.w.repaired = true
	}
	return nil
}

// End finishes a write: the blocks Put stored are made durable (one fsync
// of the segment for all of them) and then indexed, and the state file is
// replaced when it is due, with the snapshot that snap returns (the
// ledger at the tip). Only once End returns may a command report the
// blocks accepted. End must be called after Begin whatever happened
// between; the error of a failed write is the caller's to return first.
func (s *Store) End(snap func() (Snapshot, error)) error {
	if s.w == nil {
		return errors.New("blockstore: End without Begin")
	}
	defer s.abort()
	if err := s.syncIndex(); err != nil {
		return err
	}
	due := s.blocksSince >= s.o.StateEveryBlocks || s.txsSince >= s.o.StateEveryTxs
	if due && s.stateTook >= stateSlow && time.Since(s.stateAt) < stateShare*s.stateTook {
		due = false // a large state: wait until it is a tenth of the time
	}
	// A damaged state file is replaced at the end of the first write.
	if !due && s.stateErr == nil && !s.forceState {
		return nil
	}
	sn, err := snap()
	if err != nil {
		return err
	}
	return s.writeState(sn)
}

// abort closes the session's files.
func (s *Store) abort() {
	if s.w == nil {
		return
	}
	if s.w.seg != nil {
		s.w.seg.Close()
	}
	if s.w.idx != nil {
		s.w.idx.Close()
	}
	s.w = nil
}

// ForceState makes the write under way, or the next one, replace the
// state file whatever its schedule (package node asks it when it closes a Store that stored
// blocks, so that the next Open connects none).
func (s *Store) ForceState() { s.forceState = true }

// StateStale reports whether blocks or transfers were stored since the
// state file was written.
func (s *Store) StateStale() bool { return s.blocksSince > 0 || s.txsSince > 0 }

// TakePut reports whether Put stored a line since the last call: the
// composer checks that every stored block was taken by the chain.
func (s *Store) TakePut() bool {
	if s.w == nil {
		return false
	}
	p := s.w.putDone
	s.w.putDone = false
	return p
}

// SyncIndex makes the blocks stored so far durable and indexes them, in
// the middle of a write.
func (s *Store) SyncIndex() error { return s.syncIndex() }

// syncIndex makes the blocks stored so far durable (one fsync of the
// segment for all of them) and then indexes them, so that the index never
// names a block the segments could lose.
func (s *Store) syncIndex() error {
	// Undo data first: a block's record is durable before the block is
	// indexed, so that a state file past the block never finds it missing
	// (but after a crash: then it is missing, and the chain replays).
	if err := s.syncUndo(); err != nil {
		return err
	}
	if err := s.syncSeg(); err != nil {
		return err
	}
	return s.writeIndex()
}

// syncSeg fsyncs the open segment when blocks were appended to it.
func (s *Store) syncSeg() error {
	w := s.w
	if w.seg == nil || !w.segDirty {
		return nil
	}
	if err := w.seg.Sync(); err != nil {
		return err
	}
	w.segDirty = false
	crashpoint.At("segment synced", nil, nil, 0)
	return nil
}

// Put appends one block line to the last segment (package chain's Store),
// during a write. line is b's exact JSON line (encoded from b when nil).
// The fsync waits for End, one for all the blocks of the write.
func (s *Store) Put(b *block.Block, line []byte) (Loc, error) {
	w := s.w
	if w == nil {
		return Loc{}, errors.New("blockstore: block stored outside a write")
	}
	if line == nil {
		line = b.JSON()
	}
	if len(line) == 0 || int64(len(line)) >= 1<<32-1 || bytes.IndexByte(line, '\n') >= 0 {
		return Loc{}, fmt.Errorf("blockstore: block line of %d bytes, or with a newline", len(line))
	}
	if !w.repaired {
		if err := s.repair(); err != nil {
			return Loc{}, err
		}
		w.repaired = true
	}
	if err := s.roll(); err != nil {
		return Loc{}, err
	}
	if w.seg == nil || w.segN != s.end.seg {
		if err := s.openSeg(); err != nil {
			return Loc{}, err
		}
	}
	buf := make([]byte, 0, len(line)+1)
	buf = append(append(buf, line...), '\n')
	crashpoint.At("segment append", w.seg, buf, int64(s.end.off))
	if _, err := w.seg.WriteAt(buf, int64(s.end.off)); err != nil {
		// Not stored: take back what reached the file (best effort; a
		// leftover is a torn line the next writer cuts).
		w.seg.Truncate(int64(s.end.off))
		if serr := s.syncSeg(); serr != nil {
			err = fmt.Errorf("%w (and syncing the segment: %v)", err, serr)
		}
		w.seg.Close()
		w.seg = nil
		w.segDirty = false
		return Loc{}, err
	}
	w.segDirty = true
	loc := Loc{Segment: s.end.seg, Offset: s.end.off, Length: uint32(len(line))}
	s.end.off += uint64(len(buf))
	s.seenSize = int64(s.end.off)
	w.putDone = true
	return loc, nil
}

// roll moves s.end to a new segment when the current one is full or
// sealed. Full segments are sealed after the lock is released (SealFull).
func (s *Store) roll() error {
	w := s.w
	seg := s.end.seg
	sealed := int(seg) < s.nsegs && s.sealed[seg]
	if !sealed && s.end.off < uint64(s.o.SegmentSize) {
		return nil
	}
	if w.seg != nil && w.segN == seg {
		if err := s.syncSeg(); err != nil {
			return err
		}
		w.seg.Close()
		w.seg = nil
	}
	s.end = pos{seg + 1, 0}
	s.seenSize = 0
	return nil
}

// SealFull seals the plain segments before the last one, after a write
// and without the lock: each is compressed without the lock (it can take
// a second) and installed under it. Two processes may compress the same
// segment; the second install finds the work done.
func (s *Store) SealFull() error {
	for i := 0; i+1 < s.nsegs; i++ {
		if s.sealed[i] {
			continue
		}
		seg := uint32(i)
		comp, size, err := compressSegment(s.dir, seg)
		if errors.Is(err, fs.ErrNotExist) {
			continue // sealed by another process meanwhile
		}
		if err != nil {
			return err
		}
		err = func() error {
			unlock, err := s.lock.Lock()
			if err != nil {
				return err
			}
			defer unlock()
			return installSealed(s.dir, seg, comp, size)
		}()
		if err != nil {
			return err
		}
		if _, err := os.Stat(s.dir.File(sealedName(seg))); err == nil {
			s.sealed[i] = true
			s.segs.forget(seg)
		}
	}
	return nil
}

// openSeg opens (creating it when new) the segment s.end points into and
// checks that it ends there.
func (s *Store) openSeg() error {
	w := s.w
	if w.seg != nil {
		if err := s.syncSeg(); err != nil {
			return err
		}
		w.seg.Close()
		w.seg = nil
	}
	seg := s.end.seg
	if int(seg) > s.nsegs {
		return fmt.Errorf("blockstore: segment %d after %d segments", seg, s.nsegs)
	}
	if err := os.MkdirAll(s.dir.File(chaindir.BlocksDir), 0o755); err != nil {
		return err
	}
	name := segName(seg)
	f, err := os.OpenFile(s.dir.File(name), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	if fi.Size() != int64(s.end.off) {
		f.Close()
		return chaindir.Corruptf(name, 0, "is %d bytes, the index ends at %d: %s", fi.Size(), s.end.off, chaindir.ReindexHint)
	}
	if int(seg) == s.nsegs {
		if err := chaindir.SyncDir(s.dir.File(chaindir.BlocksDir)); err != nil {
			f.Close()
			return err
		}
		s.nsegs++
		s.sealed = append(s.sealed, false)
	}
	w.seg, w.segN = f, seg
	return nil
}

// repair fixes, under the lock and before a write appends its first block,
// what a crashed writer left: a torn last line, a sealed segment's plain
// copy, temporary files, and an index file that lacks records, has a torn
// one or stale flags (the end of every write completes the index too).
func (s *Store) repair() error {
	// Other writers may have sealed or added segments.
	if err := s.list(); err != nil {
		return err
	}
	if s.torn {
		seg := s.end.seg
		path := s.dir.File(segName(seg))
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		crashpoint.At("cut torn line", nil, nil, 0)
		err = f.Truncate(int64(s.end.off))
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		s.segs.forget(seg)
		s.torn = false
		s.seenSize = int64(s.end.off)
	}
	if !s.cleaned {
		if err := s.cleanup(); err != nil {
			return err
		}
		s.cleaned = true
	}
	return s.writeIndex()
}

// cleanup removes a sealed segment's leftover plain copy and temporary
// files of writers that crashed.
func (s *Store) cleanup() error {
	for i, sealed := range s.sealed {
		if !sealed {
			continue
		}
		err := os.Remove(s.dir.File(segName(uint32(i))))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return s.dir.RemoveTemps()
}

// writeIndex brings the index file in line with s.recs: rewritten whole
// when its header is bad, else cut after its good records, flags rewritten
// in place, then the missing records appended.
func (s *Store) writeIndex() error {
	w := s.w
	if s.idxHdr && !s.idxBad && len(s.idxFlags) == 0 && s.idxGood == len(s.recs) {
		return nil // nothing to write: the file is not even opened
	}
	path := s.dir.File(chaindir.IndexFile)
	if !s.idxHdr {
		buf := indexHeaderBytes(s.genesis)
		for i := range s.recs {
			buf = appendRecord(buf, &s.recs[i])
		}
		if w.idx != nil {
			w.idx.Close()
			w.idx = nil
		}
		if err := chaindir.WriteAtomic(path, buf); err != nil {
			return err
		}
		s.idxHdr, s.idxBad, s.idxGood, s.idxFlags = true, false, len(s.recs), nil
		st, err := chaindir.StampFile(path)
		s.idxStamp = st
		return err
	}
	if w.idx == nil {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		w.idx = f
	}
	if s.idxBad {
		crashpoint.At("cut index", nil, nil, 0)
		if err := w.idx.Truncate(int64(indexHeader + s.idxGood*recordSize)); err != nil {
			return err
		}
		s.idxBad = false
	}
	for _, j := range s.idxFlags {
		if j < s.idxGood {
			rec, off := appendRecord(nil, &s.recs[j]), int64(indexHeader+j*recordSize)
			crashpoint.At("index flag", w.idx, rec, off)
			if _, err := w.idx.WriteAt(rec, off); err != nil {
				return err
			}
		}
	}
	s.idxFlags = s.idxFlags[:0]
	if s.idxGood < len(s.recs) {
		var buf []byte
		for j := s.idxGood; j < len(s.recs); j++ {
			buf = appendRecord(buf, &s.recs[j])
		}
		off := int64(indexHeader + s.idxGood*recordSize)
		crashpoint.At("index append", w.idx, buf, off)
		if _, err := w.idx.WriteAt(buf, off); err != nil {
			return err
		}
		s.idxGood = len(s.recs)
	}
	fi, err := w.idx.Stat()
	if err != nil {
		return err
	}
	s.idxStamp = chaindir.StampOf(fi)
	return nil
}

// writeState replaces the state file with sn. The index is fsynced first
// so that the state's block is always in it.
func (s *Store) writeState(sn Snapshot) error {
	if s.w.idx != nil {
		if err := s.w.idx.Sync(); err != nil {
			return err
		}
	}
	begin := time.Now()
	if err := chaindir.WriteAtomic(s.dir.File(chaindir.StateFile), encodeState(s.genesis, sn)); err != nil {
		return err
	}
	s.stateHeight, s.stateErr, s.forceState = sn.Height, nil, false
	s.blocksSince, s.txsSince = 0, 0
	s.stateAt = time.Now()
	s.stateTook = s.stateAt.Sub(begin)
	return nil
}
