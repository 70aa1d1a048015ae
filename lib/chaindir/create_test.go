package chaindir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/params"
)

func testParams(t testing.TB) *params.Params {
	t.Helper()
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: 1_800_000_000})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCreate: a new directory holds what it should, all at once, and a
// directory that is not empty is refused and left alone.
func TestCreate(t *testing.T) {
	p := testParams(t)
	path := filepath.Join(t.TempDir(), "a", "chain")
	inited := false
	err := Create(path, p, CreateOptions{Source: "http://127.0.0.2:56230", Peers: []string{"127.0.0.2"},
		Init: func(d Dir) error {
			inited = true
			if d.Path() == path {
				t.Error("Init ran in place, not in the directory being built")
			}
			return os.WriteFile(d.File(IndexFile), []byte("idx"), 0o644)
		}})
	if err != nil || !inited {
		t.Fatalf("Create: %v (Init ran: %v)", err, inited)
	}
	d := Dir(path)
	if !d.IsChainDir() {
		t.Fatal("not a chain directory")
	}
	got, err := d.ReadGenesis()
	if err != nil || got.Hash() != p.Hash() {
		t.Fatalf("ReadGenesis: %v", err)
	}
	if s, err := d.ReadSource(); s != "http://127.0.0.2:56230" || err != nil {
		t.Fatalf("source %q %v", s, err)
	}
	if peers, _, _ := d.ReadPeers(); len(peers) != 1 || peers[0] != "127.0.0.2:5050" {
		t.Fatalf("peers %q", peers)
	}
	for _, name := range []string{LockFile, BlocksDir, IndexFile} {
		if _, err := os.Stat(d.File(name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if left, _ := os.ReadDir(filepath.Dir(path)); len(left) != 1 {
		t.Fatalf("left beside it: %v", left)
	}
	if err := Create(path, p, CreateOptions{}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("Create over a chain directory: %v", err)
	}
	// An empty directory is taken; a failing Init leaves nothing.
	empty := t.TempDir()
	if err := Create(empty, p, CreateOptions{}); err != nil || !Dir(empty).IsChainDir() {
		t.Fatalf("into an empty directory: %v", err)
	}
	failed := filepath.Join(t.TempDir(), "c")
	if err := Create(failed, p, CreateOptions{Init: func(Dir) error { return os.ErrPermission }}); err == nil {
		t.Fatal("a failing Init")
	}
	if left, _ := os.ReadDir(filepath.Dir(failed)); len(left) != 0 {
		t.Fatalf("a failed Create left %v", left)
	}
	if err := Create(filepath.Join(t.TempDir(), "c"), p, CreateOptions{Source: "a\nb"}); err == nil {
		t.Fatal("a source with a newline")
	}
}

// TestReadGenesis: a directory without genesis.json says so and matches
// fs.ErrNotExist; a damaged one is a CorruptError naming the file.
func TestReadGenesis(t *testing.T) {
	d := Dir(t.TempDir())
	_, err := d.ReadGenesis()
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "not a chain directory: no genesis.json") {
		t.Fatalf("no genesis: %v", err)
	}
	os.WriteFile(d.File(GenesisFile), []byte("{}\n"), 0o644)
	if _, err := d.ReadGenesis(); CorruptOf(err) == nil || CorruptOf(err).File != GenesisFile {
		t.Fatalf("damaged genesis: %v", err)
	}
}

// TestLockSync: one sync at a time, without waiting.
func TestLockSync(t *testing.T) {
	d := Dir(t.TempDir())
	release, err := d.LockSync()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.LockSync(); err != ErrSyncBusy {
		t.Fatalf("second lock: %v", err)
	}
	release()
	release, err = d.LockSync()
	if err != nil {
		t.Fatal(err)
	}
	release()
}

// TestLock: two Locks exclude each other, as two processes do.
func TestLock(t *testing.T) {
	d := Dir(t.TempDir())
	a, b := d.NewLock(), d.NewLock()
	defer a.Close()
	defer b.Close()
	unlock, err := a.Lock()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		u, err := b.Lock()
		if err == nil {
			u()
		}
		close(got)
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case <-got:
		t.Fatal("the second lock did not wait")
	default:
	}
	unlock()
	<-got
}
