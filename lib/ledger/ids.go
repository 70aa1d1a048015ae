package ledger

// The recent-id set: the replay rule of DESIGN.md ("no transfer of the same
// sender with the same id on the chain within the window"). An id is
// scoped to its sender: the set is keyed on (sender, id), so no one can
// use up another key's ids. An entry stays in the set until a block whose
// parent's median time past is more than TxWindowAfter past its
// transfer's timestamp; Connect prunes before it checks, so the set holds
// about a day of ids.
//
// Next to each entry the set keeps the first HashPrefix bytes of the
// transfer's hash, so that a line repeating a transfer on the chain is
// told from another transfer reusing its (sender, id) without reading a
// block (Recent). That is node policy, not consensus: a block may carry
// neither. Only the sender's key can sign another transfer with its own
// (sender, id), so a prefix that matches by chance (2^-64) could only let
// the key's holder have such a transfer passed over quietly instead of
// refused as duplicate-id: refused either way.

import (
	"maps"
	"slices"

	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
)

// HashPrefix is how many leading bytes of a transfer's hash the recent-id
// set keeps.
const HashPrefix = 8

// idKey is a recent id as the set keys it: the sender's address payload
// (within a network, the address) and the id.
type idKey struct {
	sender [keys.PayloadSize]byte
	id     [16]byte
}

// keyOf returns the set's key of a transfer from sender with id; ok is
// false when sender is not an address (the block was not checked).
func keyOf(sender string, id [16]byte) (idKey, bool) {
	p, ok := keys.Payload(sender)
	return idKey{p, id}, ok
}

// recent is what the set keeps of a transfer: its timestamp, which says
// when it leaves the set, and the start of its hash.
type recent struct {
	ts   int64
	hash [HashPrefix]byte
}

// recentOf returns the entry of a transfer.
func recentOf(t *tx.Tx) recent {
	return recent{ts: t.Timestamp, hash: [HashPrefix]byte(t.Hash[:HashPrefix])}
}

// idSet is the recent-id set: the map from (sender, id) to each entry,
// held as a map keyed by the id alone, whose value names the sender, and
// a second map, by id too, of the pairs whose id another sender already
// holds in the first. Ids are 128 random bits, so the second map is
// nearly always empty, and the first is keyed by 16 bytes rather than 36:
// a million recent ids load about three times as fast (opening a
// directory builds the set). Every operation looks one id up in each.
type idSet struct {
	byID  map[[16]byte]idSlot
	more  map[[16]byte][]idSlot
	nmore int // entries in more
}

// idSlot is an entry of idSet: the sender and what the set keeps.
type idSlot struct {
	sender [keys.PayloadSize]byte
	recent
}

func newIDSet(n int) idSet { return idSet{byID: make(map[[16]byte]idSlot, n)} }

// get returns the entry of k.
func (s *idSet) get(k idKey) (recent, bool) {
	if e, ok := s.byID[k.id]; ok && e.sender == k.sender {
		return e.recent, true
	}
	for _, e := range s.more[k.id] {
		if e.sender == k.sender {
			return e.recent, true
		}
	}
	return recent{}, false
}

// put sets the entry of k.
func (s *idSet) put(k idKey, r recent) {
	e, ok := s.byID[k.id]
	if !ok || e.sender == k.sender {
		s.byID[k.id] = idSlot{k.sender, r}
		return
	}
	others := s.more[k.id]
	for i := range others {
		if others[i].sender == k.sender {
			others[i].recent = r
			return
		}
	}
	if s.more == nil {
		s.more = map[[16]byte][]idSlot{}
	}
	s.more[k.id] = append(others, idSlot{k.sender, r})
	s.nmore++
}

// del removes k. When k held the first map's slot, one of the other
// senders of its id, if any, moves into it.
func (s *idSet) del(k idKey) {
	others := s.more[k.id]
	if e, ok := s.byID[k.id]; ok && e.sender == k.sender {
		if len(others) == 0 {
			delete(s.byID, k.id)
			return
		}
		s.byID[k.id] = others[len(others)-1]
		others = others[:len(others)-1]
	} else {
		i := slices.IndexFunc(others, func(e idSlot) bool { return e.sender == k.sender })
		if i < 0 {
			return
		}
		others = slices.Delete(others, i, i+1)
	}
	s.nmore--
	if len(others) == 0 {
		delete(s.more, k.id)
	} else {
		s.more[k.id] = others
	}
}

func (s *idSet) len() int { return len(s.byID) + s.nmore }

// each calls f for every entry.
func (s *idSet) each(f func(idKey, recent)) {
	for id, e := range s.byID {
		f(idKey{e.sender, id}, e.recent)
	}
	for id, others := range s.more {
		for _, e := range others {
			f(idKey{e.sender, id}, e.recent)
		}
	}
}

func (s *idSet) clone() idSet {
	c := idSet{byID: maps.Clone(s.byID), nmore: s.nmore}
	if c.byID == nil {
		c.byID = make(map[[16]byte]idSlot)
	}
	if len(s.more) > 0 {
		c.more = make(map[[16]byte][]idSlot, len(s.more))
		for id, others := range s.more {
			c.more[id] = slices.Clone(others)
		}
	}
	return c
}

// idEntry is a recent id with its entry: what the expiry heap orders and
// what Disconnect puts back.
type idEntry struct {
	key idKey
	recent
}

// expired reports whether an id stamped ts leaves the recent set before a
// block whose parent has median time past mtp: ts + 86400 < mtp.
func expired(ts, mtp int64) bool { return ts+params.TxWindowAfter < mtp }

// prune drops from the recent set every id that expires before a block whose
// parent's median time past is mtp, and returns them.
func (l *Ledger) prune(mtp int64) []idEntry {
	var dropped []idEntry
	for len(l.expiry) > 0 && expired(l.expiry[0].ts, mtp) {
		e := l.expiry.pop()
		dropped = l.ids.dropExpired(e.id, e.ts, dropped)
	}
	return dropped
}

// dropExpired removes the entries of id stamped ts (the heap holds the id
// and timestamp alone: entries of several senders under one id leave
// together) and appends them to dropped. A heap entry whose id was
// taken back or stamped again (stale) drops nothing.
func (s *idSet) dropExpired(id [16]byte, ts int64, dropped []idEntry) []idEntry {
	var gone []idKey
	if e, ok := s.byID[id]; ok && e.ts == ts {
		gone = append(gone, idKey{e.sender, id})
	}
	for _, e := range s.more[id] {
		if e.ts == ts {
			gone = append(gone, idKey{e.sender, id})
		}
	}
	for _, k := range gone {
		r, _ := s.get(k)
		s.del(k)
		dropped = append(dropped, idEntry{k, r})
	}
	return dropped
}

// HasID reports whether the pair (sender, id) is in the recent-id set.
func (l *Ledger) HasID(sender string, id [16]byte) bool {
	k, ok := keyOf(sender, id)
	if !ok {
		return false
	}
	_, ok = l.ids.get(k)
	return ok
}

// Recent reports whether t's (sender, id) is in the recent-id set (used),
// and whether the transfer there has t's hash (same: t repeats a transfer
// on the chain; see the note on HashPrefix), without reading a block.
func (l *Ledger) Recent(t *tx.Tx) (used, same bool) {
	k, ok := keyOf(t.Sender, t.ID)
	if !ok {
		return false, false
	}
	r, used := l.ids.get(k)
	return used, used && r.hash == [HashPrefix]byte(t.Hash[:HashPrefix])
}

// IDs returns the number of ids in the recent set.
func (l *Ledger) IDs() int { return l.ids.len() }

// heapOf builds the expiry heap of ids.
func heapOf(ids *idSet) idHeap {
	h := make(idHeap, 0, ids.len())
	ids.each(func(k idKey, r recent) { h = append(h, heapEntry{k.id, r.ts}) })
	h.init()
	return h
}

// heapEntry is an id and its timestamp in the expiry heap: 24 bytes, not
// 48 with the sender, for the heap holds every recent id.
type heapEntry struct {
	id [16]byte
	ts int64
}

// idHeap is a binary min-heap of ids by timestamp.
type idHeap []heapEntry

func (h idHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *idHeap) push(e heapEntry) {
	*h = append(*h, e)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].ts <= s[i].ts {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *idHeap) pop() heapEntry {
	s := *h
	e := s[0]
	n := len(s) - 1
	s[0] = s[n]
	*h = s[:n]
	h.down(0)
	return e
}

func (h idHeap) down(i int) {
	n := len(h)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if c+1 < n && h[c+1].ts < h[c].ts {
			c++
		}
		if h[i].ts <= h[c].ts {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}
