package txindex

import (
	"math/big"
	"slices"
	"testing"
)

// TestSum: totals carry past 64 bits and come back exactly.
func TestSum(t *testing.T) {
	var s Sum
	max := ^uint64(0)
	s = s.Add(max).Add(max).Add(3)
	want := new(big.Int).SetUint64(max)
	want.Mul(want, big.NewInt(2)).Add(want, big.NewInt(3))
	if s.Big().Cmp(want) != 0 || string(s.AppendDecimal(nil)) != want.String() {
		t.Fatalf("sum %s, want %s", s.AppendDecimal(nil), want)
	}
	if s = s.Sub(3).Sub(max); s != (Sum{0, max}) {
		t.Fatalf("taking back: %+v", s)
	}
	st := Stats{FundedCount: 1, FundedSum: Sum{2, 3}, SpentCount: 4, SpentSum: Sum{0, 5}, TxCount: 6}
	if got, err := decodeStats(st.encode()); err != nil || got != st {
		t.Fatalf("stats round trip: %+v %v", got, err)
	}
}

// TestChunks: a history splits into chunks of at most maxChunk bytes,
// keyed by their first entry, that decode back; a chunk out of order,
// with unknown flags or cut short is refused.
func TestChunks(t *testing.T) {
	var p [PayloadSize]byte
	p[0] = 7
	var es []Entry
	for i := range 500 {
		es = append(es, Entry{Loc{uint64(1 + i*8), uint32(i % 3)}, Flags(1 + i%7)})
	}
	lay := layout{DefaultGenShift}
	var got []Entry
	n := 0
	err := lay.chunks(&p, es, func(k, v []byte) error {
		n++
		if len(v) > maxChunk {
			t.Fatalf("a chunk of %d bytes", len(v))
		}
		var err error
		if got, err = lay.decodeChunk(k, v, got); err != nil {
			t.Fatal(err)
		}
		return nil
	})
	if err != nil || n < 2 || !slices.Equal(got, es) {
		t.Fatalf("%d chunks: %v", n, err)
	}
	k := lay.addrKey(&p, es[0].Loc)
	good := encodeChunk(es[:3])
	for name, v := range map[string][]byte{
		"cut":          good[:len(good)-1],
		"bad flags":    append(append([]byte{}, good[:len(good)-1]...), 8),
		"no flags":     append(append([]byte{}, good[:len(good)-1]...), 0),
		"out of order": encodeChunk([]Entry{es[0], es[2], es[1]}),
		"repeated":     encodeChunk([]Entry{es[0], es[0]}),
		"empty":        {},
	} {
		if _, err := lay.decodeChunk(k, v, nil); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	if _, err := lay.decodeChunk(lay.addrKey(&p, es[1].Loc), good, nil); err == nil {
		t.Error("a chunk under another key than its first entry's: decoded")
	}
}

// TestBlockInfo: a block record decodes back, spans and all; a length
// past the line is refused.
func TestBlockInfo(t *testing.T) {
	bi := BlockInfo{Hash: [32]byte{1}, LineLen: 1000, Spans: []Span{{300, 50}, {351, 400}, {752, 246}}}
	got, err := decodeBlockInfo(bi.encode())
	if err != nil || got.Hash != bi.Hash || got.LineLen != bi.LineLen || !slices.Equal(got.Spans, bi.Spans) {
		t.Fatalf("%+v %v", got, err)
	}
	for pos, want := range bi.Spans {
		h, l, sp, ok, err := decodeSpan(bi.encode(), uint32(pos))
		if err != nil || !ok || h != bi.Hash || l != bi.LineLen || sp != want {
			t.Fatalf("span %d: %v %v %v, want %v", pos, sp, ok, err, want)
		}
	}
	if _, _, _, ok, err := decodeSpan(bi.encode(), 3); ok || err != nil {
		t.Fatalf("a span past the block's transactions: %v %v", ok, err)
	}
	if _, _, _, ok, err := decodeSpan((&BlockInfo{Hash: bi.Hash}).encode(), 0); ok || err != nil {
		t.Fatalf("a record without spans: %v %v", ok, err)
	}
	bi.Spans[2].Len = 300
	if _, err := decodeBlockInfo(bi.encode()); err == nil {
		t.Fatal("a span past the line decoded")
	}
	if _, _, _, _, err := decodeSpan(bi.encode(), 2); err == nil {
		t.Fatal("a span past the line decoded alone")
	}
}
