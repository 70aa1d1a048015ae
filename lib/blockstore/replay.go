package blockstore

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
)

// Mark is a place in the segments: the end of what a Store has read.
type Mark struct{ p pos }

// Mark returns the end of the lines the Store holds.
func (s *Store) Mark() Mark { return Mark{s.end} }

// Replay reads every block line of the segments, in order, and hands each
// to a function: what cnj-chain check compares the derived files with and
// what cnj-chain reindex writes them from. It is also the store of the
// fresh chain that the composer replays the blocks through (Put returns
// the line's own place: blocks stay where they are; Get reads them back).
type Replay struct {
	dir     chaindir.Dir
	genesis [32]byte
	// Until, when set, limits the replay to the lines before it (Check:
	// what the view holds).
	Until *Mark
	// Salvage (Reindex) stops at the first bad line and notes it (Bad)
	// instead of failing: SetAside then moves it and what follows.
	Salvage bool

	rd   *segReader
	cur  Loc
	maxN int64
	bad  *badSpot
	torn *pos
}

// badSpot is the first line a replay could not use.
type badSpot struct {
	seg     uint32
	off     uint64
	missing bool   // the segment file does not exist
	plain   bool   // data came from the plain file
	data    []byte // the segment's (readable) bytes
	err     error
}

// NewReplay returns a replay of the directory's segments.
func NewReplay(d chaindir.Dir, genesis [32]byte) *Replay {
	return &Replay{dir: d, genesis: genesis, rd: newSegReader(d)}
}

// Close releases the replay's files.
func (r *Replay) Close() error { return r.rd.close() }

// Put returns the place of the line being replayed (package chain's
// Store): a replayed block is already stored.
func (r *Replay) Put(*block.Block, []byte) (Loc, error) { return r.cur, nil }

// PutUndo drops undo data: the fresh chain a replay feeds keeps its own in
// memory, and Reindex writes the undo file from it.
func (r *Replay) PutUndo([32]byte, uint64, []byte) {}

// GetUndo has none: a replay connects every block itself.
func (r *Replay) GetUndo([32]byte, uint64) ([]byte, error) { return nil, nil }

// Get reads and checks the block at loc.
func (r *Replay) Get(loc Loc) (*block.Block, error) {
	line, err := r.rd.readLine(loc.Segment, loc.Offset, loc.Length)
	if err != nil {
		return nil, chaindir.Corruptf(segName(loc.Segment), 0, "%v", err)
	}
	b, err := parseBlock(r.genesis, line)
	if err != nil {
		return nil, chaindir.Corruptf(segName(loc.Segment), 0, "%v", err)
	}
	return b, nil
}

// Stopped says why a salvaging replay stopped early, nil when it read
// every line.
func (r *Replay) Stopped() error {
	if r.bad == nil {
		return nil
	}
	return r.bad.err
}

// fail stops the replay at a bad line: an error naming it, or, when
// salvaging, a note of where the good lines end.
func (r *Replay) fail(b *badSpot, name string, line int, err error) error {
	if r.Salvage {
		b.err = err
		r.bad = b
		return nil
	}
	return chaindir.Corruptf(name, line, "%v: %s", err, chaindir.ReindexHint)
}

// Run replays the segments: add is called for each intact line in order,
// with its place, and returns an error when the block is refused. A torn
// last line is not a problem (a salvage cuts it). The first bad line (it
// does not parse, is damaged, its block is refused, its segment is
// missing or does not decompress) is a *chaindir.CorruptError naming it,
// or, when salvaging, where Run stops.
func (r *Replay) Run(add func(loc Loc, line []byte, b *block.Block) error) error {
	found, maxN, err := findSegments(r.dir)
	if errors.Is(err, fs.ErrNotExist) {
		found, maxN, err = nil, -1, nil
	}
	if err != nil {
		return err
	}
	r.maxN = maxN
	var limit *pos
	if r.Until != nil {
		limit = &r.Until.p
	}
	for s := int64(0); s <= maxN; s++ {
		seg := uint32(s)
		if limit != nil && seg > limit.seg {
			break
		}
		st, ok := found[seg]
		if !ok {
			return r.fail(&badSpot{seg: seg, missing: true}, segName(seg), 0, missingErr(seg, uint32(maxN)))
		}
		data, name, plain, derr, err := readSegment(r.dir, seg, st)
		if err != nil {
			return err
		}
		end := len(data)
		if limit != nil && seg == limit.seg && int(limit.off) < end {
			end = int(limit.off)
		}
		canTear := s == maxN && derr == nil && limit == nil
		off, line := 0, 1
		for off < end {
			spot := &badSpot{seg: seg, off: uint64(off), plain: plain, data: data}
			i := bytes.IndexByte(data[off:end], '\n')
			if i < 0 {
				if canTear {
					r.torn = &pos{seg, uint64(off)}
					break
				}
				return r.fail(spot, name, line, errors.New("no newline at the end of the line"))
			}
			raw := data[off : off+i]
			b, err := parseBlock(r.genesis, raw)
			if err != nil {
				if canTear && off+i+1 == len(data) {
					r.torn = &pos{seg, uint64(off)}
					break
				}
				return r.fail(spot, name, line, err)
			}
			r.cur = Loc{Segment: seg, Offset: uint64(off), Length: uint32(i)}
			if err := add(r.cur, raw, b); err != nil {
				return r.fail(spot, name, line, fmt.Errorf("block %x refused: %w", b.Hash[:8], err))
			}
			off += i + 1
			line++
		}
		if r.bad != nil || r.torn != nil {
			break
		}
		if derr != nil && !(limit != nil && seg == limit.seg && end < len(data)) {
			return r.fail(&badSpot{seg: seg, off: uint64(off), data: data}, name, line, derr)
		}
	}
	return nil
}

// SetAside moves what follows the last good line of a salvaging replay
// into lost/ and cuts a torn last line, so that the directory opens again
// with the chain up to there. moved names the files set aside, relative
// to the directory. Only the holder of the directory's lock may call it.
func (r *Replay) SetAside() ([]string, error) {
	blocks := r.dir.File(chaindir.BlocksDir)
	if r.torn != nil {
		if err := chaindir.TruncateSync(r.dir.File(segName(r.torn.seg)), int64(r.torn.off)); err != nil {
			return nil, err
		}
	}
	b := r.bad
	if b == nil {
		return nil, nil
	}
	lost := r.dir.File(chaindir.LostDir)
	if err := os.MkdirAll(lost, 0o755); err != nil {
		return nil, err
	}
	var moved []string
	move := func(name string) error {
		to := freeName(lost, filepath.Base(name))
		err := os.Rename(r.dir.File(name), to)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err == nil {
			moved = append(moved, filepath.Join(chaindir.LostDir, filepath.Base(to)))
		}
		return err
	}
	// Later segments first, highest first, so that the segments left are
	// numbered without a gap at every instant.
	for n := r.maxN; n > int64(b.seg); n-- {
		if err := move(sealedName(uint32(n))); err != nil {
			return moved, err
		}
		if err := move(segName(uint32(n))); err != nil {
			return moved, err
		}
	}
	if err := chaindir.SyncDir(blocks); err != nil {
		return moved, err
	}
	switch {
	case b.missing:
	case b.plain:
		to := freeName(lost, filepath.Base(segName(b.seg)))
		if err := chaindir.WriteAtomic(to, b.data[b.off:]); err != nil {
			return moved, err
		}
		moved = append(moved, filepath.Join(chaindir.LostDir, filepath.Base(to)))
		if err := chaindir.TruncateSync(r.dir.File(segName(b.seg)), int64(b.off)); err != nil {
			return moved, err
		}
		if err := move(sealedName(b.seg)); err != nil {
			return moved, err
		}
	default:
		if err := move(sealedName(b.seg)); err != nil {
			return moved, err
		}
		if b.off > 0 {
			if err := chaindir.WriteAtomic(r.dir.File(segName(b.seg)), b.data[:b.off]); err != nil {
				return moved, err
			}
		}
	}
	if err := chaindir.SyncDir(lost); err != nil {
		return moved, err
	}
	return moved, chaindir.SyncDir(blocks)
}

// freeName returns dir/name, or dir/name.N for the first N not taken.
func freeName(dir, name string) string {
	p := filepath.Join(dir, name)
	for i := 1; ; i++ {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			return p
		}
		p = filepath.Join(dir, name+"."+strconv.Itoa(i))
	}
}

// WriteDerived replaces the index and the state file with recs and sn
// (cnj-chain reindex), each atomically: a crash at any instant leaves the
// old file or the new one. Only the holder of the directory's lock may
// call it.
func WriteDerived(d chaindir.Dir, genesis [32]byte, recs []Record, sn Snapshot) error {
	idx := indexHeaderBytes(genesis)
	for i := range recs {
		idx = appendRecord(idx, &recs[i])
	}
	if err := chaindir.WriteAtomic(d.File(chaindir.IndexFile), idx); err != nil {
		return err
	}
	return chaindir.WriteAtomic(d.File(chaindir.StateFile), encodeState(genesis, sn))
}
