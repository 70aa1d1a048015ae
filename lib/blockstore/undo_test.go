package blockstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/rule"
)

// undoFixture is a directory with an undo file of n records, as writes
// leave it: the record of block i (hash sha256(i), height i) holds i*7
// bytes of undo data.
func undoFixture(t testing.TB, n int) (chaindir.Dir, [32]byte, []UndoRecord) {
	t.Helper()
	d := chaindir.Dir(t.TempDir())
	var g [32]byte
	g[0] = 0x42
	var recs []UndoRecord
	for i := 1; i <= n; i++ {
		recs = append(recs, undoRec1(i))
	}
	// Three writes: the file is started, then appended to twice.
	for _, part := range [][]UndoRecord{recs[:n/3], recs[n/3 : 2*n/3], recs[2*n/3:]} {
		var buf []byte
		for _, r := range part {
			buf = appendUndoRecord(buf, r.Hash, r.Height, r.Data)
		}
		if err := appendUndo(d, g, buf); err != nil {
			t.Fatal(err)
		}
	}
	return d, g, recs
}

func undoRec1(i int) UndoRecord {
	h := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
	return UndoRecord{Hash: h, Height: uint64(i), Data: bytes.Repeat([]byte{byte(i)}, i*7)}
}

func appendFile(t testing.TB, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

// TestUndoLog: every record is found by its block, newest and oldest,
// through torn tails, appends by another process and a replaced file; a
// record asked at another height, or whose data is damaged, is not.
func TestUndoLog(t *testing.T) {
	d, g, recs := undoFixture(t, 30)
	u := newUndoLog(d, g)
	get := func(r UndoRecord) []byte {
		t.Helper()
		got, err := u.get(r.Hash, r.Height)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	for _, i := range []int{29, 28, 0, 15} {
		if got := get(recs[i]); !bytes.Equal(got, recs[i].Data) {
			t.Fatalf("record %d: %d bytes, want %d", i+1, len(got), len(recs[i].Data))
		}
	}
	if got, _ := u.get(recs[3].Hash, 99); got != nil {
		t.Fatal("a record found at another height")
	}

	// A torn record at the end (a crash in the middle of a write), then
	// records another process appends after cutting it.
	path := d.File(chaindir.UndoFile)
	extra := undoRec1(31)
	whole := appendUndoRecord(nil, extra.Hash, extra.Height, extra.Data)
	appendFile(t, path, whole[:len(whole)-10])
	if got := get(recs[29]); !bytes.Equal(got, recs[29].Data) {
		t.Fatal("the last whole record is lost behind a torn one")
	}
	if got := get(extra); got != nil {
		t.Fatal("a torn record was read")
	}
	if err := appendUndo(d, g, whole); err != nil {
		t.Fatal(err)
	}
	if got := get(extra); !bytes.Equal(got, extra.Data) {
		t.Fatal("the record appended after the cut is not found")
	}
	all, err := ReadUndoFile(d, g)
	if err != nil || len(all) != 31 || all[30].Hash != extra.Hash || all[0].Hash != recs[0].Hash {
		t.Fatalf("ReadUndoFile: %d records, %v", len(all), err)
	}

	// A torn tail of more than the scan's chunk.
	big := undoRec1(40)
	big.Data = bytes.Repeat([]byte{7}, 3<<20)
	whole = appendUndoRecord(nil, big.Hash, big.Height, big.Data)
	appendFile(t, path, whole[:len(whole)-1])
	if all, err := ReadUndoFile(d, g); err != nil || len(all) != 31 {
		t.Fatalf("ReadUndoFile behind a torn 3 MiB record: %d records, %v", len(all), err)
	}
	if err := appendUndo(d, g, appendUndoRecord(nil, big.Hash, big.Height, big.Data)); err != nil {
		t.Fatal(err)
	}
	if got := get(big); !bytes.Equal(got, big.Data) {
		t.Fatal("the large record is not found")
	}

	// Replaced (cnj-chain reindex): what was read is forgotten.
	if err := WriteUndoFile(d, g, recs[:5]); err != nil {
		t.Fatal(err)
	}
	if got := get(recs[20]); got != nil {
		t.Fatal("a record of the replaced file was found")
	}
	if got := get(recs[4]); !bytes.Equal(got, recs[4].Data) {
		t.Fatal("a record of the new file is not found")
	}

	// Damaged data: not used, and reported by ReadUndoFile.
	raw, _ := os.ReadFile(path)
	raw[undoHeader+3] ^= 1 // inside record 1's data
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	u = newUndoLog(d, g)
	if got := get(recs[0]); got != nil {
		t.Fatal("damaged undo data was used")
	}
	if _, err := ReadUndoFile(d, g); rule.CodeOf(err) != rule.Corrupt {
		t.Fatalf("ReadUndoFile of a damaged record: %v", err)
	}
	// No file, or one of another network: nothing, and no error.
	os.Remove(path)
	if got := get(recs[0]); got != nil {
		t.Fatal("a record without a file")
	}
	var other [32]byte
	if err := WriteUndoFile(d, other, recs[:2]); err != nil {
		t.Fatal(err)
	}
	if got := get(recs[0]); got != nil {
		t.Fatal("a record of another network's file")
	}
	if err := appendUndo(d, g, appendUndoRecord(nil, recs[1].Hash, 2, recs[1].Data)); err != nil {
		t.Fatal(err)
	}
	if all, err := ReadUndoFile(d, g); err != nil || len(all) != 1 {
		t.Fatalf("a writer did not start a foreign file afresh: %d records, %v", len(all), err)
	}
}

// FuzzUndoFile: whatever follows a good header, reading the undo file
// back never panics: ReadUndoFile gives whole records or a corrupt error,
// and a lookup gives data whose record checks out, or nothing.
func FuzzUndoFile(f *testing.F) {
	var g [32]byte
	g[0] = 0x42
	r1, r2 := undoRec1(1), undoRec1(2)
	good := appendUndoRecord(appendUndoRecord(nil, r1.Hash, 1, r1.Data), r2.Hash, 2, r2.Data)
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add(good[10:])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		dir := t.TempDir()
		d := chaindir.Dir(dir)
		if err := os.WriteFile(filepath.Join(dir, chaindir.UndoFile), append(undoHeaderBytes(g), body...), 0o644); err != nil {
			t.Fatal(err)
		}
		recs, err := ReadUndoFile(d, g)
		if err != nil && rule.CodeOf(err) != rule.Corrupt {
			t.Fatalf("error without corrupt: %v", err)
		}
		for _, r := range recs {
			if !bytes.Contains(body, appendUndoRecord(nil, r.Hash, r.Height, r.Data)) {
				t.Fatal("a record that is not in the file")
			}
		}
		u := newUndoLog(d, g)
		for _, r := range []UndoRecord{r1, r2} {
			got, err := u.get(r.Hash, r.Height)
			if err != nil {
				t.Fatal(err)
			}
			if got != nil && !bytes.Equal(got, r.Data) && !bytes.Contains(body, appendUndoRecord(nil, r.Hash, r.Height, got)) {
				t.Fatal("a lookup gave data that is no record of the block")
			}
		}
	})
}
