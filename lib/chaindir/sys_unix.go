//go:build unix

package chaindir

import (
	"errors"
	"fmt"
	"os"
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
