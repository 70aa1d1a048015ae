package mempool

import (
	"cmp"
	"encoding/binary"
	"errors"
	"slices"

	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/tx"
)

// The pool's binary form (mempool.bin's payload, package chaindir): the
// transfers in admission order, each
//
//	id [16], pubkey [32], hash [32], signature [64], amount, fee,
//	timestamp (u64 each, big-endian), its JSON line's length (u32),
//	sender and receiver (one length byte, then the address)
//
// so that a pool the node already judged loads without parsing JSON or
// checking signatures.
const binFixed = 16 + 32 + 32 + 64 + 3*8 + 4

// AppendBinary appends the pool's binary form to dst.
func (m *Pool) AppendBinary(dst []byte) []byte {
	m.mu.Lock()
	es := m.entries()
	m.mu.Unlock()
	slices.SortFunc(es, func(a, b *entry) int { return cmp.Compare(a.seq, b.seq) })
	for _, e := range es {
		t := e.tx
		dst = append(dst, t.ID[:]...)
		dst = append(dst, t.PubKey[:]...)
		dst = append(dst, t.Hash[:]...)
		dst = append(dst, t.Signature[:]...)
		dst = binary.BigEndian.AppendUint64(dst, t.Amount)
		dst = binary.BigEndian.AppendUint64(dst, t.Fee)
		dst = binary.BigEndian.AppendUint64(dst, uint64(t.Timestamp))
		dst = binary.BigEndian.AppendUint32(dst, uint32(e.size))
		dst = append(append(dst, byte(len(t.Sender))), t.Sender...)
		dst = append(append(dst, byte(len(t.Receiver))), t.Receiver...)
	}
	return dst
}

// errBinary says a binary form does not decode.
var errBinary = errors.New("mempool: the binary form does not decode")

// LoadBinary adds the transfers of a binary form (AppendBinary) to an
// empty pool, trusting that they were judged, in this order, against the
// ledger the pool now serves: only the time window at now and the pool's
// bound are checked (a transfer that has left the window, or past the
// bound, is dropped, as Load drops it). It is for a derived file the node
// wrote and checked against mempool.jsonl and the tip; anything that does
// not decode is an error, and the pool must then be thrown away. It
// returns how many transfers it dropped.
func (m *Pool) LoadBinary(b []byte, now int64) (dropped int, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.byHash) > 0 {
		return 0, errors.New("mempool: LoadBinary on a pool that holds transfers")
	}
	for len(b) > 0 {
		if len(b) < binFixed+2 {
			return dropped, errBinary
		}
		t := &tx.Tx{}
		copy(t.ID[:], b[0:16])
		copy(t.PubKey[:], b[16:48])
		copy(t.Hash[:], b[48:80])
		copy(t.Signature[:], b[80:144])
		t.Amount = binary.BigEndian.Uint64(b[144:152])
		t.Fee = binary.BigEndian.Uint64(b[152:160])
		ts := binary.BigEndian.Uint64(b[160:168])
		size := int(binary.BigEndian.Uint32(b[168:172]))
		b = b[binFixed:]
		var ok1, ok2 bool
		t.Sender, b, ok1 = binStr(b)
		t.Receiver, b, ok2 = binStr(b)
		if !ok1 || !ok2 || ts > tx.MaxTimestamp || size == 0 {
			return dropped, errBinary
		}
		t.Timestamp = int64(ts)
		if !consensus.TxTimeOK(t.Timestamp, now) || len(m.byHash) >= m.max {
			dropped++
			continue
		}
		if m.byHash[t.Hash] != nil || m.byID[keyOf(t)] != nil {
			return dropped, errBinary
		}
		m.insertSized(t, size)
	}
	return dropped, nil
}

// binStr takes one length-prefixed address off b.
func binStr(b []byte) (string, []byte, bool) {
	if len(b) < 1 {
		return "", b, false
	}
	n := int(b[0])
	if n == 0 || n > keys.MaxAddressLen || len(b) < 1+n {
		return "", b, false
	}
	return string(b[1 : 1+n]), b[1+n:], true
}
