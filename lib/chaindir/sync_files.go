//go:build unix

package chaindir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/coniunctum/cnj/lib/params"
)

// The files of cnj-sync (package chainsync) in a chain directory:
//
//	SYNC     flock(2)ed, without waiting, for the whole of one sync run, so
//	         that a second run (cron every minute) sees it and leaves
//	source   the node the directory joined its network through, one line:
//	         http://HOST:PORT (the same form as the installer's source file)
const (
	syncLockName = "SYNC"
	sourceFile   = "source"
)

// ErrSyncBusy is LockSync's answer while another process holds the lock.
var ErrSyncBusy = errors.New("another sync is running")

// LockSync takes the directory's SYNC lock without waiting. It returns
// ErrSyncBusy when another process (or another LockSync in this one) holds
// it; then nothing was written, the lock file already existing. The lock
// lasts until release is called or the process ends.
func LockSync(dir string) (release func() error, err error) {
	path := filepath.Join(dir, syncLockName)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	}
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
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

// ReadSource returns the source node recorded in the directory, or "" when
// it has none.
func ReadSource(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, sourceFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// CreateStage returns a new file for staging downloaded block lines,
// inside the directory (so on its file system) but already unlinked: it
// has no name, and it vanishes when closed or when the process dies.
func CreateStage(dir string) (*os.File, error) {
	f, err := os.CreateTemp(dir, "sync-stage.tmp*")
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Join creates the chain directory dir for the network p as Create does,
// with the source node and the first peers recorded, all at once: the
// directory is built beside dir under a temporary name and renamed into
// place, so that dir is either absent (or empty) or complete. It refuses a
// dir that exists and is not empty.
func Join(dir string, p *params.Params, source string, peers []string) error {
	if strings.ContainsAny(source, "\n\r") {
		return fmt.Errorf("source %q holds a newline", source)
	}
	ents, err := os.ReadDir(dir)
	switch {
	case err == nil && len(ents) > 0:
		return fmt.Errorf("%s exists and is not empty", dir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	clean := filepath.Clean(dir)
	parent, base := filepath.Split(clean)
	if parent == "" {
		parent = "."
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".join*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // gone once renamed
	if err := Create(tmp, p); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(tmp, sourceFile), []byte(source+"\n")); err != nil {
		return err
	}
	d := &Dir{path: tmp}
	if err := d.WritePeers(peers); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	// rename(2) replaces an empty directory, and fails on one that another
	// process filled meanwhile (os.Rename refuses any directory).
	if err := syscall.Rename(tmp, clean); err != nil {
		if errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
			return fmt.Errorf("%s exists and is not empty", dir)
		}
		return &os.LinkError{Op: "rename", Old: tmp, New: clean, Err: err}
	}
	return syncDir(parent)
}

// IsChainDir reports whether dir holds a genesis.json: a chain directory,
// whole or damaged.
func IsChainDir(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, genesisFile))
	return err == nil && fi.Mode().IsRegular()
}
