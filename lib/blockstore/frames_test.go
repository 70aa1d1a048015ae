package blockstore

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/tx"
)

// lines returns n distinct lines of about size bytes each.
func lines(n, size int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "{\"line\":%d,\"pad\":%q}\n", i, bytes.Repeat([]byte{byte('a' + i%26)}, size))
	}
	return b.Bytes()
}

// TestSealedFrames: a sealed segment is a frame table and frames of whole
// lines of about frameTarget bytes; any zstd decoder reads it whole, and
// each line is read by decompressing only the frame that holds it. A file
// of one frame (as sealed before tables) reads too; a table that does not
// describe its file is refused.
func TestSealedFrames(t *testing.T) {
	data := lines(3000, 300)
	e, d := codecs()
	comp := encodeSealed(e, data)
	back, err := d.DecodeAll(comp, nil)
	if err != nil || !bytes.Equal(back, data) {
		t.Fatalf("the sealed form does not decompress to the segment: %v", err)
	}
	tab, err := readTable(bytes.NewReader(comp), int64(len(comp)))
	if err != nil || len(tab) < 4 || tableSize(tab) != int64(len(data)) {
		t.Fatalf("table of %d frames for %d bytes: %v", len(tab), tableSize(tab), err)
	}
	for i, fr := range tab {
		got, err := decodeFrame(bytes.NewReader(comp), fr, nil)
		if err != nil || !bytes.Equal(got, data[fr.plain:fr.plain+fr.plainLen]) {
			t.Fatalf("frame %d: %v", i, err)
		}
		if got[len(got)-1] != '\n' || i < len(tab)-1 && (fr.plainLen < frameTarget || fr.plainLen > frameTarget+400) {
			t.Fatalf("frame %d holds %d bytes, not whole lines of about %d", i, fr.plainLen, frameTarget)
		}
	}

	// Lines through the reader, from a sealed segment on disk.
	dir := chaindir.Dir(t.TempDir())
	os.MkdirAll(dir.File(chaindir.BlocksDir), 0o755)
	if err := os.WriteFile(dir.File(sealedName(0)), comp, 0o644); err != nil {
		t.Fatal(err)
	}
	r := newSegReader(dir)
	defer r.close()
	off := 0
	for i, line := range bytes.SplitAfter(data, []byte("\n")) {
		if len(line) == 0 {
			break
		}
		if i%97 == 0 {
			got, err := r.readLine(0, uint64(off), uint32(len(line)-1))
			if err != nil || !bytes.Equal(got, line[:len(line)-1]) {
				t.Fatalf("line %d: %q, %v", i, got, err)
			}
		}
		off += len(line)
	}
	if size, err := newSegReader(dir).size(0); err != nil || size != int64(len(data)) {
		t.Fatalf("size of a sealed segment = %d, %v", size, err)
	}

	// One frame, no table.
	one := e.EncodeAll(data, nil)
	if tab, err := readTable(bytes.NewReader(one), int64(len(one))); err != nil || len(tab) != 1 || tableSize(tab) != int64(len(data)) {
		t.Fatalf("a file of one frame: %d frames, %v", len(tab), err)
	}

	// Tables that lie.
	for name, bad := range map[string][]byte{
		"cut":       comp[:len(comp)-1],
		"longer":    append(append([]byte{}, comp...), 0),
		"tag":       append(append(append([]byte{}, comp[:8]...), 'X'), comp[9:]...),
		"too short": comp[:9],
	} {
		if _, err := readTable(bytes.NewReader(bad), int64(len(bad))); err == nil {
			t.Errorf("%s: read", name)
		}
	}
	os.WriteFile(filepath.Join(string(dir), sealedName(1)), comp[:len(comp)-1], 0o644)
	if _, err := newSegReader(dir).size(1); chaindir.CorruptOf(err) == nil {
		t.Errorf("size of a cut segment: %v", err)
	}
}

// TestCheckGenesisReadsTheHead: opening a directory checks its first
// block against the genesis from the first frame of a sealed segment 0,
// or the first line of a plain one, not the whole segment.
func TestCheckGenesisReadsTheHead(t *testing.T) {
	b := &block.Block{Header: block.Header{Index: 1, Miner: "dcnj1" + strings.Repeat("ab", 24)}}
	b.PrevHash[0] = 7
	b.Reward = tx.Reward{Receiver: b.Miner, Amount: 1, Index: 1}
	first := append(b.JSON(), '\n')
	rest := lines(2000, 300)
	e, _ := codecs()
	for name, write := range map[string]func(dir chaindir.Dir) error{
		"sealed": func(dir chaindir.Dir) error {
			return os.WriteFile(dir.File(sealedName(0)), encodeSealed(e, append(first, rest...)), 0o644)
		},
		"plain": func(dir chaindir.Dir) error {
			return os.WriteFile(dir.File(segName(0)), append(first, rest...), 0o644)
		},
	} {
		dir := chaindir.Dir(t.TempDir())
		os.MkdirAll(dir.File(chaindir.BlocksDir), 0o755)
		if err := write(dir); err != nil {
			t.Fatal(err)
		}
		var other [32]byte
		if err := CheckGenesis(dir, other); chaindir.CorruptOf(err) == nil {
			t.Errorf("%s: block 1 builds on %x, not on the genesis: %v", name, b.PrevHash[:2], err)
		}
		if err := CheckGenesis(dir, b.PrevHash); err != nil {
			t.Errorf("%s: block 1 builds on the genesis: %v", name, err)
		}
	}
}

// TestFramesReadAtOnce: many goroutines reading pieces of many frames at
// once, through the reader's small cache of frames whose buffers are
// reused as it lets go of them, each get their bytes.
func TestFramesReadAtOnce(t *testing.T) {
	data := lines(3000, 300)
	e, _ := codecs()
	dir := chaindir.Dir(t.TempDir())
	os.MkdirAll(dir.File(chaindir.BlocksDir), 0o755)
	if err := os.WriteFile(dir.File(sealedName(0)), encodeSealed(e, data), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newSegReader(dir)
	defer r.close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 400 {
				off := (g*7919 + i*104729) % (len(data) - 700)
				n := 1 + (i*31)%600
				buf := make([]byte, n)
				if err := r.read(0, uint64(off), buf); err != nil || !bytes.Equal(buf, data[off:off+n]) {
					errs <- fmt.Errorf("goroutine %d, bytes %d+%d: %q, %v", g, off, n, buf, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestSealReadsBackOnce: checking that a sealed segment reads back, and
// reading one whole, decompress into one buffer of the segment's size,
// not one regrown for every frame (quadratic in the frames: 30 ms against
// 1.15 s for a 16 MiB segment).
func TestSealReadsBackOnce(t *testing.T) {
	data := lines(3000, 300) // about 1 MB: 30 frames
	dir := chaindir.Dir(t.TempDir())
	os.MkdirAll(dir.File(chaindir.BlocksDir), 0o755)
	if err := os.WriteFile(dir.File(segName(0)), data, 0o644); err != nil {
		t.Fatal(err)
	}
	allocated := func(fn func()) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		fn()
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	codecs() // made once, outside the counts
	var comp []byte
	n := allocated(func() {
		var err error
		if comp, _, err = compressSegment(dir, 0); err != nil {
			t.Fatal(err)
		}
	})
	// The file, its frames and one read-back: about 4.3 times the
	// segment; regrown per frame, the read-back alone is 15 times.
	if n > 8*uint64(len(data)) {
		t.Errorf("sealing %d bytes allocated %d", len(data), n)
	}
	if err := os.WriteFile(dir.File(sealedName(1)), comp, 0o644); err != nil {
		t.Fatal(err)
	}
	r := newSegReader(dir)
	defer r.close()
	var back []byte
	n = allocated(func() {
		var err error
		if back, err = r.sealed(1); err != nil {
			t.Fatal(err)
		}
	})
	if !bytes.Equal(back, data) || n > 3*uint64(len(data)) {
		t.Errorf("reading a sealed segment of %d bytes whole allocated %d (equal: %v)", len(data), n, bytes.Equal(back, data))
	}
}
