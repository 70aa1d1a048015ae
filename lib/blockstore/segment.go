package blockstore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/coniunctum/cnj/internal/crashpoint"
	"github.com/coniunctum/cnj/lib/chaindir"
)

// DefaultSegmentSize is the size at which a writer stops appending to a
// block segment, seals it as zstd and starts the next one (Options). A
// segment holds whole lines, so it ends at the first line that reaches
// the size.
const DefaultSegmentSize = 16 << 20

// maxSegment bounds the uncompressed size of a sealed segment this
// package will decompress: a segment plus one block, with room.
const maxSegment = 1 << 30

var (
	encOnce sync.Once
	enc     *zstd.Encoder
	dec     *zstd.Decoder
)

func codecs() (*zstd.Encoder, *zstd.Decoder) {
	encOnce.Do(func() {
		var err error
		// The fastest level, for the CPU of a syncing node, which seals a
		// segment every 16 MiB. Measured on 16 MiB segments: with 50
		// senders it packs as small as "better" (0.287 of the plain size
		// against 0.288) in a tenth of the time; with 1000 senders and
		// 50,000 receivers it packs to 0.351 against 0.288 (188 against
		// 152 bytes a transfer) in 0.13 s against 0.77 s. Disk is the
		// cheaper of the two.
		enc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		if err != nil {
			panic(err) // only bad options fail
		}
		// The library's number of decoders (GOMAXPROCS, at most 4):
		// DecodeAll runs on as many at once, so the frames of a page of
		// history are read in parallel (with one, they took turns), and
		// a many-core server keeps no more than four decoders' memory.
		dec, err = zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxSegment))
		if err != nil {
			panic(err)
		}
	})
	return enc, dec
}

func segName(n uint32) string    { return chaindir.SegmentName(n) }
func sealedName(n uint32) string { return chaindir.SealedName(n) }

// segState is what a listing knows of one segment.
type segState struct {
	plain  bool // NNNNNN.jsonl exists
	sealed bool // NNNNNN.jsonl.zst exists
}

// findSegments returns the segment files in dir/blocks by number, and the
// highest number (-1 when there is none).
func findSegments(dir chaindir.Dir) (map[uint32]segState, int64, error) {
	ents, err := os.ReadDir(dir.File(chaindir.BlocksDir))
	if err != nil {
		return nil, -1, err
	}
	found := map[uint32]segState{}
	var maxN int64 = -1
	for _, e := range ents {
		n, sealed, ok := chaindir.ParseSegmentName(e.Name())
		if !ok {
			continue // temporary files and anything else
		}
		s := found[n]
		if sealed {
			s.sealed = true
		} else {
			s.plain = true
		}
		found[n] = s
		maxN = max(maxN, int64(n))
	}
	return found, maxN, nil
}

// listSegments returns the segments in dir/blocks, which must be numbered
// 0..n-1 without a gap. A segment may exist in both forms for a moment
// (sealed, plain copy not yet removed): both hold the same bytes.
func listSegments(dir chaindir.Dir) ([]segState, error) {
	found, maxN, err := findSegments(dir)
	if err != nil {
		return nil, err
	}
	segs := make([]segState, maxN+1)
	for i := range segs {
		s, ok := found[uint32(i)]
		if !ok {
			return nil, missingErr(uint32(i), uint32(maxN))
		}
		segs[i] = s
	}
	return segs, nil
}

func missingErr(n, last uint32) error {
	return chaindir.Corruptf(segName(n), 0, "missing, though %s follows it: restore it, or run cnj-chain reindex to set aside the blocks after it", filepath.Base(segName(last)))
}

// segReader reads block lines by location. It keeps the plain segments
// and the sealed ones (with their frame tables) it has opened, the last
// two sealed segments it decompressed whole, and the last frames it
// decompressed to read a line. It is safe for concurrent use.
type segReader struct {
	dir     chaindir.Dir
	mu      sync.Mutex
	files   map[uint32]*os.File
	sealeds map[uint32]*sealedFile
	cache   [2]struct {
		n    uint32
		data []byte
	}
	nextSlot int
	frames   [8]struct {
		n     uint32
		plain int64
		data  []byte
	}
	nextFrame int
}

func newSegReader(dir chaindir.Dir) *segReader {
	r := &segReader{dir: dir, files: map[uint32]*os.File{}, sealeds: map[uint32]*sealedFile{}}
	for i := range r.cache {
		r.cache[i].n = ^uint32(0)
	}
	for i := range r.frames {
		r.frames[i].n = ^uint32(0)
	}
	return r
}

func (r *segReader) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var err error
	for n, f := range r.files {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		delete(r.files, n)
	}
	for n, sf := range r.sealeds {
		sf.f.Close()
		delete(r.sealeds, n)
	}
	for i := range r.cache {
		r.cache[i].n, r.cache[i].data = ^uint32(0), nil
	}
	for i := range r.frames {
		r.frames[i].n, r.frames[i].data = ^uint32(0), nil
	}
	return err
}

// forget drops what the reader holds of segment n (it was truncated or
// replaced).
func (r *segReader) forget(n uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f := r.files[n]; f != nil {
		f.Close()
		delete(r.files, n)
	}
	if sf := r.sealeds[n]; sf != nil {
		sf.f.Close()
		delete(r.sealeds, n)
	}
	for i := range r.cache {
		if r.cache[i].n == n {
			r.cache[i].n, r.cache[i].data = ^uint32(0), nil
		}
	}
	for i := range r.frames {
		if r.frames[i].n == n {
			r.frames[i].n, r.frames[i].data = ^uint32(0), nil
		}
	}
}

// sealedOpen returns sealed segment n, open, with its frame table.
func (r *segReader) sealedOpen(n uint32) (*sealedFile, error) {
	if sf := r.sealeds[n]; sf != nil {
		return sf, nil
	}
	name := sealedName(n)
	f, err := os.Open(r.dir.File(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, chaindir.Corruptf(segName(n), 0, "missing: neither %s nor %s exists", filepath.Base(segName(n)), filepath.Base(name))
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	t, err := readTable(f, fi.Size())
	if err != nil {
		f.Close()
		if errors.Is(err, errTable) {
			return nil, chaindir.Corruptf(name, 0, "%v", err)
		}
		return nil, err
	}
	sf := &sealedFile{f: f, table: t}
	r.sealeds[n] = sf
	return sf, nil
}

// copyFrame copies into dst the content of frame fr of sealed segment n
// from plain offset at on, and returns how many bytes it copied: from the
// cache, else decompressed without the lock (several goroutines
// decompress at once) into a pooled buffer that the cache then keeps.
// Cached frames are read only under the lock, so that a buffer the cache
// lets go of goes back to the pool: a page of history decompresses 25
// frames, and allocating each was most of what a lookup allocated.
func (r *segReader) copyFrame(n uint32, sf *sealedFile, fr frameRef, at int64, dst []byte) (int, error) {
	r.mu.Lock()
	for _, c := range r.frames {
		if c.n == n && c.plain == fr.plain && c.data != nil {
			k := copy(dst, c.data[at-fr.plain:])
			r.mu.Unlock()
			return k, nil
		}
	}
	r.mu.Unlock()
	data, err := decodeFrame(sf.f, fr, getFrameBuf())
	if err != nil {
		return 0, chaindir.Corruptf(sealedName(n), 0, "does not decompress: %v", err)
	}
	k := copy(dst, data[at-fr.plain:])
	r.mu.Lock()
	c := &r.frames[r.nextFrame]
	r.nextFrame = (r.nextFrame + 1) % len(r.frames)
	old := c.data
	c.n, c.plain, c.data = n, fr.plain, data
	r.mu.Unlock()
	putFrameBuf(old)
	return k, nil
}

// framePool holds buffers for decompressed frames (*[]byte).
var framePool sync.Pool

func getFrameBuf() []byte {
	if b, ok := framePool.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return nil
}

// putFrameBuf gives b back to the pool, unless it is larger than
// maxPooledFrame (a segment sealed as one frame, or a frame of a very
// large block's line).
func putFrameBuf(b []byte) {
	if b == nil || cap(b) > maxPooledFrame {
		return
	}
	framePool.Put(&b)
}

const maxPooledFrame = 1 << 20

// sealedRange copies the bytes [off, off+len(buf)) of sealed segment n
// into buf, decompressing only the frames that hold them. It is called
// without the lock.
func (r *segReader) sealedRange(n uint32, off uint64, buf []byte) error {
	r.mu.Lock()
	for _, c := range r.cache {
		if c.n == n {
			r.mu.Unlock()
			if off > uint64(len(c.data)) || uint64(len(c.data))-off < uint64(len(buf)) {
				return errShort
			}
			copy(buf, c.data[off:])
			return nil
		}
	}
	sf, err := r.sealedOpen(n)
	r.mu.Unlock()
	if err != nil {
		return err
	}
	if int64(off)+int64(len(buf)) > tableSize(sf.table) {
		return errShort
	}
	at := int64(off)
	for _, fr := range framesAt(sf.table, at, int64(len(buf))) {
		k, err := r.copyFrame(n, sf, fr, at, buf[at-int64(off):])
		if err != nil {
			return err
		}
		at += int64(k)
	}
	if at != int64(off)+int64(len(buf)) {
		return errShort
	}
	return nil
}

// size returns the uncompressed size of segment seg: the plain file's
// size, else what the sealed file's frame table (or single frame's
// header) says. It keeps a sealed segment open with its table for the
// reads that follow: a store's open measures every segment, and a lookup
// then reads frames of many of them.
func (r *segReader) size(seg uint32) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if sf := r.sealeds[seg]; sf != nil {
		return tableSize(sf.table), nil
	}
	fi, err := os.Stat(r.dir.File(segName(seg)))
	if err == nil {
		return fi.Size(), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	sf, err := r.sealedOpen(seg)
	if err != nil {
		return 0, err
	}
	return tableSize(sf.table), nil
}

// plain returns an open handle on segment n's plain file, or nil when only
// the sealed form exists.
func (r *segReader) plain(n uint32) (*os.File, error) {
	if f := r.files[n]; f != nil {
		return f, nil
	}
	f, err := os.Open(r.dir.File(segName(n)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r.files[n] = f
	return f, nil
}

// sealed returns the decompressed bytes of sealed segment n.
func (r *segReader) sealed(n uint32) ([]byte, error) {
	for _, c := range r.cache {
		if c.n == n {
			return c.data, nil
		}
	}
	name := sealedName(n)
	comp, err := os.ReadFile(r.dir.File(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, chaindir.Corruptf(segName(n), 0, "missing: neither %s nor %s exists", filepath.Base(segName(n)), filepath.Base(name))
	}
	if err != nil {
		return nil, err
	}
	data, err := decodeWhole(comp)
	if err != nil {
		return nil, chaindir.Corruptf(name, 0, "does not decompress: %v", err)
	}
	c := &r.cache[r.nextSlot]
	r.nextSlot = (r.nextSlot + 1) % len(r.cache)
	c.n, c.data = n, data
	return data, nil
}

// readLine returns the line at off of length n in segment seg, checking
// that a newline follows it.
func (r *segReader) readLine(seg uint32, off uint64, n uint32) ([]byte, error) {
	buf := make([]byte, int(n)+1)
	if err := r.read(seg, off, buf); err != nil {
		return nil, err
	}
	if buf[n] != '\n' {
		return nil, errNoNewline
	}
	return buf[:n], nil
}

// read fills buf from offset off of segment seg, plain or sealed. The
// reading itself is done without the lock.
func (r *segReader) read(seg uint32, off uint64, buf []byte) error {
	r.mu.Lock()
	if r.sealeds[seg] != nil { // sealed: the plain file is gone for good
		r.mu.Unlock()
		return r.sealedRange(seg, off, buf)
	}
	f, err := r.plain(seg)
	r.mu.Unlock()
	if err != nil {
		return err
	}
	if f == nil {
		return r.sealedRange(seg, off, buf)
	}
	k, err := f.ReadAt(buf, int64(off))
	if err != nil && !(errors.Is(err, io.EOF) && k == len(buf)) {
		if errors.Is(err, io.EOF) {
			return errShort
		}
		return err
	}
	return nil
}

var (
	errShort     = errors.New("the segment ends before the line")
	errNoNewline = errors.New("no newline after the line")
)

// head returns the start of segment seg, its first line whole when it
// has one: a plain segment read a piece at a time until a newline, a
// sealed one's first frame (whole lines), or the whole of a segment
// sealed as one frame. Opening a directory checks its first block
// against the genesis, and must not read a segment to do so.
func (r *segReader) head(seg uint32) ([]byte, error) {
	r.mu.Lock()
	f, err := r.plain(seg)
	if err == nil && f == nil {
		var sf *sealedFile
		if sf, err = r.sealedOpen(seg); err == nil && len(sf.table) > 1 {
			r.mu.Unlock()
			first := sf.table[0]
			buf := make([]byte, first.plainLen)
			if _, err := r.copyFrame(seg, sf, first, 0, buf); err != nil {
				return nil, err
			}
			return buf, nil
		}
	}
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if f == nil {
		return r.readFrom(seg, 0)
	}
	for n := int64(64 << 10); ; n *= 2 {
		buf := make([]byte, n)
		k, err := f.ReadAt(buf, 0)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if bytes.IndexByte(buf[:k], '\n') >= 0 || k < len(buf) || n >= maxSegment {
			return buf[:k], nil
		}
	}
}

// readFrom returns segment seg from off to its current end.
func (r *segReader) readFrom(seg uint32, off uint64) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := r.plain(seg)
	if err != nil {
		return nil, err
	}
	if f != nil {
		fi, err := f.Stat()
		if err != nil {
			return nil, err
		}
		if fi.Size() < int64(off) {
			return nil, errShort
		}
		buf := make([]byte, fi.Size()-int64(off))
		k, err := f.ReadAt(buf, int64(off))
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return buf[:k], nil
	}
	data, err := r.sealed(seg)
	if err != nil {
		return nil, err
	}
	if off > uint64(len(data)) {
		return nil, errShort
	}
	return data[off:], nil
}

// compressSegment reads plain segment seg and returns its zstd form,
// checked to read back, and the plain size. It takes no lock: a full
// segment no longer changes.
func compressSegment(dir chaindir.Dir, seg uint32) ([]byte, int64, error) {
	data, err := os.ReadFile(dir.File(segName(seg)))
	if err != nil {
		return nil, 0, err
	}
	e, _ := codecs()
	comp := encodeSealed(e, data)
	if back, err := decodeWhole(comp); err != nil || !bytes.Equal(back, data) {
		return nil, 0, fmt.Errorf("sealing %s: the compressed segment does not read back", segName(seg))
	}
	return comp, int64(len(data)), nil
}

// installSealed writes comp as NNNNNN.jsonl.zst (temporary file, fsync,
// rename, fsync of blocks/) and removes the plain file, under the lock. It
// does nothing when the plain file is gone or changed size meanwhile
// (another process sealed it, or cnj-chain reindex moved it). A crash at any
// point leaves the plain file, the sealed one, or both with the same bytes.
func installSealed(dir chaindir.Dir, seg uint32, comp []byte, size int64) error {
	plain := dir.File(segName(seg))
	fi, err := os.Stat(plain)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Size() != size {
		return nil
	}
	path := dir.File(sealedName(seg))
	if _, err := os.Stat(path); err != nil {
		tmp := path + ".tmp"
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		_, err = f.Write(comp)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(tmp)
			return err
		}
		crashpoint.At("seal rename", nil, nil, 0)
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
		if err := chaindir.SyncDir(dir.File(chaindir.BlocksDir)); err != nil {
			return err
		}
	}
	crashpoint.At("seal remove", nil, nil, 0)
	return os.Remove(plain)
}

// readSegment returns the bytes of segment n: the plain file, else the
// longest prefix of the sealed one that decompresses, with derr saying why
// it stopped short.
func readSegment(dir chaindir.Dir, n uint32, st segState) (data []byte, name string, plain bool, derr, err error) {
	if st.plain {
		data, err = os.ReadFile(dir.File(segName(n)))
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			return data, segName(n), true, nil, err
		}
	}
	name = sealedName(n)
	f, err := os.Open(dir.File(name))
	if err != nil {
		return nil, name, false, nil, err
	}
	defer f.Close()
	zr, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxSegment))
	if err != nil {
		return nil, name, false, fmt.Errorf("does not decompress: %v", err), nil
	}
	defer zr.Close()
	data, derr = io.ReadAll(io.LimitReader(zr, maxSegment))
	if derr != nil {
		derr = fmt.Errorf("does not decompress: %v", derr)
	}
	return data, name, false, derr, nil
}
