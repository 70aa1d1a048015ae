package blockstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/cespare/xxhash/v2"

	"github.com/coniunctum/cnj/internal/crashpoint"
	"github.com/coniunctum/cnj/lib/chaindir"
)

// The undo file keeps the undo data of the blocks connected on the main
// chain, as Bitcoin Core's rev files do, so that a process that did not
// connect a block itself (one that opened the directory after) can still
// disconnect it without replaying the chain from genesis: a
// reorganization of depth d after opening reads d records and O(d)
// blocks. It is derived: the bytes of each record are the ledger's
// (ledger.Undo.MarshalBinary), which the store keeps without reading.
//
//	header   0:8     "CNJ-UD-1"
//	         8:40    genesis hash
//	         40:56   zero
//	         56:64   xxhash64(0:56)
//	record   0:L     the undo data of one block
//	         L:L+32  its block hash
//	         +32:+40 its height
//	         +40:+48 L
//	         +48:+56 xxhash64 of the undo data
//	         +56:+64 xxhash64 of the 56 trailer bytes before
//
// Records are appended in the order their blocks were connected, by the
// writes that connected them (PutUndo; made durable before the write's
// blocks: End), and found by reading back from the end, trailer by
// trailer: the blocks a reorganization disconnects are the most recently
// connected. A block connected more than once (reorganizations back and
// forth) has a record each time, all alike. A crash may leave a torn
// record at the end: readers skip back to the last whole trailer, and the
// next writer cuts the rest before it appends.
const (
	undoMagic   = "CNJ-UD-1"
	undoHeader  = 64
	undoTrailer = 64
	// maxUndoRecord bounds the undo data of one block: every recent id of
	// a chain dropped at once, with room. A trailer claiming more is not
	// one.
	maxUndoRecord = 1 << 30
)

func undoHeaderBytes(genesis [32]byte) []byte {
	b := make([]byte, undoHeader)
	copy(b, undoMagic)
	copy(b[8:40], genesis[:])
	binary.BigEndian.PutUint64(b[56:], xxhash.Sum64(b[:56]))
	return b
}

// appendUndoRecord appends the record of a block's undo data to dst.
func appendUndoRecord(dst []byte, hash [32]byte, height uint64, data []byte) []byte {
	dst = append(dst, data...)
	var t [undoTrailer]byte
	copy(t[0:32], hash[:])
	binary.BigEndian.PutUint64(t[32:40], height)
	binary.BigEndian.PutUint64(t[40:48], uint64(len(data)))
	binary.BigEndian.PutUint64(t[48:56], xxhash.Sum64(data))
	binary.BigEndian.PutUint64(t[56:64], xxhash.Sum64(t[:56]))
	return append(dst, t[:]...)
}

// undoRec is where a record is: its undo data at off, of length n.
type undoRec struct {
	off    int64
	n      int64
	height uint64
	sum    uint64
}

// trailerAt decodes the trailer that ends at end, in t (undoTrailer bytes);
// ok is false when it is not a whole trailer whose record starts at or
// after floor.
func trailerAt(t []byte, end, floor int64) (hash [32]byte, r undoRec, ok bool) {
	if binary.BigEndian.Uint64(t[56:64]) != xxhash.Sum64(t[:56]) {
		return hash, r, false
	}
	n := binary.BigEndian.Uint64(t[40:48])
	if n > maxUndoRecord || end-undoTrailer-int64(n) < floor {
		return hash, r, false
	}
	copy(hash[:], t[:32])
	r = undoRec{off: end - undoTrailer - int64(n), n: int64(n), height: binary.BigEndian.Uint64(t[32:40]), sum: binary.BigEndian.Uint64(t[48:56])}
	return hash, r, true
}

// undoLog is a process's view of the undo file: the records it has read
// back so far, which cover [lo, hi) of the file whose inode is ino.
type undoLog struct {
	path    string
	genesis [32]byte
	ino     uint64
	lo, hi  int64 // 0 until the first lookup
	known   map[[32]byte]undoRec
}

func newUndoLog(d chaindir.Dir, genesis [32]byte) *undoLog {
	return &undoLog{path: d.File(chaindir.UndoFile), genesis: genesis}
}

// forget drops what was read, as when the file was replaced.
func (u *undoLog) forget() { u.ino, u.lo, u.hi, u.known = 0, 0, 0, nil }

// get returns the undo data kept for the block hash at height, or nil when
// the file holds none: no file (a directory of an older build), a file of
// another network or damaged, or no record of the block. Only I/O errors
// are errors.
func (u *undoLog) get(hash [32]byte, height uint64) ([]byte, error) {
	f, fi, err := chaindir.OpenStat(u.path)
	if err != nil {
		return nil, err
	}
	if f == nil {
		u.forget()
		return nil, nil
	}
	defer f.Close()
	var ino uint64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = uint64(st.Ino)
	}
	size := fi.Size()
	if ino != u.ino || size < u.hi {
		// Replaced (cnj-chain reindex) or cut below what was read: read
		// it afresh.
		u.forget()
		var hdr [undoHeader]byte
		if _, err := f.ReadAt(hdr[:], 0); err != nil || !bytes.Equal(hdr[:], undoHeaderBytes(u.genesis)) {
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			return nil, nil
		}
		u.ino, u.known = ino, map[[32]byte]undoRec{}
	}
	if u.hi == 0 {
		end, err := validEnd(f, size, undoHeader)
		if err != nil {
			return nil, err
		}
		u.lo, u.hi = end, end
	} else if size > u.hi {
		// Records appended since: read them back down to what is known.
		end, err := validEnd(f, size, u.hi)
		if err != nil {
			return nil, err
		}
		if lo, err := u.walk(f, end, u.hi, nil); err != nil {
			return nil, err
		} else if lo != u.hi {
			// They do not end where the known ones begin: start over
			// from the new end.
			u.known = map[[32]byte]undoRec{}
			u.lo = end
		}
		u.hi = end
	}
	r, ok := u.known[hash]
	if !ok && u.lo > undoHeader {
		lo, err := u.walk(f, u.lo, undoHeader, &hash)
		if err != nil {
			return nil, err
		}
		u.lo = lo
		r, ok = u.known[hash]
	}
	if !ok || r.height != height {
		return nil, nil
	}
	data := make([]byte, r.n)
	if _, err := f.ReadAt(data, r.off); err != nil {
		return nil, err
	}
	if xxhash.Sum64(data) != r.sum {
		return nil, nil // damaged: cnj-chain check says so
	}
	return data, nil
}

// walk reads trailers back from end, each record's start being the next
// end, adding each record to u.known, until floor, a trailer that does not
// decode, or (when want is set) the record of want. It returns where it
// stopped.
func (u *undoLog) walk(f *os.File, end, floor int64, want *[32]byte) (int64, error) {
	var t [undoTrailer]byte
	for end-undoTrailer >= floor {
		if _, err := f.ReadAt(t[:], end-undoTrailer); err != nil {
			return end, err
		}
		hash, r, ok := trailerAt(t[:], end, floor)
		if !ok {
			return end, nil
		}
		if _, seen := u.known[hash]; !seen {
			u.known[hash] = r
		}
		end = r.off
		if want != nil && hash == *want {
			break
		}
	}
	return end, nil
}

// validEnd returns the end of the last whole record of a file of size
// bytes, at or above floor: size itself, unless a crash left a torn
// record there; then the end of the last whole trailer before it.
func validEnd(f *os.File, size, floor int64) (int64, error) {
	if size <= floor {
		return floor, nil
	}
	var t [undoTrailer]byte
	if size-undoTrailer >= floor {
		if _, err := f.ReadAt(t[:], size-undoTrailer); err != nil {
			return 0, err
		}
		if _, _, ok := trailerAt(t[:], size, floor); ok {
			return size, nil
		}
	}
	// A torn tail: a part of what one write appended. Look back for the
	// last trailer that checks out (what a whole record ends with).
	const chunk = 1 << 20
	for hi := size; hi > floor; {
		lo := max(floor, hi-chunk)
		buf := make([]byte, hi-lo)
		if _, err := f.ReadAt(buf, lo); err != nil {
			return 0, err
		}
		for e := len(buf); e >= undoTrailer; e-- {
			if _, _, ok := trailerAt(buf[e-undoTrailer:e], lo+int64(e), floor); ok {
				return lo + int64(e), nil
			}
		}
		// A trailer may straddle chunks: step back by less than one.
		hi = lo + undoTrailer - 1
		if lo == floor {
			break
		}
	}
	return floor, nil
}

// appendUndo appends the records buffered by a write to the undo file and
// fsyncs it: a new or foreign file is started afresh with its header, and
// a torn record a crash left at the end is cut first. Only the holder of
// the directory's lock calls it.
func appendUndo(d chaindir.Dir, genesis [32]byte, recs []byte) error {
	path := d.File(chaindir.UndoFile)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		// A directory without undo data (new, or of an older build):
		// start the file whole, so that a reader never sees it without
		// its header.
		return chaindir.WriteAtomic(path, append(undoHeaderBytes(genesis), recs...))
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	var hdr [undoHeader]byte
	if n, _ := f.ReadAt(hdr[:], 0); n < undoHeader || !bytes.Equal(hdr[:], undoHeaderBytes(genesis)) {
		return chaindir.WriteAtomic(path, append(undoHeaderBytes(genesis), recs...))
	}
	end, err := validEnd(f, fi.Size(), undoHeader)
	if err != nil {
		return err
	}
	if end != fi.Size() {
		crashpoint.At("cut torn undo", nil, nil, 0)
		if err := f.Truncate(end); err != nil {
			return err
		}
	}
	crashpoint.At("undo append", f, recs, end)
	if _, err := f.WriteAt(recs, end); err != nil {
		return err
	}
	return f.Sync()
}

// WriteUndoFile replaces the undo file with the records of recs, each a
// block's hash, height and undo data, oldest first (cnj-chain reindex),
// atomically. Only the holder of the directory's lock may call it.
func WriteUndoFile(d chaindir.Dir, genesis [32]byte, recs []UndoRecord) error {
	b := undoHeaderBytes(genesis)
	for _, r := range recs {
		b = appendUndoRecord(b, r.Hash, r.Height, r.Data)
	}
	return chaindir.WriteAtomic(d.File(chaindir.UndoFile), b)
}

// UndoRecord is one block's record in the undo file.
type UndoRecord struct {
	Hash   [32]byte
	Height uint64
	Data   []byte
}

// ReadUndoFile reads every whole record of the undo file back from its end
// (a torn record at the end is not damage), oldest first, for cnj-chain
// check: nil and no error when there is no file. A bad header, a record
// whose data does not match its checksum, or records that do not reach
// back to the header are a *chaindir.CorruptError.
func ReadUndoFile(d chaindir.Dir, genesis [32]byte) ([]UndoRecord, error) {
	f, fi, err := chaindir.OpenStat(d.File(chaindir.UndoFile))
	if err != nil || f == nil {
		return nil, err
	}
	defer f.Close()
	var hdr [undoHeader]byte
	if n, _ := f.ReadAt(hdr[:], 0); n < undoHeader || !bytes.Equal(hdr[:], undoHeaderBytes(genesis)) {
		return nil, chaindir.Corruptf(chaindir.UndoFile, 0, "bad header: %s", chaindir.ReindexHint)
	}
	end, err := validEnd(f, fi.Size(), undoHeader)
	if err != nil {
		return nil, err
	}
	var out []UndoRecord
	var t [undoTrailer]byte
	for end > undoHeader {
		if _, err := f.ReadAt(t[:], end-undoTrailer); err != nil {
			return nil, err
		}
		hash, r, ok := trailerAt(t[:], end, undoHeader)
		if !ok {
			return nil, chaindir.Corruptf(chaindir.UndoFile, 0, "no whole record ends at byte %d: %s", end, chaindir.ReindexHint)
		}
		data := make([]byte, r.n)
		if _, err := f.ReadAt(data, r.off); err != nil {
			return nil, err
		}
		if xxhash.Sum64(data) != r.sum {
			return nil, chaindir.Corruptf(chaindir.UndoFile, 0, "the record of block %x is damaged: %s", hash[:8], chaindir.ReindexHint)
		}
		out = append(out, UndoRecord{Hash: hash, Height: r.height, Data: data})
		end = r.off
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// PutUndo keeps the undo data of a block the chain connected during a
// write (package chain's Store): it is appended to the undo file, and
// made durable, before the write's blocks are (End, SyncIndex). Outside a
// write it is dropped: a reader has nowhere to put it.
func (s *Store) PutUndo(hash [32]byte, height uint64, data []byte) {
	if s.w == nil {
		return
	}
	s.w.undo = appendUndoRecord(s.w.undo, hash, height, data)
}

// GetUndo returns the undo data kept for the block hash at height, or nil
// when the undo file holds none (package chain's Store): the chain then
// replays the ledger instead.
func (s *Store) GetUndo(hash [32]byte, height uint64) ([]byte, error) {
	data, err := s.undo.get(hash, height)
	if err != nil {
		return nil, fmt.Errorf("blockstore: reading %s: %w", chaindir.UndoFile, err)
	}
	return data, nil
}

// syncUndo writes the undo records buffered by the write.
func (s *Store) syncUndo() error {
	if len(s.w.undo) == 0 {
		return nil
	}
	if err := appendUndo(s.dir, s.genesis, s.w.undo); err != nil {
		return err
	}
	s.w.undo = s.w.undo[:0]
	return nil
}
