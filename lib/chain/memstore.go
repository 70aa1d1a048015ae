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
	mu        sync.Mutex
	data      []byte
	puts      int
	gets      int
	undo      map[[32]byte][]byte
	undoGets  int
	undoFound int

	// PutErr, when set, makes Put fail with it (a full disk, say).
	PutErr error
	// NoUndo, when set, makes the store keep no undo data, as a
	// directory of an older build: the chain replays instead.
	NoUndo bool
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

// PutUndo keeps a block's undo data (unless NoUndo is set).
func (m *MemStore) PutUndo(hash [32]byte, height uint64, undo []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.NoUndo {
		return
	}
	if m.undo == nil {
		m.undo = map[[32]byte][]byte{}
	}
	m.undo[hash] = append([]byte(nil), undo...)
}

// GetUndo returns the undo data PutUndo kept for hash, or nil.
func (m *MemStore) GetUndo(hash [32]byte, height uint64) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.undoGets++
	u := m.undo[hash]
	if u != nil {
		m.undoFound++
	}
	return u, nil
}

// UndoGets returns how many times GetUndo was called and how many of
// those found undo data.
func (m *MemStore) UndoGets() (calls, found int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.undoGets, m.undoFound
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
