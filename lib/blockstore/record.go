package blockstore

import (
	"bytes"
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

// Loc is where the store keeps a block: a line of a segment. Offsets are
// in the uncompressed segment, so a line's place never changes when its
// segment is sealed.
type Loc struct {
	Segment uint32
	Offset  uint64
	Length  uint32 // the line's length, newline excluded
}

// Record is a stored block as the index keeps it: what the block tree
// needs of it (package chain builds its tree from records) and where its
// line is.
type Record struct {
	Hash, PrevHash [32]byte
	Height         uint64
	Timestamp      int64
	Target         [32]byte
	Loc            Loc
	TxCount        int // transfers, reward excluded
	// Invalid: the block broke a ledger rule, or descends from one that
	// did. Package chain decides it; the store keeps it.
	Invalid bool
}

// The index file: a 64-byte header, then one 144-byte record per stored
// block in arrival order. All integers are big-endian; each header and
// record ends with the xxhash64 of the bytes before it.
//
//	header  0:8     "CNJ-IX-1"
//	        8:40    genesis hash
//	        40:56   zero
//	        56:64   xxhash64(0:56)
//
//	record  0:32    block hash
//	        32:64   previous hash
//	        64:72   height
//	        72:80   timestamp
//	        80:112  target
//	        112:116 segment number
//	        116:124 offset of the line in the uncompressed segment
//	        124:128 length of the line, newline excluded
//	        128:132 transaction count, reward excluded
//	        132     flags: 1 = invalid
//	        133:136 zero
//	        136:144 xxhash64(0:136)
const (
	indexMagic  = "CNJ-IX-1"
	indexHeader = 64
	recordSize  = 144
	flagInvalid = 1
)

func indexHeaderBytes(genesis [32]byte) []byte {
	b := make([]byte, indexHeader)
	copy(b, indexMagic)
	copy(b[8:40], genesis[:])
	binary.BigEndian.PutUint64(b[56:], xxhash.Sum64(b[:56]))
	return b
}

// checkIndexHeader reports whether b starts with a good header for genesis.
func checkIndexHeader(b []byte, genesis [32]byte) bool {
	return len(b) >= indexHeader && bytes.Equal(b[:indexHeader], indexHeaderBytes(genesis))
}

func appendRecord(dst []byte, r *Record) []byte {
	var b [recordSize]byte
	copy(b[0:32], r.Hash[:])
	copy(b[32:64], r.PrevHash[:])
	binary.BigEndian.PutUint64(b[64:72], r.Height)
	binary.BigEndian.PutUint64(b[72:80], uint64(r.Timestamp))
	copy(b[80:112], r.Target[:])
	binary.BigEndian.PutUint32(b[112:116], r.Loc.Segment)
	binary.BigEndian.PutUint64(b[116:124], r.Loc.Offset)
	binary.BigEndian.PutUint32(b[124:128], r.Loc.Length)
	binary.BigEndian.PutUint32(b[128:132], uint32(r.TxCount))
	if r.Invalid {
		b[132] = flagInvalid
	}
	binary.BigEndian.PutUint64(b[136:], xxhash.Sum64(b[:136]))
	return append(dst, b[:]...)
}

// decodeRecord decodes one record; ok is false when its checksum or its
// reserved bytes are wrong (a torn or damaged record).
func decodeRecord(b []byte) (r Record, ok bool) {
	if len(b) < recordSize || binary.BigEndian.Uint64(b[136:144]) != xxhash.Sum64(b[:136]) {
		return r, false
	}
	if b[132]&^flagInvalid != 0 || b[133]|b[134]|b[135] != 0 {
		return r, false
	}
	copy(r.Hash[:], b[0:32])
	copy(r.PrevHash[:], b[32:64])
	r.Height = binary.BigEndian.Uint64(b[64:72])
	r.Timestamp = int64(binary.BigEndian.Uint64(b[72:80]))
	copy(r.Target[:], b[80:112])
	r.Loc.Segment = binary.BigEndian.Uint32(b[112:116])
	r.Loc.Offset = binary.BigEndian.Uint64(b[116:124])
	r.Loc.Length = binary.BigEndian.Uint32(b[124:128])
	r.TxCount = int(binary.BigEndian.Uint32(b[128:132]))
	r.Invalid = b[132]&flagInvalid != 0
	return r, true
}
