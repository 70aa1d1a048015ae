//go:build unix

package chaindir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockFile is an exclusive flock(2) on the directory's LOCK file. The lock
// belongs to the open file description, so two Dirs in one process exclude
// each other just as two processes do.
type lockFile struct{ f *os.File }

func lock(path string) (*lockFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &lockFile{f}, nil
}

// lockDir takes the directory's write lock for d. The LOCK file stays open
// between locks: opening a file costs half a dozen system calls, and a
// validator takes the lock for every transfer. After the flock, the open
// file is checked to still be the LOCK file (same device and inode), so
// that one removed or replaced meanwhile is opened again rather than
// locked alone.
func (d *Dir) lockDir() (unlock func() error, err error) {
	path := filepath.Join(d.path, lockName)
	for range 3 {
		if d.lk == nil {
			f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				return nil, err
			}
			d.lk, d.lkFd = f, int(f.Fd())
		}
		fd := d.lkFd
		for {
			err = syscall.Flock(fd, syscall.LOCK_EX)
			if !errors.Is(err, syscall.EINTR) {
				break
			}
		}
		if err != nil {
			d.closeLock()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		var held, now syscall.Stat_t
		if syscall.Fstat(fd, &held) == nil && syscall.Stat(path, &now) == nil && held.Dev == now.Dev && held.Ino == now.Ino {
			return func() error { return syscall.Flock(fd, syscall.LOCK_UN) }, nil
		}
		d.closeLock() // releases the flock
	}
	return nil, fmt.Errorf("lock %s: the file keeps being replaced", path)
}

// closeLock closes the LOCK file kept open by lockDir.
func (d *Dir) closeLock() {
	if d.lk != nil {
		d.lk.Close()
		d.lk, d.lkFd = nil, -1
	}
}

func (l *lockFile) unlock() error {
	// Closing the descriptor releases the flock.
	return l.f.Close()
}

// fileID tells whether a file changed since it was last read: replaced
// (inode), grown or shrunk (size), rewritten in place (mtime).
type fileID struct {
	ino   uint64
	size  int64
	mtime int64
}

func idOf(fi os.FileInfo) fileID {
	id := fileID{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.ino = uint64(st.Ino)
	}
	return id
}

func statID(path string) (fileID, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileID{}, err
	}
	return idOf(fi), nil
}
