package chaindir

import (
	"bytes"
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

// The state file: a ledger snapshot at one block, so that opening the
// directory connects only the blocks since it.
//
//	0:8      "CNJ-ST-1"
//	8:40     genesis hash
//	40:72    hash of the block the ledger is at
//	72:80    its height
//	80:88    length L of the snapshot
//	88:88+L  ledger.MarshalBinary
//	88+L:    xxhash64 of everything before
const stateMagic = "CNJ-ST-1"

func encodeState(genesis, tip [32]byte, height uint64, snap []byte) []byte {
	b := make([]byte, 0, 96+len(snap))
	b = append(b, stateMagic...)
	b = append(b, genesis[:]...)
	b = append(b, tip[:]...)
	b = binary.BigEndian.AppendUint64(b, height)
	b = binary.BigEndian.AppendUint64(b, uint64(len(snap)))
	b = append(b, snap...)
	return binary.BigEndian.AppendUint64(b, xxhash.Sum64(b))
}

// decodeState returns the snapshot's tip, height and ledger bytes; ok is
// false for a file of another network, torn or damaged.
func decodeState(b []byte, genesis [32]byte) (tip [32]byte, height uint64, snap []byte, ok bool) {
	if len(b) < 96 || !bytes.Equal(b[:8], []byte(stateMagic)) || !bytes.Equal(b[8:40], genesis[:]) {
		return tip, 0, nil, false
	}
	n := binary.BigEndian.Uint64(b[80:88])
	if n != uint64(len(b)-96) {
		return tip, 0, nil, false
	}
	end := len(b) - 8
	if binary.BigEndian.Uint64(b[end:]) != xxhash.Sum64(b[:end]) {
		return tip, 0, nil, false
	}
	copy(tip[:], b[40:72])
	return tip, binary.BigEndian.Uint64(b[72:80]), b[88:end], true
}
