package chaindir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chain"
)

// errReload says the directory changed in a way only a fresh read follows
// (a replaced or shortened index file).
var errReload = errors.New("chaindir: reload")

// Refresh catches up with what other processes wrote since Open or the last
// Refresh: new index records and the blocks they name, blocks stored but
// not yet indexed, mempool.jsonl. When the index file was replaced (cnj-chain
// reindex) everything is read again. When nothing changed it costs about
// five stat calls. changed reports new blocks, a new tip or a new mempool;
// fetch Chain() again afterwards.
func (d *Dir) Refresh() (changed bool, err error) {
	if d.w != nil {
		return false, errors.New("chaindir: Refresh called inside Write")
	}
	return d.refresh()
}

func (d *Dir) refresh() (bool, error) {
	tip := d.ch.Tip().Hash
	n := len(d.recs)
	mem := d.memID
	reloaded := false
	err := d.followIndex()
	if errors.Is(err, errReload) {
		d.reset()
		err = d.load()
		reloaded = true
	}
	if err != nil {
		return false, err
	}
	if !reloaded {
		if err := d.followSegments(); err != nil {
			return false, err
		}
		if err := d.readMempool(false); err != nil {
			return false, err
		}
	}
	return reloaded || d.ch.Tip().Hash != tip || len(d.recs) != n || d.memID != mem, nil
}

// followIndex applies the records appended to the index file since it was
// last read.
func (d *Dir) followIndex() error {
	path := filepath.Join(d.path, indexFile)
	id, err := statID(path)
	if errors.Is(err, fs.ErrNotExist) {
		d.idxHdr, d.idxID = false, fileID{} // a writer will rebuild it
		return nil
	}
	if err != nil {
		return err
	}
	if id == d.idxID {
		return nil
	}
	if !d.idxHdr || id.ino != d.idxID.ino {
		return errReload
	}
	at := int64(indexHeader + d.idxGood*recordSize)
	if id.size < at {
		return errReload
	}
	if id.size == at {
		d.idxID = id
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	buf := make([]byte, id.size-at)
	k, err := f.ReadAt(buf, at)
	f.Close()
	if err != nil && k < len(buf) {
		buf = buf[:k/recordSize*recordSize]
	}
	d.idxBad = len(buf)%recordSize != 0
	for len(buf) >= recordSize {
		r, ok := decodeRecord(buf)
		if !ok {
			d.idxBad = true
			break
		}
		buf = buf[recordSize:]
		if i := d.idxGood; i < len(d.recs) {
			// A block this Dir found in the segment tail before the
			// writer indexed it.
			if d.recs[i].Hash != r.Hash || d.recs[i].Loc != r.Loc {
				return errReload
			}
			d.idxGood++
			continue
		}
		l := r.Loc
		if !(l.Segment == d.end.seg && l.Offset == d.end.off) && !(l.Segment == d.end.seg+1 && l.Offset == 0) {
			return errReload
		}
		if int(l.Segment) >= d.nsegs {
			if err := d.list(); err != nil {
				return err
			}
		}
		var b *block.Block
		if !r.Invalid {
			line := 1
			if f, ok := d.segFirst[l.Segment]; ok {
				line = len(d.recs) - f + 1
			}
			if b, err = d.getLine(l, line, &r.Hash); err != nil {
				return err
			}
		}
		res, err := d.ch.Apply(r, b)
		if res == nil {
			if ce := corruptOf(err); ce != nil {
				return ce
			}
			return errReload
		}
		rec := res.Record
		rec.Loc = r.Loc
		d.added(rec, res)
		d.idxGood++
		if l.Segment != d.end.seg {
			d.seenSize = 0
		}
		d.end = pos{l.Segment, l.Offset + uint64(l.Length) + 1}
	}
	d.idxID = id
	return nil
}

// followSegments applies blocks stored beyond d.end: appended by a writer
// that has not indexed them yet, or that crashed before it could.
func (d *Dir) followSegments() error {
	size, more := d.segGrew()
	if !more {
		return nil
	}
	if err := d.list(); err != nil {
		return err
	}
	tail, err := d.scanTail()
	if err != nil {
		return err
	}
	if len(tail) > 0 && tail[len(tail)-1].rec.Loc.Segment != tail[0].rec.Loc.Segment {
		size = -1 // measured another segment; look again next time
	}
	d.seenSize = size
	_, err = d.applyTail(tail)
	return err
}

// segGrew reports whether the segments hold data beyond d.end that this Dir
// has not looked at, and the size of the current segment.
func (d *Dir) segGrew() (int64, bool) {
	seg := d.end.seg
	size, _, err := segSize(d.path, seg)
	if err == nil && size != d.seenSize && uint64(size) > d.end.off {
		return size, true
	}
	for _, name := range []string{segName(seg + 1), sealedName(seg + 1)} {
		if _, err := os.Stat(filepath.Join(d.path, name)); err == nil {
			return size, true
		}
	}
	return size, false
}

// TipChanged reports, with two stat calls, whether another process stored
// blocks since this Dir last read the directory: the index file was
// replaced or changed size, or the current segment grew. A miner polls it
// (every 100 ms, say) and calls Refresh when it turns true. It does not
// notice mempool changes.
func (d *Dir) TipChanged() bool {
	id, err := statID(filepath.Join(d.path, indexFile))
	if err != nil || id.ino != d.idxID.ino || id.size != d.idxID.size {
		return true
	}
	fi, err := os.Stat(filepath.Join(d.path, segName(d.end.seg)))
	return err == nil && fi.Size() != d.seenSize && uint64(fi.Size()) > d.end.off
}

// Records returns the index records of every stored block in arrival order
// (for cnj-chain and the web app: a block's place on disk, its transfer
// count). The caller must not modify them.
func (d *Dir) Records() []chain.Record { return d.recs }
