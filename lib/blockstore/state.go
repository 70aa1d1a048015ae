package blockstore

import (
	"bytes"
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

// The state file: a ledger snapshot at one block, so that opening the
// directory connects only the blocks since it. The snapshot's bytes are
// the ledger's (ledger.MarshalBinary); the store keeps them without
// reading them.
//
//	0:8      "CNJ-ST-1"
//	8:40     genesis hash
//	40:72    hash of the block the ledger is at
//	72:80    its height
//	80:88    length L of the snapshot
//	88:88+L  ledger.MarshalBinary
//	88+L:    xxhash64 of everything before
const stateMagic = "CNJ-ST-1"

// Snapshot is the state file's contents: the ledger's bytes at a block.
type Snapshot struct {
	Tip    [32]byte
	Height uint64
	Ledger []byte
}

func encodeState(genesis [32]byte, s Snapshot) []byte {
	b := make([]byte, 0, 96+len(s.Ledger))
	b = append(b, stateMagic...)
	b = append(b, genesis[:]...)
	b = append(b, s.Tip[:]...)
	b = binary.BigEndian.AppendUint64(b, s.Height)
	b = binary.BigEndian.AppendUint64(b, uint64(len(s.Ledger)))
	b = append(b, s.Ledger...)
	return binary.BigEndian.AppendUint64(b, xxhash.Sum64(b))
}

// decodeState returns the snapshot of a state file; ok is false for a
// file of another network, torn or damaged.
func decodeState(b []byte, genesis [32]byte) (s Snapshot, ok bool) {
	if len(b) < 96 || !bytes.Equal(b[:8], []byte(stateMagic)) || !bytes.Equal(b[8:40], genesis[:]) {
		return s, false
	}
	n := binary.BigEndian.Uint64(b[80:88])
	if n != uint64(len(b)-96) {
		return s, false
	}
	end := len(b) - 8
	if binary.BigEndian.Uint64(b[end:]) != xxhash.Sum64(b[:end]) {
		return s, false
	}
	copy(s.Tip[:], b[40:72])
	return Snapshot{Tip: s.Tip, Height: binary.BigEndian.Uint64(b[72:80]), Ledger: b[88:end]}, true
}
