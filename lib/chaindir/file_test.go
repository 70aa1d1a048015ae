package chaindir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadFileMax: a file of up to limit bytes is read whole, into the
// buffer given when it fits; one byte more is refused unread.
func TestReadFileMax(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 64)
	got, err := ReadFileMax(path, 10, buf)
	if err != nil || string(got) != "0123456789" || &got[0] != &buf[:1][0] {
		t.Fatalf("at the limit: %q %v (in the buffer given: %v)", got, err, err == nil && &got[0] == &buf[:1][0])
	}
	if got, err := ReadFileMax(path, 9, nil); err == nil || !strings.Contains(err.Error(), "10 bytes, more than 9") {
		t.Fatalf("one byte over: %q %v", got, err)
	}
	if _, err := ReadFileMax(filepath.Join(t.TempDir(), "none"), 9, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// TestReplaceFile: the file is replaced whole through a rename (a new
// inode), with mode 0644, and no temporary file stays.
func TestReplaceFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	os.WriteFile(path, []byte("old"), 0o600)
	before, _ := StampFile(path)
	for _, durable := range []bool{false, true} {
		if err := ReplaceFile(path, []byte("new"), durable); err != nil {
			t.Fatal(err)
		}
		// The new file is made while the old one exists, so their
		// inodes differ (a later one may reuse the freed number).
		if after, _ := StampFile(path); !durable && after.Ino == before.Ino {
			t.Fatal("replaced in place")
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o644 || string(readFile(t, path)) != "new" {
			t.Fatalf("durable %v: %v %v", durable, fi.Mode(), err)
		}
	}
	if m, _ := filepath.Glob(path + ".tmp*"); len(m) > 0 {
		t.Fatalf("left %q", m)
	}
	if err := ReplaceFile(filepath.Join(dir, "no", "such"), nil, true); err == nil {
		t.Fatal("a file in a missing directory")
	}
}

// TestSegmentNames: the names of block segments, and only they, parse.
func TestSegmentNames(t *testing.T) {
	if SegmentName(3) != "blocks/000003.jsonl" || SealedName(3) != "blocks/000003.jsonl.zst" {
		t.Fatal(SegmentName(3), SealedName(3))
	}
	for name, want := range map[string]struct {
		n      uint32
		sealed bool
		ok     bool
	}{
		"000000.jsonl":         {0, false, true},
		"000012.jsonl.zst":     {12, true, true},
		"1234567.jsonl":        {1234567, false, true},
		"000001.jsonl.zst.tmp": {},
		"000001.jsonl.tmp123":  {},
		"1.jsonl":              {},
		"00000a.jsonl":         {},
		"+00001.jsonl":         {},
		"000001.json":          {},
	} {
		n, sealed, ok := ParseSegmentName(name)
		if n != want.n || sealed != want.sealed || ok != want.ok {
			t.Errorf("ParseSegmentName(%q) = %d %v %v", name, n, sealed, ok)
		}
	}
}
