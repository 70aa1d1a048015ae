//go:build unix

package txindex

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// pollEvery is how often a process waiting for a lock held by another
// tries again: flock(2) has no timeout, and a waiter must give up in time.
const pollEvery = time.Millisecond

// ErrBusy says that a lock of the index was not had in time: a writer did
// not get the readers to let go of it (the index then lags, and the next
// write catches it up), or a reader waited too long for a writer.
var ErrBusy = errors.New("the transfer index is busy")

// flock takes a lock on f (exclusive or shared), trying again every
// pollEvery until wait has passed.
func flock(f *os.File, exclusive bool, wait time.Duration) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case !errors.Is(err, syscall.EWOULDBLOCK):
			return fmt.Errorf("lock %s: %w", f.Name(), err)
		case time.Now().After(deadline):
			return ErrBusy
		}
		time.Sleep(pollEvery)
	}
}

// sameFile reports whether the open file f is still the file at its path:
// a rebuild renames a new index over the old one, and a lock on the old
// one guards nothing.
func sameFile(f *os.File) bool {
	var held, now syscall.Stat_t
	return syscall.Fstat(int(f.Fd()), &held) == nil && syscall.Stat(f.Name(), &now) == nil &&
		held.Dev == now.Dev && held.Ino == now.Ino
}

// openLocked opens path with flag and takes a lock on it (see flock),
// making sure the file locked is the one at path. It is how this package
// opens the database for bbolt (bbolt's own flock then finds the lock
// held by the same open file, and passes).
func openLocked(path string, flag int, exclusive bool, wait time.Duration) (*os.File, error) {
	for range 3 {
		f, err := os.OpenFile(path, flag, 0o644)
		if err != nil {
			return nil, err
		}
		if err := flock(f, exclusive, wait); err != nil {
			f.Close()
			return nil, err
		}
		if sameFile(f) {
			return f, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("lock %s: the file keeps being replaced", path)
}

// wantLock is the lock file a writer holds exclusively while it changes
// the index or waits to: readers that see it held let go of the index.
type wantLock struct{ f *os.File }

// takeWant opens (creating) the lock file at path and takes it, waiting:
// only writers take it, and they hold the directory's LOCK already.
func takeWant(path string) (*wantLock, error) {
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
	return &wantLock{f}, nil
}

func (w *wantLock) release() { w.f.Close() }

// wantWatch is a reader's view of the lock file: Held reports, with two
// system calls, whether a writer holds it.
type wantWatch struct {
	path string
	f    *os.File // nil when the file does not exist (no writer ever ran)
}

func newWantWatch(path string) *wantWatch {
	w := &wantWatch{path: path}
	w.reopen()
	return w
}

// reopen opens the lock file again, in case it was replaced.
func (w *wantWatch) reopen() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	// A lock file that cannot be opened (none yet: no writer ever ran)
	// is one no writer holds.
	if f, err := os.Open(w.path); err == nil {
		w.f = f
	}
}

// Held reports whether a writer holds the lock file.
func (w *wantWatch) Held() bool {
	if w.f == nil {
		return false
	}
	fd := int(w.f.Fd())
	for {
		err := syscall.Flock(fd, syscall.LOCK_SH|syscall.LOCK_NB)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return errors.Is(err, syscall.EWOULDBLOCK)
		}
		syscall.Flock(fd, syscall.LOCK_UN)
		return false
	}
}

// waitFree waits until no writer holds the lock file, or wait passes.
func (w *wantWatch) waitFree(wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for w.Held() {
		if time.Now().After(deadline) {
			return ErrBusy
		}
		time.Sleep(pollEvery)
	}
	return nil
}

func (w *wantWatch) close() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
}
