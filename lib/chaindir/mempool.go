package chaindir

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// readMempool reloads mempool.jsonl when its inode, size or mtime changed
// since it was last read (always when force). A torn last line (no newline)
// is left out; blank lines are skipped.
func (d *Dir) readMempool(force bool) error {
	path := filepath.Join(d.path, mempoolFile)
	id, err := statID(path)
	if errors.Is(err, fs.ErrNotExist) {
		d.mem, d.memID = nil, fileID{}
		return nil
	}
	if err != nil {
		return err
	}
	if !force && id == d.memID {
		return nil
	}
	data, id, err := readFileID(path)
	if errors.Is(err, fs.ErrNotExist) {
		d.mem, d.memID = nil, fileID{}
		return nil
	}
	if err != nil {
		return err
	}
	d.mem, d.memID = splitLines(data), id
	return nil
}

// splitLines returns the complete, non-blank lines of data.
func splitLines(data []byte) [][]byte {
	var lines [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break // torn
		}
		if line := bytes.TrimSpace(data[:i]); len(line) > 0 {
			lines = append(lines, data[:i:i])
		}
		data = data[i+1:]
	}
	return lines
}

func checkLines(lines [][]byte) error {
	for i, l := range lines {
		if len(bytes.TrimSpace(l)) == 0 || bytes.IndexByte(l, '\n') >= 0 {
			return fmt.Errorf("mempool line %d is blank or holds a newline", i+1)
		}
	}
	return nil
}

// AddMempool appends transfer lines to mempool.jsonl in one O_APPEND write,
// first cutting a torn last line a crashed writer left. The write is not
// fsynced: a killed process loses nothing (the lines are in the kernel's
// cache), a power cut may lose the last lines, as bitcoind loses the
// transfers it received since it last saved mempool.dat. A pending
// transfer is soft state: peers and wallets send it again, and a transfer
// that was lost was never on the chain. An fsync per transfer would put a
// disk flush on the path of every relayed transfer (0.7 ms on the test
// machine, before cnj-verify passes the line on).
func (w *Writer) AddMempool(lines ...[]byte) error {
	if err := w.check(); err != nil {
		return err
	}
	if err := checkLines(lines); err != nil || len(lines) == 0 {
		return err
	}
	d := w.d
	path := filepath.Join(d.path, mempoolFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if !w.memChecked {
		if err := cutTorn(f); err != nil {
			return err
		}
		w.memChecked = true
	}
	var buf []byte
	for _, l := range lines {
		buf = append(append(buf, l...), '\n')
	}
	crash("mempool append", f, buf, -1)
	if _, err := f.Write(buf); err != nil {
		return err
	}
	for _, l := range lines {
		d.mem = append(d.mem, bytes.Clone(l))
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	d.memID = idOf(fi)
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
	if buf[n-1] == '\n' {
		return nil
	}
	keep := int64(0)
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
		keep = size - n + int64(i) + 1
	} else if size > n {
		return errors.New("mempool.jsonl ends in a line longer than 64 KiB")
	}
	return f.Truncate(keep)
}

// SetMempool replaces mempool.jsonl with lines, atomically (temporary file,
// fsync, rename): for when transfers leave the pool (mined, evicted, no
// longer valid after a reorganization).
func (w *Writer) SetMempool(lines [][]byte) error {
	if err := w.check(); err != nil {
		return err
	}
	if err := checkLines(lines); err != nil {
		return err
	}
	var buf []byte
	mem := make([][]byte, 0, len(lines))
	for _, l := range lines {
		buf = append(append(buf, l...), '\n')
		mem = append(mem, bytes.Clone(l))
	}
	path := filepath.Join(w.d.path, mempoolFile)
	if slices.EqualFunc(lines, w.d.mem, bytes.Equal) {
		if fi, err := os.Stat(path); err == nil && fi.Size() == int64(len(buf)) {
			return nil // the file holds these very lines (often none, while syncing)
		}
	}
	if err := writeAtomic(path, buf); err != nil {
		return err
	}
	w.d.mem = mem
	id, err := statID(path)
	w.d.memID = id
	w.memChecked = true
	return err
}
