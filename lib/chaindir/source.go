package chaindir

import (
	"errors"
	"io/fs"
	"os"
	"strings"
)

// ReadSource returns the source node recorded in the directory (the node
// it joined its network through, http://HOST:PORT, the same form as the
// installer's source file), or "" when it has none.
func (d Dir) ReadSource() (string, error) {
	b, err := ReadFileMax(d.File(SourceFile), 4<<10, nil)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// CreateStaging returns a new file for staging downloaded block lines
// (cnj-sync), inside the directory (so on its file system) but already
// unlinked: it has no name, and it vanishes when closed or when the
// process dies.
func (d Dir) CreateStaging() (*os.File, error) {
	f, err := os.CreateTemp(string(d), "sync-staging.tmp*")
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
