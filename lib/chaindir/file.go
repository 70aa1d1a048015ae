package chaindir

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/coniunctum/cnj/internal/crashpoint"
)

// ReadFileMax reads the file at path whole, into buf when it fits, and
// refuses a file of more than limit bytes without reading it.
func ReadFileMax(path string, limit int64, buf []byte) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAllMax(f, path, limit, buf)
}

// readLines calls each with every line of the file at path, which must be
// at most limit bytes; a missing file has no lines. The small JSON-lines
// files of the directory (peers.seen, relay-delivered.jsonl,
// sync-slow.jsonl) are read with it, each line parsed by its owner.
func readLines(path string, limit int64, each func(line []byte)) error {
	b, err := ReadFileMax(path, limit, nil)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if len(line) > 0 {
			each(line)
		}
	}
	return nil
}

// ReadAllMax is ReadFileMax on an open file; path names it in errors.
func ReadAllMax(f *os.File, path string, limit int64, buf []byte) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than %d", path, fi.Size(), limit)
	}
	size := int(fi.Size())
	if cap(buf) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	if _, err := f.ReadAt(buf, 0); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return buf, nil
}

// OpenStat opens the file at path for reading and returns its FileInfo,
// or a nil file and no error when it does not exist. The caller closes
// the file.
func OpenStat(path string) (*os.File, os.FileInfo, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// WriteAtomic replaces path with data durably: ReplaceFile with durable
// set. Derived files (index, state), genesis.json, peers and mempool.jsonl
// are written with it.
func WriteAtomic(path string, data []byte) error { return ReplaceFile(path, data, true) }

// ReplaceFile replaces path with data through a temporary file beside it
// (NAME.tmp..., mode 0644) and a rename, so that a reader, or a crash at
// any instant, finds the old file or the new one, never a part. durable
// adds the fsync of the file before the rename and of the directory after
// it, so that the new file also survives power loss.
func ReplaceFile(path string, data []byte, durable bool) error {
	dir, base := filepath.Split(path)
	f, err := os.CreateTemp(dir, base+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if durable {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	crashpoint.At("rename "+base, nil, nil, 0)
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if !durable {
		return nil
	}
	return SyncDir(dir)
}

// SyncDir makes a rename or a new file in dir durable.
func SyncDir(dir string) error {
	if dir == "" {
		dir = "."
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// TruncateSync cuts the file at path to size and fsyncs it.
func TruncateSync(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Stamp tells whether a file changed since it was last read: replaced
// (inode), grown or shrunk (size), rewritten in place (mtime). The zero
// Stamp is that of a file that does not exist.
type Stamp struct {
	Ino   uint64
	Size  int64
	Mtime int64
}

// StampOf returns the stamp of a file from its FileInfo.
func StampOf(fi os.FileInfo) Stamp {
	s := Stamp{Size: fi.Size(), Mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.Ino = uint64(st.Ino)
	}
	return s
}

// StampFile returns the stamp of the file at path.
func StampFile(path string) (Stamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Stamp{}, err
	}
	return StampOf(fi), nil
}

// ReadFileStamp reads a whole file and returns its stamp as read.
func ReadFileStamp(path string) ([]byte, Stamp, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Stamp{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, Stamp{}, err
	}
	// Sized as the file is, as os.ReadFile does: one allocation unless the
	// file grew since (io.ReadAll's doublings touch up to three times the
	// file in fresh memory).
	var buf bytes.Buffer
	buf.Grow(int(fi.Size()) + bytes.MinRead)
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, Stamp{}, err
	}
	data := buf.Bytes()
	s := StampOf(fi)
	s.Size = int64(len(data))
	return data, s, nil
}
