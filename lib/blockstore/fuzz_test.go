package blockstore

import (
	"bytes"
	"testing"
)

// FuzzDecodeRecord: a record either fails its checksum or re-encodes to the
// same 144 bytes.
func FuzzDecodeRecord(f *testing.F) {
	r := Record{Height: 7, Timestamp: 1800000000, TxCount: 3, Invalid: true,
		Loc: Loc{Segment: 2, Offset: 4096, Length: 900}}
	r.Hash[0], r.PrevHash[31], r.Target[1] = 1, 2, 0xff
	good := appendRecord(nil, &r)
	f.Add(good)
	f.Add(good[:100])
	f.Add(make([]byte, recordSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, ok := decodeRecord(b)
		if !ok {
			return
		}
		if again := appendRecord(nil, &r); !bytes.Equal(again, b[:recordSize]) {
			t.Fatalf("record re-encodes differently:\n%x\n%x", b[:recordSize], again)
		}
	})
}

// FuzzDecodeState: a state file either is refused or re-encodes to itself.
func FuzzDecodeState(f *testing.F) {
	var g, tip [32]byte
	g[0], tip[5] = 9, 7
	good := encodeState(g, Snapshot{Tip: tip, Height: 12, Ledger: []byte("snapshot")})
	f.Add(good)
	f.Add(good[:50])
	f.Add(encodeState(g, Snapshot{Tip: tip}))
	f.Fuzz(func(t *testing.T, b []byte) {
		sn, ok := decodeState(b, g)
		if !ok {
			return
		}
		if again := encodeState(g, sn); !bytes.Equal(again, b) {
			t.Fatal("state re-encodes differently")
		}
	})
}

// FuzzIndexHeader: only the exact header is accepted.
func FuzzIndexHeader(f *testing.F) {
	var g [32]byte
	g[3] = 1
	f.Add(indexHeaderBytes(g))
	f.Add([]byte("CNJ-IX-1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if checkIndexHeader(b, g) && !bytes.Equal(b[:indexHeader], indexHeaderBytes(g)) {
			t.Fatal("a different header was accepted")
		}
	})
}
