package chaindir

import (
	"os"
	"path/filepath"
)

// writeAtomic replaces path with data: a temporary file in the same
// directory, fsync, rename, fsync of the directory. A crash at any instant
// leaves either the old file or the new one.
func writeAtomic(path string, data []byte) error {
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
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	crash("rename "+base, nil, nil, 0)
	if err := os.Rename(tmp, path); err != nil {
		return err
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
