package blockstore

import (
	"errors"
	"io/fs"
	"os"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
)

// Follow catches up with what other processes stored since Open or the
// last Follow: new index records and the blocks they name, then blocks
// stored but not yet indexed, each handed to apply in order. It returns
// ErrReload when the index file was replaced or shortened (cnj-chain
// reindex): the composer then calls Reload and builds its chain anew. It
// reports whether records were added. When nothing changed it costs about
// three stat calls.
func (s *Store) Follow(apply Applier) (bool, error) {
	if s.w != nil {
		return false, errors.New("blockstore: Follow called during a write")
	}
	return s.follow(apply)
}

func (s *Store) follow(apply Applier) (bool, error) {
	n := len(s.recs)
	if err := s.followIndex(apply); err != nil {
		return false, err
	}
	if err := s.followSegments(apply); err != nil {
		return false, err
	}
	return len(s.recs) != n, nil
}

// followIndex applies the records appended to the index file since it was
// last read.
func (s *Store) followIndex(apply Applier) error {
	path := s.dir.File(chaindir.IndexFile)
	st, err := chaindir.StampFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		s.idxHdr, s.idxStamp = false, chaindir.Stamp{} // a writer will rebuild it
		return nil
	}
	if err != nil {
		return err
	}
	if st == s.idxStamp {
		return nil
	}
	if !s.idxHdr || st.Ino != s.idxStamp.Ino {
		return ErrReload
	}
	at := int64(indexHeader + s.idxGood*recordSize)
	if st.Size < at {
		return ErrReload
	}
	if st.Size == at {
		s.idxStamp = st
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	buf := make([]byte, st.Size-at)
	k, err := f.ReadAt(buf, at)
	f.Close()
	if err != nil && k < len(buf) {
		buf = buf[:k/recordSize*recordSize]
	}
	s.idxBad = len(buf)%recordSize != 0
	for len(buf) >= recordSize {
		r, ok := decodeRecord(buf)
		if !ok {
			s.idxBad = true
			break
		}
		buf = buf[recordSize:]
		if i := s.idxGood; i < len(s.recs) {
			// A block this Store found in the segment tail before the
			// writer indexed it.
			if s.recs[i].Hash != r.Hash || s.recs[i].Loc != r.Loc {
				return ErrReload
			}
			s.idxGood++
			continue
		}
		l := r.Loc
		if !(l.Segment == s.end.seg && l.Offset == s.end.off) && !(l.Segment == s.end.seg+1 && l.Offset == 0) {
			return ErrReload
		}
		if int(l.Segment) >= s.nsegs {
			if err := s.list(); err != nil {
				return err
			}
		}
		var b *block.Block
		if !r.Invalid {
			line := 1
			if f, ok := s.segFirst(l.Segment); ok {
				line = len(s.recs) - f + 1
			}
			if b, err = s.getLine(l, line, &r.Hash); err != nil {
				return err
			}
		}
		rec, inv, err := apply(r, b)
		if err != nil {
			if ce := chaindir.CorruptOf(err); ce != nil {
				return ce
			}
			return ErrReload
		}
		rec.Loc = r.Loc
		s.Added(rec, inv)
		s.idxGood++
		if l.Segment != s.end.seg {
			s.seenSize = 0
		}
		s.end = pos{l.Segment, l.Offset + uint64(l.Length) + 1}
	}
	s.idxStamp = st
	return nil
}

// followSegments applies blocks stored beyond s.end: appended by a writer
// that has not indexed them yet, or that crashed before it could.
func (s *Store) followSegments(apply Applier) error {
	size, more := s.segGrew()
	if !more {
		return nil
	}
	if err := s.list(); err != nil {
		return err
	}
	tail, err := s.scanTail()
	if err != nil {
		return err
	}
	if len(tail) > 0 && tail[len(tail)-1].Rec.Loc.Segment != tail[0].Rec.Loc.Segment {
		size = -1 // measured another segment; look again next time
	}
	s.seenSize = size
	_, err = s.applyTail(tail, apply)
	return err
}

// segGrew reports whether the segments hold data beyond s.end that this
// Store has not looked at, and the size of the current segment.
func (s *Store) segGrew() (int64, bool) {
	seg := s.end.seg
	size, err := s.segs.size(seg)
	if err == nil && size != s.seenSize && uint64(size) > s.end.off {
		return size, true
	}
	for _, name := range []string{segName(seg + 1), sealedName(seg + 1)} {
		if _, err := os.Stat(s.dir.File(name)); err == nil {
			return size, true
		}
	}
	return size, false
}

// TipChanged reports, with two stat calls, whether another process stored
// blocks since this Store last read the directory: the index file was
// replaced or changed size, or the current segment grew. A miner polls it
// (every 100 ms, say) and follows when it turns true.
func (s *Store) TipChanged() bool {
	st, err := chaindir.StampFile(s.dir.File(chaindir.IndexFile))
	if err != nil || st.Ino != s.idxStamp.Ino || st.Size != s.idxStamp.Size {
		return true
	}
	fi, err := os.Stat(s.dir.File(segName(s.end.seg)))
	return err == nil && fi.Size() != s.seenSize && uint64(fi.Size()) > s.end.off
}
