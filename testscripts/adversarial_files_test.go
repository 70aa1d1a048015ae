package testscripts

// Chain-file rows of the adversarial suite: a copy of the base directory is
// damaged the way a crash, a disk or a careless hand damages it, then opened
// as every command opens it (node.Open). The outcome must be one of:
//
//   - it opens, its tip is a block of the base chain no lower than the row
//     allows, and its ledger is exactly that of a fresh in-memory replay of
//     the blocks up to that tip; the next writer repairs what is left and
//     the directory reopens the same; a new block on the tip is accepted;
//   - Open fails with code corrupt and an error naming the damaged file.
//
// Anything else is counted: wrong balances as accepted-invalid, a refusal
// of an intact chain (or lost blocks) as rejected-valid, an error without
// code corrupt or naming another file as wrong-reason.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/rule"
)

const advSegment = "blocks/000000.jsonl"

type advFileRow struct {
	name string
	// damage changes the copy at dir. It returns the block lines the
	// directory holds once it is intact again (nil: the base chain's).
	damage func(t *testing.T, f *advFixture) [][]byte
	// short is how many blocks the directory may lose (a damaged last
	// line is indistinguishable from a torn write when nothing indexes it).
	short int
	// file is the file a corrupt error must name; "" means Open must
	// succeed.
	file string
	// check: the damage survives opening (a snapshot spares the damaged
	// block); Dir.Check must then report it as corrupt naming file.
	check bool
}

// advLine returns the offset and bytes of line k (1-based) of the segment.
func advLine(t *testing.T, dir string, k int) (int, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, advSegment))
	if err != nil {
		t.Fatal(err)
	}
	off := 0
	for i := 1; ; i++ {
		j := bytes.IndexByte(data[off:], '\n')
		if j < 0 {
			t.Fatalf("segment has no line %d", k)
		}
		if i == k {
			return off, data[off : off+j]
		}
		off += j + 1
	}
}

// advPatch replaces the byte at the first occurrence of key in line k (plus
// delta bytes) with what edit makes of it.
func advPatch(t *testing.T, dir string, k int, key string, delta int, edit func(byte) byte) {
	t.Helper()
	off, line := advLine(t, dir, k)
	i := bytes.Index(line, []byte(key))
	if i < 0 {
		t.Fatalf("line %d has no %s", k, key)
	}
	path := filepath.Join(dir, advSegment)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := off + i + len(key) + delta
	data[at] = edit(data[at])
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func advAppend(t *testing.T, path string, b []byte) {
	t.Helper()
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if _, err := fh.Write(b); err != nil {
		t.Fatal(err)
	}
}

func advRemove(t *testing.T, f *advFixture, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := os.Remove(filepath.Join(f.dir, n)); err != nil {
			t.Fatal(err)
		}
	}
}

func advWriteFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// advNextBlock is a valid block on the base tip, not stored.
func advNextBlock(f *advFixture) []byte {
	return []byte(advBlockLine(f.block(advWA.addr, f.pay(advWC, 5000))))
}

func fileRows() []advFileRow {
	flipHex := func(c byte) byte { return advOtherHexDigit(c) }
	bump := func(c byte) byte {
		if c == '9' {
			return '1'
		}
		return c + 1
	}
	return []advFileRow{
		{name: "file/torn last line: first byte of a next block", damage: func(t *testing.T, f *advFixture) [][]byte {
			advAppend(t, filepath.Join(f.dir, advSegment), advNextBlock(f)[:1])
			return nil
		}},
		{name: "file/torn last line: half a next block", damage: func(t *testing.T, f *advFixture) [][]byte {
			l := advNextBlock(f)
			advAppend(t, filepath.Join(f.dir, advSegment), l[:len(l)/2])
			return nil
		}},
		{name: "file/torn last line: a whole next block without its newline", damage: func(t *testing.T, f *advFixture) [][]byte {
			advAppend(t, filepath.Join(f.dir, advSegment), advNextBlock(f))
			return nil
		}},
		{name: "file/torn last line, state and index deleted", damage: func(t *testing.T, f *advFixture) [][]byte {
			l := advNextBlock(f)
			advAppend(t, filepath.Join(f.dir, advSegment), l[:len(l)-7])
			advRemove(t, f, "state", "index")
			return nil
		}},
		{name: "file/a next block stored but not indexed", damage: func(t *testing.T, f *advFixture) [][]byte {
			l := advNextBlock(f)
			advAppend(t, filepath.Join(f.dir, advSegment), append(l, '\n'))
			return append(append([][]byte(nil), f.lines...), l)
		}},
		{name: "file/flipped hex digit in a signature (line 6), state present", damage: func(t *testing.T, f *advFixture) [][]byte {
			advPatch(t, f.dir, 6, `"signature":"`, 9, flipHex)
			return nil
		}, file: advSegment, check: true},
		{name: "file/flipped hex digit in a signature (line 6), state deleted", damage: func(t *testing.T, f *advFixture) [][]byte {
			advPatch(t, f.dir, 6, `"signature":"`, 9, flipHex)
			advRemove(t, f, "state")
			return nil
		}, file: advSegment},
		{name: "file/amount digit changed (line 6), state and index deleted", damage: func(t *testing.T, f *advFixture) [][]byte {
			advPatch(t, f.dir, 6, `,"fee":`, -len(`,"fee":`)-1, bump) // last digit of the transfer's amount
			advRemove(t, f, "state", "index")
			return nil
		}, file: advSegment},
		{name: "file/JSON broken in line 3, state present", damage: func(t *testing.T, f *advFixture) [][]byte {
			advPatch(t, f.dir, 3, `{"type":"block"`, -len(`{"type":"block"`), func(byte) byte { return 'x' })
			return nil
		}, file: advSegment, check: true},
		{name: "file/JSON broken in line 3, state deleted", damage: func(t *testing.T, f *advFixture) [][]byte {
			advPatch(t, f.dir, 3, `{"type":"block"`, -len(`{"type":"block"`), func(byte) byte { return 'x' })
			advRemove(t, f, "state")
			return nil
		}, file: advSegment},
		{name: "file/NUL byte in line 2, state deleted", damage: func(t *testing.T, f *advFixture) [][]byte {
			advPatch(t, f.dir, 2, `"miner":"`, 3, func(byte) byte { return 0 })
			advRemove(t, f, "state")
			return nil
		}, file: advSegment},
		{name: "file/flipped hex digit in the last line, state deleted", damage: func(t *testing.T, f *advFixture) [][]byte {
			advPatch(t, f.dir, 7, `"merkle_root":"`, 5, flipHex)
			advRemove(t, f, "state")
			return nil
		}, file: advSegment},
		// Nothing tells this from a torn write: the last line is unindexed
		// and does not check. Losing that one block is allowed.
		{name: "file/flipped hex digit in the last line, state and index deleted", damage: func(t *testing.T, f *advFixture) [][]byte {
			advPatch(t, f.dir, 7, `"merkle_root":"`, 5, flipHex)
			advRemove(t, f, "state", "index")
			return nil
		}, file: advSegment, short: 1},
		{name: "file/segment cut after its second-last line", damage: func(t *testing.T, f *advFixture) [][]byte {
			off, _ := advLine(t, f.dir, 7)
			if err := os.Truncate(filepath.Join(f.dir, advSegment), int64(off)); err != nil {
				t.Fatal(err)
			}
			return nil
		}, file: advSegment, short: 1},
		// Index records beyond the segments are dropped without an error:
		// Reindex cuts and moves segments before it rewrites the index, so
		// a crash in between leaves exactly that. The directory opens with
		// the (correct) balances of what is left.
		{name: "file/segment deleted", damage: func(t *testing.T, f *advFixture) [][]byte {
			advRemove(t, f, advSegment)
			return nil
		}, file: advSegment, short: 7},
		{name: "file/index deleted", damage: func(t *testing.T, f *advFixture) [][]byte { advRemove(t, f, "index"); return nil }},
		{name: "file/state deleted", damage: func(t *testing.T, f *advFixture) [][]byte { advRemove(t, f, "state"); return nil }},
		{name: "file/index and state deleted", damage: func(t *testing.T, f *advFixture) [][]byte {
			advRemove(t, f, "index", "state")
			return nil
		}},
		{name: "file/index truncated mid-record", damage: func(t *testing.T, f *advFixture) [][]byte {
			path := filepath.Join(f.dir, "index")
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, fi.Size()-100); err != nil {
				t.Fatal(err)
			}
			return nil
		}},
		{name: "file/index: flipped byte in a record", damage: func(t *testing.T, f *advFixture) [][]byte {
			path := filepath.Join(f.dir, "index")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			data[64+2*144+70] ^= 1
			advWriteFile(t, path, data)
			return nil
		}},
		{name: "file/state: flipped byte", damage: func(t *testing.T, f *advFixture) [][]byte {
			path := filepath.Join(f.dir, "state")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)/2] ^= 8
			advWriteFile(t, path, data)
			return nil
		}},
		{name: "file/state truncated", damage: func(t *testing.T, f *advFixture) [][]byte {
			if err := os.Truncate(filepath.Join(f.dir, "state"), 100); err != nil {
				t.Fatal(err)
			}
			return nil
		}},
		{name: "file/state empty", damage: func(t *testing.T, f *advFixture) [][]byte {
			advWriteFile(t, filepath.Join(f.dir, "state"), nil)
			return nil
		}},
		{name: "file/index of another network", damage: func(t *testing.T, f *advFixture) [][]byte {
			other := filepath.Join(f.dir, "..", "other")
			if err := node.Create(other, f.other); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(other, "index"))
			if err != nil {
				t.Fatal(err)
			}
			advWriteFile(t, filepath.Join(f.dir, "index"), data)
			return nil
		}},
		{name: "file/mempool.jsonl garbage", damage: func(t *testing.T, f *advFixture) [][]byte {
			advWriteFile(t, filepath.Join(f.dir, "mempool.jsonl"), []byte("{\"type\":\"tx\"\nnot json\n\x00\x01\n"+advTxLine(f.pay(advWA, 1))[:50]))
			return nil
		}},
		{name: "file/genesis.json torn", damage: func(t *testing.T, f *advFixture) [][]byte {
			path := filepath.Join(f.dir, "genesis.json")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			advWriteFile(t, path, data[:len(data)/2])
			return nil
		}, file: "genesis.json"},
		// The genesis names the network: a changed salt is another network,
		// and the blocks, index and state on disk all belong to the old one.
		{name: "file/genesis.json salt changed", damage: func(t *testing.T, f *advFixture) [][]byte {
			path := filepath.Join(f.dir, "genesis.json")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			i := bytes.Index(data, []byte(`"salt":"`)) + len(`"salt":"`)
			data[i] = advOtherHexDigit(data[i])
			advWriteFile(t, path, data)
			return nil
		}, file: "genesis.json"},
	}
}

// advChainState is advState without the block count (side blocks and
// records beyond the tip do not matter here).
func advChainState(t *testing.T, n *node.Node) string {
	t.Helper()
	s := advState(t, n)
	return s[:strings.Index(s, " blocks ")] + s[strings.Index(s, " ledger "):]
}

func advReplayState(t *testing.T, f *advFixture, lines [][]byte) string {
	t.Helper()
	s := advReplay(t, f.p, f.now, lines)
	return s[:strings.Index(s, " blocks ")] + s[strings.Index(s, " ledger "):]
}

func runFileRow(t *testing.T, c *advTally, bs *advBase, root string, r advFileRow) {
	f := advNewFixture(t, bs, root)
	lines := r.damage(t, f)
	f.n.Close()
	f.n = nil
	if lines == nil {
		lines = bs.lines
	}
	cls := ""
	fail := func(kind, format string, args ...any) {
		if cls == "" {
			cls = kind
		}
		t.Errorf("%s: %s", kind, fmt.Sprintf(format, args...))
	}
	defer func() { c.add(cls) }()

	n, err := node.Open(f.dir)
	if err != nil {
		switch {
		case r.file == "":
			fail(advClsRejectedValid, "Open of an intact chain failed: %v", err)
		case rule.CodeOf(err) != rule.Corrupt || !strings.Contains(err.Error(), r.file):
			fail(advClsWrongReason, "Open: %v (code %q); want code corrupt naming %s", err, rule.CodeOf(err), r.file)
		default:
			t.Logf("refused as expected: %v", err)
		}
		return
	}
	n.Now = func() int64 { return f.now }
	f.n = n
	defer func() {
		if f.n != nil {
			f.n.Close()
		}
	}()
	h := int(n.Chain().Tip().Height)
	if h < len(lines)-r.short || h > len(lines) {
		fail(advClsRejectedValid, "opened at height %d, want %d (at least %d)", h, len(lines), len(lines)-r.short)
		return
	}
	if h < len(lines) {
		t.Logf("opened at height %d of %d (allowed: %d blocks may be lost)", h, len(lines), r.short)
	}
	want := advReplayState(t, f, lines[:h])
	if got := advChainState(t, n); got != want {
		fail(advClsAcceptedInvalid, "wrong state after Open:\n got %s\nwant %s", got, want)
		return
	}
	if r.check {
		err := n.Check()
		if rule.CodeOf(err) != rule.Corrupt || !strings.Contains(err.Error(), r.file) {
			fail(advClsAcceptedInvalid, "Check: %v; want code corrupt naming %s", err, r.file)
			return
		}
		return // the damage stays until reindex: no write round
	}
	// The next writer repairs; the directory reopens the same and takes a
	// new block.
	if err := n.Write(func(*node.Writer) error { return nil }); err != nil {
		fail(advClsRejectedValid, "Write after Open: %v", err)
		return
	}
	got, msgs, err := advFeed(n, advBlockLine(f.block(advWA.addr))+"\n", false)
	if err != nil || len(got) != 1 || got[0] != advAccepted {
		fail(advClsRejectedValid, "a new block on the reopened tip: %v %v %v", got, msgs, err)
		return
	}
	want = advState(t, n)
	n.Close()
	f.n = nil
	n2, err := node.Open(f.dir)
	if err != nil {
		fail(advClsRejectedValid, "reopen after repair: %v", err)
		return
	}
	defer n2.Close()
	if got := advState(t, n2); got != want {
		fail(advClsRejectedValid, "state after repair and reopen:\n got %s\nwant %s", got, want)
	}
	if err := n2.Check(); err != nil {
		fail(advClsRejectedValid, "Check after repair: %v", err)
	}
}
