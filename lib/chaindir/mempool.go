package chaindir

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/cespare/xxhash/v2"

	"github.com/coniunctum/cnj/internal/crashpoint"
)

// Mempool is mempool.jsonl as one process last read or wrote it: the
// pending transfer lines, one per line. Lines are neither parsed nor
// judged here (package mempool does that); this is the file.
//
// A writer appends accepted transfers (O_APPEND, one write, under the
// directory's Lock, not fsynced: a power cut may lose the last ones, a
// kill none) and replaces the file atomically when transfers leave
// (mined, evicted, invalid after a reorganization). Readers reload it
// when its stamp changed.
type Mempool struct {
	path  string
	lines [][]byte
	stamp Stamp

	// The file's whole lines as this process last read them (nil after
	// an Append), with where each line starts; and the length and running
	// xxhash64 of the bytes the file holds as last read or written
	// (sumOK false when an Append could not follow them).
	data   []byte
	starts []int
	size   int64
	sum    xxhash.Digest
	sumOK  bool
}

// Mempool returns the directory's mempool file, not yet read: call
// Refresh.
func (d Dir) Mempool() *Mempool { return &Mempool{path: d.File(MempoolFile)} }

// Lines returns the complete, non-blank lines as last read or written.
// The caller must not modify them.
func (m *Mempool) Lines() [][]byte { return m.lines }

// Changed reports, with one stat call, whether the file changed since it
// was last read or written.
func (m *Mempool) Changed() bool {
	s, err := StampFile(m.path)
	if err != nil {
		s = Stamp{}
	}
	return s != m.stamp
}

// Refresh reloads the file when its stamp changed since it was last read
// (always when force), and reports whether it did. A torn last line (no
// newline) is left out; blank lines are skipped.
func (m *Mempool) Refresh(force bool) (bool, error) {
	s, err := StampFile(m.path)
	if errors.Is(err, fs.ErrNotExist) {
		changed := m.stamp != (Stamp{}) || len(m.lines) > 0
		m.lines, m.stamp = nil, Stamp{}
		m.setData(nil)
		return changed, nil
	}
	if err != nil {
		return false, err
	}
	if !force && s == m.stamp {
		return false, nil
	}
	data, s, err := ReadFileStamp(m.path)
	if errors.Is(err, fs.ErrNotExist) {
		m.lines, m.stamp = nil, Stamp{}
		m.setData(nil)
		return true, nil
	}
	if err != nil {
		return false, err
	}
	m.stamp = s
	m.setData(data)
	return true, nil
}

// setData takes data, the file's bytes, as what the file holds: its whole
// lines (a torn last line is left out) and their sum.
func (m *Mempool) setData(data []byte) {
	m.lines, m.starts = splitLines(data)
	end := 0
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		end = i + 1
	}
	m.data = data[:end:end]
	m.size = int64(end)
	m.sum.Reset()
	m.sum.Write(m.data)
	m.sumOK = true
}

// Sum returns the length and xxhash64 of the bytes mempool.jsonl holds,
// as this process last read or wrote them: what a derived file that
// mirrors the pool (MempoolBin) names the file by. ok is false when the
// process cannot tell.
func (m *Mempool) Sum() (size int64, sum uint64, ok bool) { return m.size, m.sum.Sum64(), m.sumOK }

// After returns the lines that follow the first size bytes of the file as
// last read, when those bytes hash (xxhash64) to sum; ok is false when
// they do not, or when the file was last appended to by this process
// (Refresh with force reads it again).
func (m *Mempool) After(size int64, sum uint64) (lines [][]byte, ok bool) {
	if m.data == nil && len(m.lines) > 0 || size > int64(len(m.data)) || size > 0 && m.data[size-1] != '\n' {
		return nil, false
	}
	if xxhash.Sum64(m.data[:size]) != sum {
		return nil, false
	}
	i, _ := slices.BinarySearch(m.starts, int(size))
	return m.lines[i:], true
}

// splitLines returns the complete, non-blank lines of data and where each
// starts.
func splitLines(data []byte) (lines [][]byte, starts []int) {
	for off := 0; off < len(data); {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			break // torn
		}
		if line := bytes.TrimSpace(data[off : off+i]); len(line) > 0 {
			lines = append(lines, data[off:off+i:off+i])
			starts = append(starts, off)
		}
		off += i + 1
	}
	return lines, starts
}

func checkLines(lines [][]byte) error {
	for i, l := range lines {
		if len(bytes.TrimSpace(l)) == 0 || bytes.IndexByte(l, '\n') >= 0 {
			return fmt.Errorf("mempool line %d is blank or holds a newline", i+1)
		}
	}
	return nil
}

// Append appends transfer lines in one O_APPEND write, first cutting a
// torn last line a crashed writer left. Only the holder of the
// directory's Lock may call it. The write is not fsynced: a killed
// process loses nothing (the lines are in the kernel's cache), a power
// cut may lose the last lines, as bitcoind loses the transfers it
// received since it last saved mempool.dat. A pending transfer is soft
// state: peers and wallets send it again, and a transfer that was lost
// was never on the chain. An fsync per transfer would put a disk flush on
// the path of every relayed transfer (0.7 ms on the test machine, before
// cnj-verify passes the line on).
func (m *Mempool) Append(lines ...[]byte) error {
	if err := checkLines(lines); err != nil || len(lines) == 0 {
		return err
	}
	f, err := os.OpenFile(m.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := cutTorn(f); err != nil {
		return err
	}
	var buf []byte
	for _, l := range lines {
		buf = append(append(buf, l...), '\n')
	}
	// The sum follows the file only when it held what was last read.
	before, err := f.Stat()
	if err != nil {
		return err
	}
	if before.Size() != m.size {
		m.sumOK = false
	}
	crashpoint.At("mempool append", f, buf, -1)
	if _, err := f.Write(buf); err != nil {
		m.sumOK = false
		return err
	}
	for _, l := range lines {
		m.lines = append(m.lines, bytes.Clone(l))
	}
	m.data, m.starts = nil, nil
	m.sum.Write(buf)
	m.size += int64(len(buf))
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	m.stamp = StampOf(fi)
	return nil
}

// cutTorn truncates f after its last newline.
func cutTorn(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	if size == 0 {
		return nil
	}
	// The last byte first: it is a newline but after a crash, and every
	// Write that adds a transfer comes here.
	var last [1]byte
	if _, err := f.ReadAt(last[:], size-1); err != nil {
		return err
	}
	if last[0] == '\n' {
		return nil
	}
	n := min(size, 64<<10)
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, size-n); err != nil {
		return err
	}
	keep := int64(0)
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
		keep = size - n + int64(i) + 1
	} else if size > n {
		return errors.New("mempool.jsonl ends in a line longer than 64 KiB")
	}
	return f.Truncate(keep)
}

// Replace replaces the file with lines, atomically (temporary file,
// fsync, rename), for when transfers leave the pool. Only the holder of
// the directory's Lock may call it.
func (m *Mempool) Replace(lines [][]byte) error {
	if err := checkLines(lines); err != nil {
		return err
	}
	var buf []byte
	for _, l := range lines {
		buf = append(append(buf, l...), '\n')
	}
	if slices.EqualFunc(lines, m.lines, bytes.Equal) {
		if fi, err := os.Stat(m.path); err == nil && fi.Size() == int64(len(buf)) {
			return nil // the file holds these very lines (often none, while syncing)
		}
	}
	if err := WriteAtomic(m.path, buf); err != nil {
		return err
	}
	m.setData(buf)
	s, err := StampFile(m.path)
	m.stamp = s
	return err
}
