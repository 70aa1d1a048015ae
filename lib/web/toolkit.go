package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// The toolkit is what /install.sh installs: the executable cnj-* files of
// the binaries directory (commands and role scripts), served at
// /bin/NAME, and the cnj-*.N pages of the man directory, served at
// /man/NAME.N, with /SHA256SUMS over both.

// confined is a directory opened as an os.Root: a name is looked up inside
// it and nowhere else.
type confined struct {
	root *os.Root
}

func openConfined(dir string) (confined, error) {
	root, err := os.OpenRoot(dir)
	return confined{root: root}, err
}

func (c confined) close() error { return c.root.Close() }

// openIf opens name inside the directory, with its FileInfo, when ok
// accepts the FileInfo of what it opened; else it fails with notFound.
func (c confined) openIf(name string, ok func(fs.FileInfo) bool, notFound error) (*os.File, fs.FileInfo, error) {
	f, err := c.root.Open(name)
	if err != nil {
		return nil, nil, notFound
	}
	fi, err := f.Stat()
	if err != nil || !ok(fi) {
		f.Close()
		return nil, nil, notFound
	}
	return f, fi, nil
}

// readDir lists the directory name inside it.
func (c confined) readDir(name string) ([]fs.DirEntry, error) {
	d, err := c.root.Open(name)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.ReadDir(-1)
}

// binDir is the directory the binaries are served from.
type binDir struct{ confined }

func openBinDir(dir string) (*binDir, error) {
	c, err := openConfined(dir)
	if err != nil {
		return nil, err
	}
	return &binDir{c}, nil
}

// binName reports whether name may be served: cnj- and then lowercase
// letters, digits and dashes (no dot, no slash: no key file, no path).
func binName(name string) bool {
	rest, ok := strings.CutPrefix(name, "cnj-")
	if !ok || rest == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// servable reports whether fi is a file to hand out: regular and
// executable (a key file, 0600, never is).
func servable(fi fs.FileInfo) bool {
	return fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// errNoBinary is a name that is not served.
var errNoBinary = &notFoundError{"no such binary"}

// open returns the binary name, open, with its FileInfo.
func (b *binDir) open(name string) (*os.File, fs.FileInfo, error) {
	if !binName(name) {
		return nil, nil, errNoBinary
	}
	return b.openIf(name, servable, errNoBinary)
}

// list returns the names of the binaries served, sorted.
func (b *binDir) list() ([]string, error) {
	ents, err := b.readDir(".")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if !binName(e.Name()) {
			continue
		}
		if fi, err := b.root.Stat(e.Name()); err == nil && servable(fi) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// manDir is the directory the man pages are served from. A page NAME.N
// lies in its section's subdirectory manN (as under share/man) or
// directly in the directory (as man/ of a checkout); the subdirectory
// wins.
type manDir struct{ confined }

func openManDir(dir string) (*manDir, error) {
	c, err := openConfined(dir)
	if err != nil {
		return nil, err
	}
	return &manDir{c}, nil
}

// pageName reports whether name may be served as a page: a binary's name,
// a dot and a section digit 1 to 9.
func pageName(name string) bool {
	n := len(name)
	return n > 2 && name[n-2] == '.' && name[n-1] >= '1' && name[n-1] <= '9' && binName(name[:n-2])
}

// regular reports whether fi is a regular file (a page need not be
// executable).
func regular(fi fs.FileInfo) bool { return fi.Mode().IsRegular() }

// errNoPage is a page that is not served.
var errNoPage = &notFoundError{"no such manual page"}

// path returns the path of page name inside the directory, and its
// FileInfo: manN/NAME.N, else NAME.N, a regular file.
func (m *manDir) path(name string) (string, fs.FileInfo, error) {
	if !pageName(name) {
		return "", nil, errNoPage
	}
	for _, p := range []string{"man" + name[len(name)-1:] + "/" + name, name} {
		if fi, err := m.root.Stat(p); err == nil && regular(fi) {
			return p, fi, nil
		}
	}
	return "", nil, errNoPage
}

// open returns the page name, open, with its FileInfo.
func (m *manDir) open(name string) (*os.File, fs.FileInfo, error) {
	p, _, err := m.path(name)
	if err != nil {
		return nil, nil, err
	}
	return m.openIf(p, regular, errNoPage)
}

// list returns the names of the pages served, sorted.
func (m *manDir) list() ([]string, error) {
	ents, err := m.readDir(".")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if pageName(e.Name()) {
			names = append(names, e.Name())
			continue
		}
		if s, ok := strings.CutPrefix(e.Name(), "man"); ok && len(s) == 1 && s[0] >= '1' && s[0] <= '9' {
			sub, err := m.readDir(e.Name())
			if err != nil {
				continue
			}
			for _, p := range sub {
				if pageName(p.Name()) && strings.HasSuffix(p.Name(), "."+s) {
					names = append(names, p.Name())
				}
			}
		}
	}
	// Only what path finds, once each.
	slices.Sort(names)
	names = slices.Compact(names)
	return slices.DeleteFunc(names, func(n string) bool { _, _, err := m.path(n); return err != nil }), nil
}

// toolkitFile is one file the installer installs: its path under the web
// app's root ("bin/cnj-chain", "man/cnj-chain.1").
type toolkitFile struct {
	path string
	open func() (*os.File, fs.FileInfo, error)
}

// toolkit lists what the node serves for the installer, binaries first,
// each list sorted; a node without binaries serves no installer.
func (s *Server) toolkit() (bins, pages []string, err error) {
	if s.bin != nil {
		if bins, err = s.bin.list(); err != nil {
			return nil, nil, err
		}
	}
	if len(bins) == 0 {
		return nil, nil, &notFoundError{"this node serves no binaries"}
	}
	if s.man != nil {
		if pages, err = s.man.list(); err != nil {
			return nil, nil, err
		}
	}
	return bins, pages, nil
}

// sums keeps the SHA-256 of each file served, by its size and modification
// time, so that /SHA256SUMS reads a file again only when it has changed: a
// request costs a stat a file, the first one reading every file once.
type sums struct {
	mu   sync.Mutex
	seen map[string]sumEntry // by toolkitFile.path
}

type sumEntry struct {
	size int64
	mod  time.Time
	sum  string // lowercase hex
}

// lines returns SHA256SUMS for files: "HEX  PATH" lines, as sha256sum(1)
// prints them, in the order of files. A file that cannot be read is left
// out (the installer then refuses to install it).
func (c *sums) lines(files []toolkitFile) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]sumEntry{}
	}
	var b []byte
	keep := map[string]bool{}
	for _, tf := range files {
		sum, ok := c.sum(tf)
		if !ok {
			continue
		}
		keep[tf.path] = true
		b = append(b, sum+"  "+tf.path+"\n"...)
	}
	// Files no longer served are forgotten, so the map stays the size of
	// the directories.
	for p := range c.seen {
		if !keep[p] {
			delete(c.seen, p)
		}
	}
	return b
}

// sum returns the hash of tf, from the cache while its size and
// modification time are those it was hashed at.
func (c *sums) sum(tf toolkitFile) (string, bool) {
	f, fi, err := tf.open()
	if err != nil {
		return "", false
	}
	defer f.Close()
	if e, ok := c.seen[tf.path]; ok && e.size == fi.Size() && e.mod.Equal(fi.ModTime()) {
		return e.sum, true
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", false
	}
	e := sumEntry{size: fi.Size(), mod: fi.ModTime(), sum: hex.EncodeToString(h.Sum(nil))}
	// A file written to while it was read is hashed again next time.
	if now, err := f.Stat(); err == nil && now.Size() == e.size && now.ModTime().Equal(e.mod) {
		c.seen[tf.path] = e
	}
	return e.sum, true
}
