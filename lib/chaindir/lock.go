//go:build unix

package chaindir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// Lock is the directory's write lock: an exclusive flock(2) on LockFile,
// held by the one process that writes blocks, the index, the state or
// mempool.jsonl. The lock belongs to the open file description, so two
// Locks in one process exclude each other just as two processes do.
//
// A Lock keeps the file open between uses: opening a file costs half a
// dozen system calls, and a validator takes the lock for every transfer.
// After each flock the open file is checked to still be the LOCK file
// (same device and inode), so that one removed or replaced meanwhile is
// opened again rather than locked alone.
type Lock struct {
	path string
	f    *os.File
	fd   int
}

// NewLock returns the directory's write lock, not taken.
func (d Dir) NewLock() *Lock { return &Lock{path: d.File(LockFile), fd: -1} }

// Lock waits for the lock and takes it; unlock releases it.
func (l *Lock) Lock() (unlock func() error, err error) {
	for range 3 {
		if l.f == nil {
			f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				return nil, err
			}
			l.f, l.fd = f, int(f.Fd())
		}
		fd := l.fd
		if err := flock(fd, syscall.LOCK_EX); err != nil {
			l.Close()
			return nil, fmt.Errorf("lock %s: %w", l.path, err)
		}
		var held, now syscall.Stat_t
		if syscall.Fstat(fd, &held) == nil && syscall.Stat(l.path, &now) == nil && held.Dev == now.Dev && held.Ino == now.Ino {
			return func() error { return syscall.Flock(fd, syscall.LOCK_UN) }, nil
		}
		l.Close() // releases the flock
	}
	return nil, fmt.Errorf("lock %s: the file keeps being replaced", l.path)
}

// Close closes the lock file, releasing the lock if held.
func (l *Lock) Close() {
	if l.f != nil {
		l.f.Close()
		l.f, l.fd = nil, -1
	}
}

func flock(fd, how int) error {
	for {
		err := syscall.Flock(fd, how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// ErrSyncBusy is LockSync's answer while another process holds the lock.
var ErrSyncBusy = errors.New("another sync is running")

// LockSync takes the directory's SYNC lock without waiting, for the whole
// of one cnj-sync run, so that a second run (cron every minute) sees it
// and leaves. It returns ErrSyncBusy when another process (or another
// LockSync in this one) holds it; then nothing was written, the lock file
// already existing. The lock lasts until release is called or the process
// ends.
func (d Dir) LockSync() (release func() error, err error) {
	path := d.File(SyncLockFile)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	}
	if err != nil {
		return nil, err
	}
	err = flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, ErrSyncBusy
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f.Close, nil
}
