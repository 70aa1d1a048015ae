package blockstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// A sealed segment is a frame table, then zstd frames of whole lines, so
// that a line is read by decompressing the one frame that holds it, not
// the whole segment: a skippable frame (RFC 8878, 3.1.2; every zstd
// decoder passes over it, so zstdcat and jq read the file as before)
// whose content is the tag "CNJ-SK-1" and, for each frame in order, its
// compressed and its plain length as uvarints. A sealed file that begins
// with a zstd frame instead, as earlier versions sealed, is one frame.

// frameTarget is where a sealed segment's frame ends: at the first line
// that takes it to frameTarget bytes. Measured on a segment of the sync
// benchmark's chain (lines of about 53 KiB, 100 transfers a block):
// frames of 32 KiB, a line each there, pack to 0.340 of the plain size
// and decompress in 37 us; frames of 64 KiB (two lines) pack to 0.311 and
// take 73 us; one frame of the whole segment 0.287 and 10 to 20 ms. A page
// of an address's history (25 transactions, often in 25 blocks) reads 25
// frames, so the smaller frame halves its time for 9% more disk; frames
// that cut lines (16 KiB: 0.406) would cost a third more disk.
const frameTarget = 32 << 10

// tableMagic is the skippable frame magic of the frame table
// (0x184D2A5C, little-endian), tableTag its content's first bytes.
var tableMagic = [4]byte{0x5c, 0x2a, 0x4d, 0x18}

const tableTag = "CNJ-SK-1"

// maxTable bounds a frame table's size: far more than a segment's frames.
const maxTable = 1 << 20

// frameRef is one frame of a sealed segment.
type frameRef struct {
	comp, compLen   int64 // where the frame is in the file
	plain, plainLen int64 // where its content is in the segment
}

// encodeSealed returns the sealed form of a segment's bytes: the frame
// table, then a frame for each run of lines of about frameTarget bytes.
func encodeSealed(e *zstd.Encoder, data []byte) []byte {
	var frames [][]byte
	var table []byte
	for rest := data; len(rest) > 0; {
		n := 0
		for n < len(rest) && n < frameTarget {
			i := bytes.IndexByte(rest[n:], '\n')
			if i < 0 {
				n = len(rest)
				break
			}
			n += i + 1
		}
		f := e.EncodeAll(rest[:n], nil)
		frames = append(frames, f)
		table = binary.AppendUvarint(table, uint64(len(f)))
		table = binary.AppendUvarint(table, uint64(n))
		rest = rest[n:]
	}
	content := append([]byte(tableTag), table...)
	out := make([]byte, 0, 8+len(content)+len(data)/3)
	out = append(out, tableMagic[:]...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(content)))
	out = append(out, content...)
	for _, f := range frames {
		out = append(out, f...)
	}
	return out
}

// errTable says a sealed file's frame table does not describe it.
var errTable = errors.New("bad frame table")

// readTable returns the frames of the sealed file f of size bytes: those
// its table lists, or the one frame of a file sealed without a table,
// whose header gives its content size.
func readTable(f io.ReaderAt, size int64) ([]frameRef, error) {
	var hdr [zstd.HeaderMaxSize]byte
	k, err := f.ReadAt(hdr[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if k < 8 || [4]byte(hdr[:4]) != tableMagic {
		var h zstd.Header
		if err := h.Decode(hdr[:k]); err != nil || !h.HasFCS || h.FrameContentSize > maxSegment {
			return nil, errTable
		}
		return []frameRef{{comp: 0, compLen: size, plain: 0, plainLen: int64(h.FrameContentSize)}}, nil
	}
	n := int64(binary.LittleEndian.Uint32(hdr[4:8]))
	if n < int64(len(tableTag)) || n > maxTable || 8+n > size {
		return nil, errTable
	}
	content := make([]byte, n)
	if _, err := f.ReadAt(content, 8); err != nil {
		return nil, err
	}
	if string(content[:len(tableTag)]) != tableTag {
		return nil, errTable
	}
	b := content[len(tableTag):]
	at, plain := 8+n, int64(0)
	// Two uvarints a frame: count them first, so that the frames of every
	// segment a store opens take one allocation each.
	ends := 0
	for _, c := range b {
		if c < 0x80 {
			ends++
		}
	}
	out := make([]frameRef, 0, ends/2)
	for len(b) > 0 {
		cl, i := binary.Uvarint(b)
		if i <= 0 {
			return nil, errTable
		}
		b = b[i:]
		pl, i := binary.Uvarint(b)
		if i <= 0 || cl == 0 || pl == 0 || cl > maxSegment || pl > maxSegment {
			return nil, errTable
		}
		b = b[i:]
		out = append(out, frameRef{comp: at, compLen: int64(cl), plain: plain, plainLen: int64(pl)})
		at += int64(cl)
		plain += int64(pl)
	}
	if at != size || plain > maxSegment {
		return nil, errTable
	}
	return out, nil
}

// tableSize returns the plain size a frame table describes.
func tableSize(t []frameRef) int64 {
	if len(t) == 0 {
		return 0
	}
	last := t[len(t)-1]
	return last.plain + last.plainLen
}

// framesAt returns the frames of t that hold the bytes [off, off+n).
func framesAt(t []frameRef, off, n int64) []frameRef {
	i := sort.Search(len(t), func(i int) bool { return t[i].plain+t[i].plainLen > off })
	j := i
	for j < len(t) && t[j].plain < off+n {
		j++
	}
	return t[i:j]
}

// decodeFrame reads and decompresses one frame of the sealed file f into
// dst (its capacity reused when large enough).
func decodeFrame(f io.ReaderAt, fr frameRef, dst []byte) ([]byte, error) {
	cp := compPool.Get().(*[]byte)
	defer compPool.Put(cp)
	if int64(cap(*cp)) < fr.compLen {
		*cp = make([]byte, fr.compLen)
	}
	comp := (*cp)[:fr.compLen]
	if _, err := f.ReadAt(comp, fr.comp); err != nil {
		return nil, err
	}
	_, d := codecs()
	if int64(cap(dst)) < fr.plainLen {
		// Rounded up, so that a buffer recycled from one frame fits the
		// next (frames differ by a few bytes), with room past the end for
		// the decoder's fast path.
		dst = make([]byte, 0, (fr.plainLen+frameRound)&^(frameRound-1))
	}
	data, err := d.DecodeAll(comp, dst[:0])
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != fr.plainLen {
		return nil, fmt.Errorf("a frame of %d bytes where its table says %d", len(data), fr.plainLen)
	}
	return data, nil
}

// decodeWhole decompresses a whole sealed file, its frames one after the
// other, into a buffer of the plain size its table gives. DecodeAll given
// a smaller one grows it frame by frame, copying all it has decoded each
// time: sealing a 16 MiB segment of 316 frames spent 1.15 s checking that
// it reads back, against 30 ms, and a sync of a million transfers spent a
// third of its time there.
func decodeWhole(comp []byte) ([]byte, error) {
	var size int64
	if t, err := readTable(bytes.NewReader(comp), int64(len(comp))); err == nil {
		size = tableSize(t)
	}
	_, d := codecs()
	return d.DecodeAll(comp, make([]byte, 0, size))
}

// frameRound is what decodeFrame rounds a new buffer's size up to.
const frameRound = 16 << 10

// compPool holds the buffers decodeFrame reads compressed frames into.
var compPool = sync.Pool{New: func() any { return new([]byte) }}

// sealedFile is an open sealed segment and its frame table.
type sealedFile struct {
	f     *os.File
	table []frameRef
}
