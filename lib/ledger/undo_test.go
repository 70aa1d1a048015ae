package ledger

import (
	"bytes"
	"testing"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/rule"
)

// undoChain connects blocks that mature rewards and drop ids, and returns
// them with their undo data, oldest first, and the ledger's snapshot
// before each.
func undoChain(t testing.TB) (*builder, []*block.Block, []*Undo, [][]byte) {
	p := testParams(t, 2)
	bd := &builder{t: t, p: p, l: New(p)}
	M, A, B := addr(p, 1), addr(p, 2), addr(p, 3)
	var blocks []*block.Block
	var undos []*Undo
	var snaps [][]byte
	step := func(b *block.Block, mtp int64) {
		snaps = append(snaps, marshal(t, bd.l))
		undos = append(undos, bd.connect(b, mtp))
		blocks = append(blocks, b)
	}
	step(bd.next(M), t0)
	step(bd.next(M), t0)
	step(bd.next(M, bd.xfer(M, A, coin, 1000, t0), bd.xfer(M, B, coin, 1000, t0+5)), t0)
	step(bd.next(A, bd.xfer(A, B, 1, 1000, t0+10)), t0)
	// A day later: the three ids leave the set at this block.
	step(bd.next(B, bd.xfer(M, A, 2, 1000, t0+day)), t0+day+11)
	return bd, blocks, undos, snaps
}

// TestUndoRoundTrip: undo data read back from its bytes disconnects each
// block as the undo data Connect returned does, and its bytes are the same
// for the same block.
func TestUndoRoundTrip(t *testing.T) {
	bd, blocks, undos, snaps := undoChain(t)
	if len(undos[4].dropped) != 3 || !undos[4].hasMatured {
		t.Fatalf("the last block dropped %d ids, matured %v: the test covers less", len(undos[4].dropped), undos[4].hasMatured)
	}
	for i := len(blocks) - 1; i >= 0; i-- {
		data, err := undos[i].MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var u Undo
		if err := u.UnmarshalBinary(data); err != nil {
			t.Fatalf("block %d: %v", i+1, err)
		}
		if again, _ := u.MarshalBinary(); !bytes.Equal(again, data) || u.Block() != blocks[i].Hash {
			t.Fatalf("block %d: undo data re-encodes differently", i+1)
		}
		if err := bd.l.Disconnect(blocks[i], &u); err != nil {
			t.Fatalf("block %d: %v", i+1, err)
		}
		if !bytes.Equal(marshal(t, bd.l), snaps[i]) {
			t.Fatalf("block %d: disconnected with read-back undo data, the ledger differs", i+1)
		}
	}
	// Connected again, the same blocks give the same bytes.
	for i, b := range blocks {
		mtp := int64(t0)
		if i == 4 {
			mtp = t0 + day + 11
		}
		u := bd.connect(b, mtp)
		got, _ := u.MarshalBinary()
		want, _ := undos[i].MarshalBinary()
		if !bytes.Equal(got, want) {
			t.Fatalf("block %d: undo data differs the second time", i+1)
		}
	}
	// Undo data of another block is refused by Disconnect.
	last, _ := undos[4].MarshalBinary()
	var u Undo
	if err := u.UnmarshalBinary(last); err != nil {
		t.Fatal(err)
	}
	if err := bd.l.Disconnect(blocks[3], &u); err == nil {
		t.Fatal("Disconnect took another block's undo data")
	}
}

// FuzzUndoUnmarshal: UnmarshalBinary refuses with corrupt and leaves the
// Undo alone, or accepts bytes that re-encode to themselves.
func FuzzUndoUnmarshal(f *testing.F) {
	_, _, undos, _ := undoChain(f)
	for _, u := range undos {
		data, _ := u.MarshalBinary()
		f.Add(data)
	}
	f.Add([]byte(undoMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		var u Undo
		if err := u.UnmarshalBinary(data); err != nil {
			if !rule.Is(err, rule.Corrupt) {
				t.Fatalf("error without corrupt: %v", err)
			}
			if u.block != ([32]byte{}) || u.dropped != nil {
				t.Fatal("a refused input changed the Undo")
			}
			return
		}
		if out, _ := u.MarshalBinary(); !bytes.Equal(out, data) {
			t.Fatalf("accepted undo data re-encodes differently:\n in %x\nout %x", data, out)
		}
	})
}
