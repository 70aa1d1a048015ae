package ledger

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cespare/xxhash/v2"

	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

// Snapshot layout (all integers big-endian u64, strings one length byte then
// ASCII):
//
//	"CNJ-LD-" version(1 byte, 1)
//	genesis hash [32]
//	height, tip [32]
//	n; n pending rewards, oldest first: receiver, amount
//	n; n balances sorted by address: address, amount (> 0)
//	n; n recent ids sorted by (sender, id): sender payload [20], id [16],
//	   transfer timestamp, first HashPrefix (8) bytes of its hash
//	xxhash64 of everything before
//
// The pending rewards are those of blocks max(1, height-Maturity+1) ..
// height, so their count is min(Maturity, height).
//
// Version 1 keyed ids on the id alone, before ids were scoped to their
// sender, and kept no hash: it cannot be read into this ledger, and a
// state file holding it is replayed from genesis once (package node).
const (
	magic   = "CNJ-LD-"
	version = 2
	// idSize is the size of one recent id in the snapshot.
	idSize = keys.PayloadSize + 16 + 8 + HashPrefix
)

// ErrOldVersion marks UnmarshalBinary's refusal of a snapshot that an
// older build wrote (beside its corrupt code): not damage, but a state
// this build cannot read, which a replay of the blocks replaces.
var ErrOldVersion = errors.New("ledger snapshot of an older version")

// MarshalBinary returns a deterministic snapshot of the ledger: two ledgers
// with the same state give the same bytes.
func (l *Ledger) MarshalBinary() ([]byte, error) {
	addrs := make([]string, 0, len(l.bal))
	for a := range l.bal {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	// One pass over the map, then a sort on integer keys: the ids are most
	// of a large state, which a syncing node writes often.
	type key struct {
		k     [4]uint64 // the first 32 bytes of sender payload || id
		last  uint32    // and the last 4
		entry recent
	}
	ids := make([]key, 0, l.ids.len())
	l.ids.each(func(k idKey, r recent) {
		var b [36]byte
		copy(b[:20], k.sender[:])
		copy(b[20:], k.id[:])
		ids = append(ids, key{[4]uint64{binary.BigEndian.Uint64(b[0:]), binary.BigEndian.Uint64(b[8:]),
			binary.BigEndian.Uint64(b[16:]), binary.BigEndian.Uint64(b[24:])}, binary.BigEndian.Uint32(b[32:]), r})
	})
	slices.SortFunc(ids, func(a, b key) int {
		for i := range a.k {
			if a.k[i] != b.k[i] {
				return cmp.Compare(a.k[i], b.k[i])
			}
		}
		return cmp.Compare(a.last, b.last)
	})

	size := len(magic) + 1 + 32 + 8 + 32 + 3*8 + 8 + len(l.pending)*(8+60) + len(addrs)*(8+60) + len(ids)*idSize
	b := make([]byte, 0, size)
	b = append(b, magic...)
	b = append(b, version)
	g := l.p.Hash()
	b = append(b, g[:]...)
	b = binary.BigEndian.AppendUint64(b, l.height)
	b = append(b, l.tip[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(len(l.pending)))
	for _, r := range l.pending {
		b = appendStr(b, r.receiver)
		b = binary.BigEndian.AppendUint64(b, r.amount)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(len(addrs)))
	for _, a := range addrs {
		b = appendStr(b, a)
		b = binary.BigEndian.AppendUint64(b, l.bal[a])
	}
	b = binary.BigEndian.AppendUint64(b, uint64(len(ids)))
	for _, k := range ids {
		for _, v := range k.k {
			b = binary.BigEndian.AppendUint64(b, v)
		}
		b = binary.BigEndian.AppendUint32(b, k.last)
		b = binary.BigEndian.AppendUint64(b, uint64(k.entry.ts))
		b = append(b, k.entry.hash[:]...)
	}
	return binary.BigEndian.AppendUint64(b, xxhash.Sum64(b)), nil
}

func appendStr(b []byte, s string) []byte { return append(append(b, byte(len(s))), s...) }

// UnmarshalBinary replaces the ledger's state by the snapshot in data. The
// ledger must have been made by New with the snapshot's network. Any
// inconsistency (checksum, version, network, order, counts, addresses,
// totals) is a *rule.Error with code corrupt, and the ledger is unchanged.
func (l *Ledger) UnmarshalBinary(data []byte) error {
	if l.p == nil {
		return errors.New("ledger: UnmarshalBinary on a ledger not made by New")
	}
	const minLen = len(magic) + 1 + 32 + 8 + 32 + 3*8 + 8
	if len(data) < minLen {
		return rule.Errorf(rule.Corrupt, "ledger snapshot of %d bytes, at least %d expected", len(data), minLen)
	}
	body, sum := data[:len(data)-8], binary.BigEndian.Uint64(data[len(data)-8:])
	if xxhash.Sum64(body) != sum {
		return rule.Errorf(rule.Corrupt, "ledger snapshot checksum mismatch")
	}
	if string(body[:len(magic)]) != magic {
		return rule.Errorf(rule.Corrupt, "not a ledger snapshot")
	}
	if v := body[len(magic)]; v != version {
		err := rule.Errorf(rule.Corrupt, "ledger snapshot version %d, this build reads %d", v, version)
		if v < version {
			err = fmt.Errorf("%w: %w", ErrOldVersion, err)
		}
		return err
	}
	r := reader{b: body[len(magic)+1:]}
	if g := l.p.Hash(); [32]byte(r.take(32)) != g {
		return rule.Errorf(rule.Corrupt, "ledger snapshot of another network")
	}
	n := &Ledger{p: l.p}
	n.height = r.u64()
	n.tip = [32]byte(r.take(32))
	var total uint64
	add := func(v uint64) bool {
		if total+v < total {
			return false
		}
		total += v
		return true
	}

	np := r.count(9)
	want := min(l.p.Maturity, n.height)
	if r.err == nil && np != want {
		return rule.Errorf(rule.Corrupt, "ledger snapshot holds %d maturing rewards at height %d, want %d", np, n.height, want)
	}
	n.pending = make([]reward, 0, np)
	for i := uint64(0); i < np && r.err == nil; i++ {
		a, v := r.str(), r.u64()
		if r.err == nil && !l.validAddr(a) {
			return rule.Errorf(rule.Corrupt, "ledger snapshot: bad reward receiver")
		}
		if !add(v) {
			return rule.Errorf(rule.Corrupt, "ledger snapshot: total overflows")
		}
		n.pending = append(n.pending, reward{a, v})
	}

	nb := r.count(10)
	n.bal = make(map[string]uint64, nb)
	prev := ""
	for i := uint64(0); i < nb && r.err == nil; i++ {
		a, v := r.str(), r.u64()
		if r.err != nil {
			break
		}
		if i > 0 && strings.Compare(prev, a) >= 0 {
			return rule.Errorf(rule.Corrupt, "ledger snapshot: balances out of order")
		}
		if v == 0 || !l.validAddr(a) {
			return rule.Errorf(rule.Corrupt, "ledger snapshot: bad balance entry")
		}
		if !add(v) {
			return rule.Errorf(rule.Corrupt, "ledger snapshot: total overflows")
		}
		n.bal[a] = v
		prev = a
	}

	ni := r.count(idSize)
	n.ids = newIDSet(int(ni))
	// Ids are 128 random bits: assigned by id alone first, one map
	// write each; should two senders share one, the set is built again
	// pair by pair.
	shared := false
	// The expiry heap is built from the entries in file order, a sequential
	// pass, rather than by walking the map (random access over tens of MB:
	// a tenth of opening a directory of a million recent transfers).
	n.expiry = make(idHeap, 0, ni)
	section := r.b
	var prevKey []byte
	for i := uint64(0); i < ni && r.err == nil; i++ {
		kb := r.take(keys.PayloadSize + 16)
		ts := r.u64()
		hash := r.take(HashPrefix)
		if r.err != nil {
			break
		}
		if i > 0 && bytes.Compare(prevKey, kb) >= 0 {
			return rule.Errorf(rule.Corrupt, "ledger snapshot: ids out of order")
		}
		if ts > tx.MaxTimestamp {
			return rule.Errorf(rule.Corrupt, "ledger snapshot: id timestamp out of range")
		}
		k := idKey{[keys.PayloadSize]byte(kb[:keys.PayloadSize]), [16]byte(kb[keys.PayloadSize:])}
		if !shared {
			n.ids.byID[k.id] = idSlot{k.sender, recent{int64(ts), [HashPrefix]byte(hash)}}
			shared = len(n.ids.byID) != int(i)+1
		}
		n.expiry = append(n.expiry, heapEntry{k.id, int64(ts)})
		prevKey = kb
	}
	if shared && r.err == nil {
		n.ids = newIDSet(int(ni))
		for i := uint64(0); i < ni; i++ {
			e := section[i*idSize : (i+1)*idSize]
			k := idKey{[keys.PayloadSize]byte(e[:keys.PayloadSize]), [16]byte(e[keys.PayloadSize : keys.PayloadSize+16])}
			n.ids.put(k, recent{int64(binary.BigEndian.Uint64(e[keys.PayloadSize+16:])), [HashPrefix]byte(e[keys.PayloadSize+24:])})
		}
	}
	if r.err != nil {
		return rule.Errorf(rule.Corrupt, "ledger snapshot truncated")
	}
	if len(r.b) != 0 {
		return rule.Errorf(rule.Corrupt, "ledger snapshot: %d bytes after the ids", len(r.b))
	}
	if n.height == 0 && (n.tip != l.p.Hash() || len(n.bal) != 0 || n.ids.len() != 0) {
		return rule.Errorf(rule.Corrupt, "ledger snapshot at genesis holds state")
	}
	n.expiry.init()
	*l = *n
	return nil
}

func (l *Ledger) validAddr(a string) bool { return keys.CheckAddress(a, l.p.AddressPrefix) == nil }

// reader takes fields off a byte slice; after the first short read it
// returns zeros and keeps err set.
type reader struct {
	b   []byte
	err error
}

var errShort = errors.New("short")

func (r *reader) take(n int) []byte {
	if r.err != nil || len(r.b) < n {
		r.err = errShort
		return make([]byte, n)
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u64() uint64 { return binary.BigEndian.Uint64(r.take(8)) }

func (r *reader) str() string {
	n := r.take(1)[0]
	return string(r.take(int(n)))
}

// count reads an entry count and refuses one that the remaining bytes
// cannot hold at minSize bytes per entry, so that no length in a corrupt
// snapshot makes it allocate much.
func (r *reader) count(minSize int) uint64 {
	n := r.u64()
	if r.err == nil && n > uint64(len(r.b)/minSize) {
		r.err = errShort
		return 0
	}
	return n
}
