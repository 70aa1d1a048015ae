package chaindir

import (
	"fmt"
	"os"
	"path/filepath"
)

// ReadFileMax reads the file at path whole, into buf when it fits, and
// refuses a file of more than limit bytes without reading it. cnj-serve
// reads sealed segments with it (SealedFrame), package relay the peers
// file.
func ReadFileMax(path string, limit int64, buf []byte) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAllMax(f, path, limit, buf)
}

// readAllMax is ReadFileMax on an open file.
func readAllMax(f *os.File, path string, limit int64, buf []byte) ([]byte, error) {
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

// writeAtomic replaces path with data durably (ReplaceFile).
func writeAtomic(path string, data []byte) error { return ReplaceFile(path, data, true) }

// ReplaceFile replaces path with data through a temporary file beside it
// (mode 0644) and a rename, so that a reader, or a crash at any instant,
// finds the old file or the new one, never a part. durable adds the fsync
// of the file before the rename and of the directory after it, so that
// the new file also survives power loss. Package relay writes the peers
// file and its stats files with it.
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
	crash("rename "+base, nil, nil, 0)
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if !durable {
		return nil
	}
	return syncDir(dir)
}

// crashHook, set by tests only, is called at each point where a crash
// leaves the files in a distinct state; f, data and off describe the write
// about to happen (off < 0: an O_APPEND write), so that the hook can write
// a part of it and then panic, as a process killed mid-write would leave.
var crashHook func(point string, f *os.File, data []byte, off int64)

func crash(point string, f *os.File, data []byte, off int64) {
	if crashHook != nil {
		crashHook(point, f, data, off)
	}
}

// syncDir makes a rename or a new file in dir durable.
func syncDir(dir string) error {
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
