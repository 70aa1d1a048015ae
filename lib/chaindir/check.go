package chaindir

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/ledger"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
)

// lostDir is where Reindex sets aside block lines it cannot use.
const lostDir = "lost"

// rebuilder replays every block line of the segments, in order, through a
// fresh chain with full validation: what Check compares the derived files
// with and what Reindex writes them from.
type rebuilder struct {
	dir     string
	p       *params.Params
	now     int64
	limit   *pos // Check: the lines before this place only
	salvage bool // Reindex: stop at the first bad line and note it in bad

	ch   *chain.Chain
	rd   *segReader
	cur  chain.Loc
	recs []chain.Record
	idx  map[[32]byte]int
	dup  map[int]bool // records of a line repeating an earlier block

	maxN int64
	bad  *badSpot // salvage: where the good lines end
	torn *pos     // salvage: a torn last line starts here
}

// badSpot is the first line a rebuild could not use.
type badSpot struct {
	seg     uint32
	off     uint64
	missing bool   // the segment file does not exist
	plain   bool   // data came from the plain file
	data    []byte // the segment's (readable) bytes
	err     error
}

// rbStore is the rebuild's chain.Store: blocks stay where they are.
type rbStore struct{ rb *rebuilder }

func (s rbStore) Put(*block.Block, []byte) (chain.Loc, error) { return s.rb.cur, nil }

func (s rbStore) Get(loc chain.Loc) (*block.Block, error) {
	line, err := s.rb.rd.readLine(loc.Segment, loc.Offset, loc.Length)
	if err != nil {
		return nil, corruptf(segName(loc.Segment), 0, "%v", err)
	}
	b, err := parseBlock(s.rb.p.Hash(), line)
	if err != nil {
		return nil, corruptf(segName(loc.Segment), 0, "%v", err)
	}
	return b, nil
}

func newRebuilder(dir string, p *params.Params) *rebuilder {
	rb := &rebuilder{dir: dir, p: p, now: time.Now().Unix(), rd: newSegReader(dir),
		idx: map[[32]byte]int{}, dup: map[int]bool{}}
	rb.ch = chain.New(p, rbStore{rb})
	return rb
}

// fail stops the rebuild at a bad line: an error naming it, or, when
// salvaging, a note of where the good lines end.
func (rb *rebuilder) fail(b *badSpot, name string, line int, err error) error {
	if rb.salvage {
		b.err = err
		rb.bad = b
		return nil
	}
	return corruptf(name, line, "%v: %s", err, reindexHint)
}

// readSegment returns the bytes of segment n: the plain file, else the
// longest prefix of the sealed one that decompresses, with derr saying why
// it stopped short.
func readSegment(dir string, n uint32, st segState) (data []byte, name string, plain bool, derr, err error) {
	if st.plain {
		data, err = os.ReadFile(filepath.Join(dir, segName(n)))
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			return data, segName(n), true, nil, err
		}
	}
	name = sealedName(n)
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return nil, name, false, nil, err
	}
	defer f.Close()
	zr, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxSegment))
	if err != nil {
		return nil, name, false, fmt.Errorf("does not decompress: %v", err), nil
	}
	defer zr.Close()
	data, derr = io.ReadAll(io.LimitReader(zr, maxSegment))
	if derr != nil {
		derr = fmt.Errorf("does not decompress: %v", derr)
	}
	return data, name, false, derr, nil
}

// run replays the segments.
func (rb *rebuilder) run() error {
	found, maxN, err := findSegments(rb.dir)
	if errors.Is(err, fs.ErrNotExist) {
		found, maxN, err = nil, -1, nil
	}
	if err != nil {
		return err
	}
	rb.maxN = maxN
	for s := int64(0); s <= maxN; s++ {
		seg := uint32(s)
		if rb.limit != nil && seg > rb.limit.seg {
			break
		}
		st, ok := found[seg]
		if !ok {
			return rb.fail(&badSpot{seg: seg, missing: true}, segName(seg), 0, missingErr(seg, uint32(maxN)))
		}
		data, name, plain, derr, err := readSegment(rb.dir, seg, st)
		if err != nil {
			return err
		}
		end := len(data)
		if rb.limit != nil && seg == rb.limit.seg && int(rb.limit.off) < end {
			end = int(rb.limit.off)
		}
		canTear := s == maxN && derr == nil && rb.limit == nil
		off, line := 0, 1
		for off < end {
			spot := &badSpot{seg: seg, off: uint64(off), plain: plain, data: data}
			i := bytes.IndexByte(data[off:end], '\n')
			if i < 0 {
				if canTear {
					rb.torn = &pos{seg, uint64(off)}
					break
				}
				return rb.fail(spot, name, line, errors.New("no newline at the end of the line"))
			}
			raw := data[off : off+i]
			b, err := parseBlock(rb.p.Hash(), raw)
			if err != nil {
				if canTear && off+i+1 == len(data) {
					rb.torn = &pos{seg, uint64(off)}
					break
				}
				return rb.fail(spot, name, line, err)
			}
			rb.cur = chain.Loc{Segment: seg, Offset: uint64(off), Length: uint32(i)}
			res, err := rb.ch.Add(b, raw, rb.now)
			if res == nil {
				return rb.fail(spot, name, line, fmt.Errorf("block %x refused: %w", b.Hash[:8], err))
			}
			for _, h := range res.Invalidated {
				if j, ok := rb.idx[h]; ok {
					rb.recs[j].Invalid = true
				}
			}
			rec := res.Record
			rec.Loc = rb.cur
			if res.Duplicate {
				rb.dup[len(rb.recs)] = true
			} else {
				rb.idx[rec.Hash] = len(rb.recs)
			}
			rb.recs = append(rb.recs, rec)
			off += i + 1
			line++
		}
		if rb.bad != nil || rb.torn != nil {
			break
		}
		if derr != nil && !(rb.limit != nil && seg == rb.limit.seg && end < len(data)) {
			return rb.fail(&badSpot{seg: seg, off: uint64(off), data: data}, name, line, derr)
		}
	}
	return nil
}

// sameRecord compares two records; a repeated line's flag may differ.
func sameRecord(a, b chain.Record, dup bool) bool {
	if dup {
		a.Invalid = b.Invalid
	}
	return a == b
}

// Check verifies the whole directory: every line of every segment parses
// and is intact, every block passes consensus and connects in a fresh
// in-memory chain, and the index, the state file and this Dir's view equal
// what that fresh replay gives. It first catches up (Refresh) and checks the
// blocks up to there. A torn last line, and index records or blocks a
// crashed writer left unfinished, are not problems: Open and the next
// writer deal with them. The first problem is returned as a *CorruptError
// naming the file and line.
func (d *Dir) Check() error {
	if d.w != nil {
		return errors.New("chaindir: Check called inside Write")
	}
	// The state file first: a writer may replace it meanwhile, but only
	// with one at a block stored before it.
	stateData, stateReadErr := os.ReadFile(filepath.Join(d.path, stateFile))
	if _, err := d.Refresh(); err != nil {
		return err
	}
	raw, err := os.ReadFile(filepath.Join(d.path, genesisFile))
	if err != nil {
		return err
	}
	if !bytes.Equal(raw, append(d.p.JSON(), '\n')) {
		return corruptf(genesisFile, 1, "not the canonical genesis line")
	}

	rb := newRebuilder(d.path, d.p)
	defer rb.rd.close()
	end := d.end
	rb.limit = &end
	if err := rb.run(); err != nil {
		return err
	}

	// The view: what Open made of the index and the segments.
	if len(rb.recs) != len(d.recs) {
		return corruptf(indexFile, 0, "the directory shows %d blocks, the segments hold %d: %s", len(d.recs), len(rb.recs), reindexHint)
	}
	for i := range rb.recs {
		if !sameRecord(rb.recs[i], d.recs[i], rb.dup[i]) {
			return corruptf(indexFile, 0, "record %d (block %x) differs from a fresh replay: %s", i+1, d.recs[i].Hash[:8], reindexHint)
		}
	}

	// The index file: its good records must be those of the replay.
	data, err := os.ReadFile(filepath.Join(d.path, indexFile))
	if err != nil {
		return corruptf(indexFile, 0, "%v: %s", err, reindexHint)
	}
	if !checkIndexHeader(data, d.genesis) {
		return corruptf(indexFile, 0, "bad header: %s", reindexHint)
	}
	body := data[indexHeader:]
	// A writer killed between storing a block and rewriting the records it
	// invalidated (a failed reorganization) leaves those records marked
	// valid, with the block that condemns them not yet indexed. Open works
	// the flag out again from the unindexed tail and the next writer
	// rewrites it, so while such a tail exists a record that is valid here
	// but invalid in the replay is an unfinished write, not damage.
	unfinished := len(body)/recordSize < len(rb.recs)
	for j := 0; len(body) >= recordSize; j++ {
		r, ok := decodeRecord(body)
		if !ok {
			// A torn tail is fine; a good record after a bad one is not.
			for k := recordSize; k+recordSize <= len(body); k += recordSize {
				if _, ok := decodeRecord(body[k:]); ok {
					return corruptf(indexFile, 0, "record %d is damaged: %s", j+1, reindexHint)
				}
			}
			break
		}
		if j < len(rb.recs) && unfinished && !r.Invalid && rb.recs[j].Invalid {
			r.Invalid = true
		}
		if j < len(rb.recs) && !sameRecord(rb.recs[j], r, rb.dup[j]) {
			return corruptf(indexFile, 0, "record %d (block %x) differs from a fresh replay: %s", j+1, r.Hash[:8], reindexHint)
		}
		body = body[recordSize:]
	}

	want, err := rb.ch.Ledger().MarshalBinary()
	if err != nil {
		return err
	}
	wantTip := rb.ch.Tip().Hash

	// The state file: from its snapshot, the blocks since must give the
	// same ledger as the replay from genesis.
	switch {
	case errors.Is(stateReadErr, fs.ErrNotExist):
	case stateReadErr != nil:
		return stateReadErr
	default:
		tip, height, snap, ok := decodeState(stateData, d.genesis)
		if !ok {
			return corruptf(stateFile, 0, "bad checksum or header: %s", reindexHint)
		}
		led := ledger.New(d.p)
		if err := led.UnmarshalBinary(snap); err != nil {
			return corruptf(stateFile, 0, "%v: %s", err, reindexHint)
		}
		n := rb.ch.Node(tip)
		if n == nil || n.Invalid || n.Height != height || led.Tip() != tip || led.Height() != height {
			return corruptf(stateFile, 0, "at block %x, which is not a valid stored block: %s", tip[:8], reindexHint)
		}
		c := chain.New(d.p, rbStore{rb})
		if err := c.Load(rb.recs, led); err != nil {
			return corruptf(stateFile, 0, "the blocks since it do not connect: %v: %s", err, reindexHint)
		}
		got, err := c.Ledger().MarshalBinary()
		if err != nil {
			return err
		}
		if c.Tip().Hash != wantTip || !bytes.Equal(got, want) {
			return corruptf(stateFile, 0, "balances differ from a replay of the blocks: %s", reindexHint)
		}
	}

	// The view's tip and balances.
	got, err := d.ch.Ledger().MarshalBinary()
	if err != nil {
		return err
	}
	if d.ch.Tip().Hash != wantTip || !bytes.Equal(got, want) {
		return corruptf(indexFile, 0, "the tip or balances differ from a replay of the blocks: %s", reindexHint)
	}

	// mempool.jsonl: transfer lines.
	for i, line := range d.mem {
		if _, err := tx.Parse(line); err != nil {
			return corruptf(mempoolFile, i+1, "%v", err)
		}
	}
	return nil
}

// Reindex rebuilds the derived files (index and state) from the block
// segments alone, validating every block as Check does, under the lock.
// Each is written to a temporary file, fsynced and renamed, so a crash at
// any instant leaves the old file or the new one.
//
// It works on a directory that Open refuses. When a line cannot be used (it
// is damaged, its block is refused, or its segment is missing or does not
// decompress), that line and every line after it are set aside in lost/
// (the lines before stay), so the directory opens again with the chain up to
// there; moved names the files set aside, relative to dir. A torn last line
// is cut, as a writer would.
func Reindex(dir string) (moved []string, err error) {
	raw, err := os.ReadFile(filepath.Join(dir, genesisFile))
	if err != nil {
		return nil, err
	}
	p, err := params.Parse(bytes.TrimSuffix(raw, []byte("\n")))
	if err != nil {
		return nil, corruptf(genesisFile, 1, "%v", err)
	}
	lk, err := lock(filepath.Join(dir, lockName))
	if err != nil {
		return nil, err
	}
	defer lk.unlock()
	if err := checkGenesis(dir, p.Hash()); err != nil {
		return nil, err
	}

	rb := newRebuilder(dir, p)
	defer rb.rd.close()
	rb.salvage = true
	if err := rb.run(); err != nil {
		return nil, err
	}
	if moved, err = rb.setAside(); err != nil {
		return moved, err
	}
	genesis := p.Hash()
	idx := indexHeaderBytes(genesis)
	for i := range rb.recs {
		idx = appendRecord(idx, &rb.recs[i])
	}
	if err := writeAtomic(filepath.Join(dir, indexFile), idx); err != nil {
		return moved, err
	}
	led := rb.ch.Ledger()
	snap, err := led.MarshalBinary()
	if err != nil {
		return moved, err
	}
	return moved, writeAtomic(filepath.Join(dir, stateFile), encodeState(genesis, led.Tip(), led.Height(), snap))
}

// setAside moves what follows the last good line into lost/ and cuts a
// torn last line.
func (rb *rebuilder) setAside() ([]string, error) {
	blocks := filepath.Join(rb.dir, blocksDir)
	if rb.torn != nil {
		if err := truncateSync(filepath.Join(rb.dir, segName(rb.torn.seg)), int64(rb.torn.off)); err != nil {
			return nil, err
		}
	}
	b := rb.bad
	if b == nil {
		return nil, nil
	}
	lost := filepath.Join(rb.dir, lostDir)
	if err := os.MkdirAll(lost, 0o755); err != nil {
		return nil, err
	}
	var moved []string
	move := func(name string) error {
		to := freeName(lost, filepath.Base(name))
		err := os.Rename(filepath.Join(rb.dir, name), to)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err == nil {
			moved = append(moved, filepath.Join(lostDir, filepath.Base(to)))
		}
		return err
	}
	// Later segments first, highest first, so that the segments left are
	// numbered without a gap at every instant.
	for n := rb.maxN; n > int64(b.seg); n-- {
		if err := move(sealedName(uint32(n))); err != nil {
			return moved, err
		}
		if err := move(segName(uint32(n))); err != nil {
			return moved, err
		}
	}
	if err := syncDir(blocks); err != nil {
		return moved, err
	}
	switch {
	case b.missing:
	case b.plain:
		to := freeName(lost, filepath.Base(segName(b.seg)))
		if err := writeAtomic(to, b.data[b.off:]); err != nil {
			return moved, err
		}
		moved = append(moved, filepath.Join(lostDir, filepath.Base(to)))
		if err := truncateSync(filepath.Join(rb.dir, segName(b.seg)), int64(b.off)); err != nil {
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
			if err := writeAtomic(filepath.Join(rb.dir, segName(b.seg)), b.data[:b.off]); err != nil {
				return moved, err
			}
		}
	}
	if err := syncDir(lost); err != nil {
		return moved, err
	}
	return moved, syncDir(blocks)
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

func truncateSync(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
