package ledger

import (
	"bytes"
	"encoding/binary"
	"slices"

	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

// Undo is what Disconnect needs to take back one Connect: the reward that
// matured and the ids that were dropped from the recent set. The rest
// (transfers, the block's own reward and ids) is read from the block.
//
// Undo data depends only on the block and its branch (the ledger at its
// parent), so the undo data of a block is the same whenever and by
// whomever it is connected, and MarshalBinary gives the same bytes.
type Undo struct {
	block      [32]byte
	matured    reward
	hasMatured bool
	dropped    []idEntry
}

// Block returns the hash of the block u takes back.
func (u *Undo) Block() [32]byte { return u.block }

// Undo bytes (integers big-endian u64, strings one length byte then
// ASCII):
//
//	"CNJ-UN-1"
//	block hash [32]
//	1 byte: 1 when a reward matured, then receiver, amount; else 0
//	n; n dropped ids sorted by (sender, id), each as in the snapshot:
//	   sender payload [20], id [16], transfer timestamp, hash prefix [8]
//
// The block store adds its own checksum.
const undoMagic = "CNJ-UN-1"

// MarshalBinary returns u's bytes, the same for the same block.
func (u *Undo) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, len(undoMagic)+32+1+1+64+8+8+len(u.dropped)*idSize)
	b = append(b, undoMagic...)
	b = append(b, u.block[:]...)
	if u.hasMatured {
		b = append(b, 1)
		b = appendStr(b, u.matured.receiver)
		b = binary.BigEndian.AppendUint64(b, u.matured.amount)
	} else {
		b = append(b, 0)
	}
	d := slices.Clone(u.dropped)
	slices.SortFunc(d, func(x, y idEntry) int { return compareKeys(x.key, y.key) })
	b = binary.BigEndian.AppendUint64(b, uint64(len(d)))
	for _, e := range d {
		b = append(b, e.key.sender[:]...)
		b = append(b, e.key.id[:]...)
		b = binary.BigEndian.AppendUint64(b, uint64(e.ts))
		b = append(b, e.hash[:]...)
	}
	return b, nil
}

func compareKeys(a, b idKey) int {
	if c := bytes.Compare(a.sender[:], b.sender[:]); c != 0 {
		return c
	}
	return bytes.Compare(a.id[:], b.id[:])
}

// UnmarshalBinary replaces u with the undo data in data. Bytes that
// MarshalBinary could not have written (order, counts, lengths, a reward
// receiver that is no address) are a *rule.Error with code corrupt, and u
// is unchanged. Whether the data fits a block and a ledger is
// Disconnect's to check.
func (u *Undo) UnmarshalBinary(data []byte) error {
	if len(data) < len(undoMagic)+32+1+8 || string(data[:len(undoMagic)]) != undoMagic {
		return rule.Errorf(rule.Corrupt, "not undo data")
	}
	r := reader{b: data[len(undoMagic):]}
	n := Undo{block: [32]byte(r.take(32))}
	switch r.take(1)[0] {
	case 0:
	case 1:
		n.hasMatured = true
		n.matured = reward{r.str(), r.u64()}
		if _, ok := keys.Payload(n.matured.receiver); r.err == nil && !ok {
			return rule.Errorf(rule.Corrupt, "undo data: bad reward receiver")
		}
	default:
		return rule.Errorf(rule.Corrupt, "undo data: bad reward flag")
	}
	count := r.count(idSize)
	if count > 0 {
		n.dropped = make([]idEntry, 0, count)
	}
	for i := uint64(0); i < count && r.err == nil; i++ {
		var e idEntry
		copy(e.key.sender[:], r.take(keys.PayloadSize))
		copy(e.key.id[:], r.take(16))
		ts := r.u64()
		copy(e.hash[:], r.take(HashPrefix))
		if ts > tx.MaxTimestamp {
			return rule.Errorf(rule.Corrupt, "undo data: id timestamp out of range")
		}
		e.ts = int64(ts)
		if i > 0 && compareKeys(n.dropped[i-1].key, e.key) >= 0 {
			return rule.Errorf(rule.Corrupt, "undo data: ids out of order")
		}
		n.dropped = append(n.dropped, e)
	}
	if r.err != nil {
		return rule.Errorf(rule.Corrupt, "undo data truncated")
	}
	if len(r.b) != 0 {
		return rule.Errorf(rule.Corrupt, "undo data: %d bytes after the ids", len(r.b))
	}
	*u = n
	return nil
}
