package chaindir

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"

	"github.com/cespare/xxhash/v2"
)

// MempoolBin is mempool.bin: the pool as the last writer judged it, in a
// form that loads without parsing JSON or checking signatures, so that a
// command on a full pool (50,000 transfers) starts at once. It is derived
// and trusted only when it fits: its network, the tip its transfers were
// judged against, and the bytes of mempool.jsonl it mirrors (the first
// FileSize bytes, whose xxhash64 is FileSum; lines appended after them are
// judged in full). Pool is package mempool's encoding of the transfers.
//
//	0:8       "CNJ-MP-1"
//	8:40      genesis hash
//	40:72     hash of the tip the transfers were judged against
//	72:80     FileSize
//	80:88     FileSum
//	88:96     length L of Pool
//	96:96+L   Pool
//	96+L:     xxhash64 of everything before
type MempoolBin struct {
	Tip      [32]byte
	FileSize int64
	FileSum  uint64
	Pool     []byte
}

const mempoolBinMagic = "CNJ-MP-1"

// Encode returns the file's bytes for the network whose genesis hash is
// genesis.
func (b *MempoolBin) Encode(genesis [32]byte) []byte {
	out := make([]byte, 0, 104+len(b.Pool))
	out = append(out, mempoolBinMagic...)
	out = append(out, genesis[:]...)
	out = append(out, b.Tip[:]...)
	out = binary.BigEndian.AppendUint64(out, uint64(b.FileSize))
	out = binary.BigEndian.AppendUint64(out, b.FileSum)
	out = binary.BigEndian.AppendUint64(out, uint64(len(b.Pool)))
	out = append(out, b.Pool...)
	return binary.BigEndian.AppendUint64(out, xxhash.Sum64(out))
}

// DecodeMempoolBin reads the file's bytes; ok is false for a file of
// another network, torn or damaged. Pool aliases data.
func DecodeMempoolBin(data []byte, genesis [32]byte) (b MempoolBin, ok bool) {
	if len(data) < 104 || string(data[:8]) != mempoolBinMagic || !bytes.Equal(data[8:40], genesis[:]) {
		return b, false
	}
	end := len(data) - 8
	if binary.BigEndian.Uint64(data[end:]) != xxhash.Sum64(data[:end]) {
		return b, false
	}
	n := binary.BigEndian.Uint64(data[88:96])
	size := binary.BigEndian.Uint64(data[72:80])
	if n != uint64(end-96) || size > 1<<62 {
		return b, false
	}
	copy(b.Tip[:], data[40:72])
	b.FileSize, b.FileSum = int64(size), binary.BigEndian.Uint64(data[80:88])
	b.Pool = data[96:end]
	return b, true
}

// ReadMempoolBin reads mempool.bin whole: nil and no error when there is
// none.
func (d Dir) ReadMempoolBin() ([]byte, error) {
	data, err := os.ReadFile(d.File(MempoolBinFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

// WriteMempoolBin replaces mempool.bin with data atomically, not synced:
// it is checked against mempool.jsonl and the tip before any use, so a
// power cut that loses it, or leaves an older one, costs a slower start,
// never a wrong pool. Only the holder of the directory's Lock may call
// it.
func (d Dir) WriteMempoolBin(data []byte) error {
	return ReplaceFile(d.File(MempoolBinFile), data, false)
}
