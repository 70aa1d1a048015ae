package chaindir

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/coniunctum/cnj/lib/params"
)

// ReadGenesis reads the network parameters of the chain directory: its
// genesis.json. A directory without one is not a chain directory: the
// error says so and matches fs.ErrNotExist. A genesis.json that does not
// parse is a *CorruptError.
func (d Dir) ReadGenesis() (*params.Params, error) {
	line, err := ReadFileMax(d.File(GenesisFile), params.MaxGenesisLine+1, nil)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notChainDir(d)
	}
	if err != nil {
		return nil, err
	}
	p, err := params.Parse(bytes.TrimSuffix(line, []byte("\n")))
	if err != nil {
		return nil, Corruptf(GenesisFile, 1, "%v", err)
	}
	return p, nil
}

// notChainDir is the error of a directory without genesis.json; it
// matches fs.ErrNotExist.
type notChainDir Dir

func (e notChainDir) Error() string {
	return string(e) + " is not a chain directory: no " + GenesisFile
}
func (e notChainDir) Is(target error) bool { return target == fs.ErrNotExist }

// IsChainDir reports whether the directory holds a genesis.json: a chain
// directory, whole or damaged.
func (d Dir) IsChainDir() bool {
	fi, err := os.Stat(d.File(GenesisFile))
	return err == nil && fi.Mode().IsRegular()
}

// CreateOptions says what a new chain directory holds besides its
// genesis.
type CreateOptions struct {
	// Source is the node the directory joins its network through, as
	// http://HOST:PORT, recorded in the source file; "" records none.
	Source string
	// Peers are the first entries of the peers file; nil writes none.
	Peers []string
	// Init makes the derived files of an empty directory (the block
	// store's empty index) in the directory being built.
	Init func(Dir) error
}

// Create makes the chain directory path for the network p: genesis.json,
// blocks/, LOCK, what o asks for, all at once: the directory is built
// beside path under a temporary name and renamed into place, so that
// path is either absent (or empty) or complete, whenever the process
// dies. It refuses a path that exists and is not empty.
func Create(path string, p *params.Params, o CreateOptions) error {
	if strings.ContainsAny(o.Source, "\n\r") {
		return fmt.Errorf("source %q holds a newline", o.Source)
	}
	ents, err := os.ReadDir(path)
	switch {
	case err == nil && len(ents) > 0:
		return fmt.Errorf("%s exists and is not empty", path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	clean := filepath.Clean(path)
	parent, base := filepath.Split(clean)
	if parent == "" {
		parent = "."
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".create*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // gone once renamed
	d := Dir(tmp)
	if err := os.Mkdir(d.File(BlocksDir), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(d.File(LockFile), nil, 0o644); err != nil {
		return err
	}
	if o.Init != nil {
		if err := o.Init(d); err != nil {
			return err
		}
	}
	if o.Source != "" {
		if err := WriteAtomic(d.File(SourceFile), []byte(o.Source+"\n")); err != nil {
			return err
		}
	}
	if o.Peers != nil {
		if err := WritePeersFile(d.File(PeersFile), o.Peers); err != nil {
			return err
		}
	}
	if err := WriteAtomic(d.File(GenesisFile), append(p.JSON(), '\n')); err != nil {
		return err
	}
	if err := SyncDir(d.File(BlocksDir)); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	// rename(2) replaces an empty directory, and fails on one that another
	// process filled meanwhile (os.Rename refuses any directory).
	if err := syscall.Rename(tmp, clean); err != nil {
		if errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
			return fmt.Errorf("%s exists and is not empty", path)
		}
		return &os.LinkError{Op: "rename", Old: tmp, New: clean, Err: err}
	}
	return SyncDir(parent)
}
