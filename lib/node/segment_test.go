package node

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/coniunctum/cnj/lib/chaindir"
)

func TestSegmentRollAndSeal(t *testing.T) {
	smallSegments(t, 8<<10)
	dir, p := newDir(t)
	g := newGen(p)
	d := mustOpen(t, dir)
	grow(t, d, g, 40, 4)
	want := viewOf(t, d)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	segs, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) < 3 {
		t.Fatalf("%d segments", len(segs))
	}
	var all []byte
	for i, s := range segs {
		last := i == len(segs)-1
		if s.sealed == last || s.plain != last {
			t.Fatalf("segment %d: sealed %v plain %v", i, s.sealed, s.plain)
		}
		var data []byte
		if s.sealed {
			comp := readFile(t, filepath.Join(dir, chaindir.SealedName(uint32(i))))
			r, err := zstd.NewReader(nil) // a fresh decoder, not the package's
			if err != nil {
				t.Fatal(err)
			}
			data, err = r.DecodeAll(comp, nil)
			r.Close()
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(data)) < testOpts.Store.SegmentSize {
				t.Fatalf("sealed segment %d of %d bytes", i, len(data))
			}
		} else {
			data = readFile(t, filepath.Join(dir, chaindir.SegmentName(uint32(i))))
		}
		if len(data) == 0 || data[len(data)-1] != '\n' {
			t.Fatalf("segment %d does not end in a newline", i)
		}
		all = append(all, data...)
	}
	if n := bytes.Count(all, []byte("\n")); n != 40 {
		t.Fatalf("%d lines in the segments", n)
	}
	// zstdcat reads the sealed segments too, when it is installed.
	if zc, err := exec.LookPath("zstdcat"); err == nil {
		out, err := exec.Command(zc, filepath.Join(dir, chaindir.SealedName(0))).Output()
		if err != nil || !bytes.HasPrefix(all, out) {
			t.Fatalf("zstdcat: %v", err)
		}
	}

	d2 := mustOpen(t, dir)
	defer d2.Close()
	if got := viewOf(t, d2); !sameView(got, want) {
		t.Fatal("view differs after reopening")
	}
	// Blocks of sealed segments read back, through the cache.
	for _, r := range d2.store.Records() {
		b, err := d2.store.Get(r.Loc)
		if err != nil || b.Hash != r.Hash {
			t.Fatalf("get %+v: %v", r.Loc, err)
		}
	}
	if err := d2.Check(); err != nil {
		t.Fatal(err)
	}
	// Without the state the whole chain replays from the sealed segments.
	os.Remove(filepath.Join(dir, chaindir.StateFile))
	d3 := mustOpen(t, dir)
	defer d3.Close()
	if got := viewOf(t, d3); !sameView(got, want) {
		t.Fatal("view differs after replay")
	}
}

func TestSealLeftovers(t *testing.T) {
	smallSegments(t, 4<<10)
	dir, p := newDir(t)
	g := newGen(p)
	d := mustOpen(t, dir)
	grow(t, d, g, 20, 3)
	want := viewOf(t, d)
	d.Close()
	// A crash after the rename and before removing the plain copy leaves
	// both; a crash while compressing leaves a temporary file.
	data := decodeSealed(t, filepath.Join(dir, chaindir.SealedName(0)))
	os.WriteFile(filepath.Join(dir, chaindir.SegmentName(0)), data, 0o644)
	os.WriteFile(filepath.Join(dir, chaindir.SealedName(1)+".tmp"), []byte("partial"), 0o644)
	d2 := mustOpen(t, dir)
	defer d2.Close()
	if !sameView(viewOf(t, d2), want) {
		t.Fatal("view differs")
	}
	if err := d2.Check(); err != nil {
		t.Fatal(err)
	}
	if err := d2.Write(func(*Writer) error { return nil }); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{chaindir.SegmentName(0), chaindir.SealedName(1) + ".tmp"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Fatalf("%s left behind", f)
		}
	}
	if err := d2.Check(); err != nil {
		t.Fatal(err)
	}
}

func decodeSealed(t testing.TB, path string) []byte {
	t.Helper()
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	data, err := dec.DecodeAll(readFile(t, path), nil)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
