package relay

import (
	"crypto/rand"
	"encoding/binary"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// Seen is a bounded set of the lines already relayed: the xxhash of each
// line, under a seed drawn per set so that no one can precompute lines
// that collide, in a ring of the last n hashes. It is safe for concurrent
// use.
type Seen struct {
	seed uint64
	mu   sync.Mutex
	set  map[uint64]struct{}
	ring []uint64
	next int // ring slot to overwrite
	full bool
}

// NewSeen returns a set that remembers the last n lines (n >= 1).
func NewSeen(n int) *Seen {
	n = max(n, 1)
	var b [8]byte
	rand.Read(b[:])
	return &Seen{seed: binary.LittleEndian.Uint64(b[:]), set: make(map[uint64]struct{}, n), ring: make([]uint64, n)}
}

// Key returns the hash the set keeps for line.
func (s *Seen) Key(line []byte) uint64 {
	var d xxhash.Digest
	d.ResetWithSeed(s.seed)
	d.Write(line)
	return d.Sum64()
}

// Add records line and reports whether it was new. The oldest line is
// forgotten when the set is full.
func (s *Seen) Add(line []byte) bool {
	k := s.Key(line)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.set[k]; ok {
		return false
	}
	if s.full {
		delete(s.set, s.ring[s.next])
	}
	s.ring[s.next] = k
	s.set[k] = struct{}{}
	s.next++
	if s.next == len(s.ring) {
		s.next, s.full = 0, true
	}
	return true
}

// Has reports whether line is in the set, without adding it.
func (s *Seen) Has(line []byte) bool {
	k := s.Key(line)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.set[k]
	return ok
}

// Len returns the number of lines remembered.
func (s *Seen) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.set)
}
