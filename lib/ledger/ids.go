package ledger

// The recent-id set: the replay rule of DESIGN.md ("id not already on the
// chain within the window"). An id stays in the set until a block whose
// parent's median time past is more than TxWindowAfter past its
// transfer's timestamp; Connect prunes before it checks, so the set holds
// about a day of ids.

import "github.com/coniunctum/cnj/lib/params"

// idEntry is a recent id and the timestamp of its transfer.
type idEntry struct {
	id [16]byte
	ts int64
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
		if ts, ok := l.ids[e.id]; ok && ts == e.ts {
			delete(l.ids, e.id)
			dropped = append(dropped, e)
		}
	}
	return dropped
}

// HasID reports whether id is in the recent-id set.
func (l *Ledger) HasID(id [16]byte) bool {
	_, ok := l.ids[id]
	return ok
}

// IDs returns the number of ids in the recent set.
func (l *Ledger) IDs() int { return len(l.ids) }

// heapOf builds the expiry heap of ids.
func heapOf(ids map[[16]byte]int64) idHeap {
	h := make(idHeap, 0, len(ids))
	for id, ts := range ids {
		h = append(h, idEntry{id, ts})
	}
	h.init()
	return h
}

// idHeap is a binary min-heap of ids by timestamp.
type idHeap []idEntry

func (h idHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *idHeap) push(e idEntry) {
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

func (h *idHeap) pop() idEntry {
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
