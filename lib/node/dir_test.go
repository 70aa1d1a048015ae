package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/lib/chaindir"
)

func TestCreateOpen(t *testing.T) {
	dir, p := newDir(t)
	if err := Create(dir, p); err == nil {
		t.Fatal("Create on an existing directory succeeded")
	}
	d := mustOpen(t, dir)
	defer d.Close()
	if d.Params().Hash() != p.Hash() {
		t.Fatal("params differ")
	}
	if tip := d.Chain().Tip(); tip.Height != 0 || tip.Hash != p.Hash() {
		t.Fatalf("tip %d", tip.Height)
	}
	if got := string(readFile(t, filepath.Join(dir, chaindir.GenesisFile))); got != string(p.JSON())+"\n" {
		t.Fatalf("genesis.json = %q", got)
	}
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	if _, err := openTest(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a chain directory") {
		t.Fatalf("Open of an empty directory: %v", err)
	}
}

func TestWriteReopen(t *testing.T) {
	dir, p := newDir(t)
	g := newGen(p)
	d := mustOpen(t, dir)
	grow(t, d, g, 12, 3)
	want := viewOf(t, d)
	if want.height != 12 {
		t.Fatalf("height %d", want.height)
	}
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2 := mustOpen(t, dir)
	defer d2.Close()
	if got := viewOf(t, d2); !sameView(got, want) {
		t.Fatalf("reopened view differs: %+v vs %+v", got.height, want.height)
	}
	if d2.store.StateStale() || d2.store.StateError() != nil {
		t.Fatalf("state not used: stale %v, %v", d2.store.StateStale(), d2.store.StateError())
	}
	// Every block reads back.
	for _, r := range d2.store.Records() {
		b, err := d2.store.Get(r.Loc)
		if err != nil || b.Hash != r.Hash {
			t.Fatalf("get %x: %v", r.Hash[:4], err)
		}
	}
	if err := d2.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestPutOutsideWrite(t *testing.T) {
	dir, p := newDir(t)
	d := mustOpen(t, dir)
	defer d.Close()
	b, line := newGen(p).next(d.Chain(), 0)
	if _, err := d.Chain().Add(b, line, now); err == nil {
		t.Fatal("Add outside Write stored a block")
	}
	if _, err := os.Stat(filepath.Join(dir, chaindir.SegmentName(0))); err == nil && fileSize(t, filepath.Join(dir, chaindir.SegmentName(0))) != 0 {
		t.Fatal("segment written outside Write")
	}
}
