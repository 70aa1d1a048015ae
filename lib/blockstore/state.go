package blockstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"

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

// stateHeaderSize is the length of the state file before the snapshot.
const stateHeaderSize = 88

// decodeState returns the snapshot of a state file; ok is false for a
// file of another network, torn or damaged.
func decodeState(b []byte, genesis [32]byte) (s Snapshot, ok bool) {
	if s, ok = decodeStateHeader(b, int64(len(b)), genesis); !ok {
		return s, false
	}
	end := len(b) - 8
	if binary.BigEndian.Uint64(b[end:]) != xxhash.Sum64(b[:end]) {
		return Snapshot{}, false
	}
	s.Ledger = b[stateHeaderSize:end]
	return s, true
}

// decodeStateHeader returns the tip and height of a state file of size
// bytes from its first bytes b (at least its header), without the
// ledger's bytes and unchecked by the checksum; ok is false for a file of
// another network or whose size is not the one its header gives.
func decodeStateHeader(b []byte, size int64, genesis [32]byte) (s Snapshot, ok bool) {
	if len(b) < stateHeaderSize || size < stateHeaderSize+8 || !bytes.Equal(b[:8], []byte(stateMagic)) || !bytes.Equal(b[8:40], genesis[:]) {
		return s, false
	}
	if n := binary.BigEndian.Uint64(b[80:88]); n != uint64(size-stateHeaderSize-8) {
		return s, false
	}
	copy(s.Tip[:], b[40:72])
	s.Height = binary.BigEndian.Uint64(b[72:80])
	return s, true
}

// readState reads the state file at path, or only its header when
// header is set; size is the file's size.
func readState(path string, header bool) (data []byte, size int64, err error) {
	if !header {
		data, err = os.ReadFile(path)
		return data, int64(len(data)), err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	data = make([]byte, stateHeaderSize)
	n, err := io.ReadFull(f, data)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		err = nil // a short file: decodeStateHeader refuses it
	}
	return data[:n], fi.Size(), err
}
