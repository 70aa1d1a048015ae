package chain

import (
	"fmt"
	"sync"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/blockstore"
)

// MemStore is a Store that keeps block lines in memory, laid out like one
// chain segment (each line followed by a newline). It is for tests, in this
// package and in packages that build on it.
type MemStore struct {
	mu   sync.Mutex
	data []byte
	puts int
	gets int

	// PutErr, when set, makes Put fail with it (a full disk, say).
	PutErr error
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore { return &MemStore{} }

// Put appends line (b's JSON line; encoded from b when nil).
func (m *MemStore) Put(b *block.Block, line []byte) (blockstore.Loc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.PutErr != nil {
		return blockstore.Loc{}, m.PutErr
	}
	if line == nil {
		line = b.AppendJSON(nil)
	}
	loc := blockstore.Loc{Offset: uint64(len(m.data)), Length: uint32(len(line))}
	m.data = append(append(m.data, line...), '\n')
	m.puts++
	return loc, nil
}

// Get decodes the block stored at loc.
func (m *MemStore) Get(loc blockstore.Loc) (*block.Block, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gets++
	end := loc.Offset + uint64(loc.Length)
	if loc.Segment != 0 || end < loc.Offset || end >= uint64(len(m.data)) || m.data[end] != '\n' {
		return nil, fmt.Errorf("memstore: no block at %d:%d+%d", loc.Segment, loc.Offset, loc.Length)
	}
	return block.Parse(m.data[loc.Offset:end])
}

// Puts returns how many blocks Put stored.
func (m *MemStore) Puts() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.puts
}

// Gets returns how many times Get was called.
func (m *MemStore) Gets() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gets
}
