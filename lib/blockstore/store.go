package blockstore

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/rule"
)

// Options are a Store's settings; a zero field takes its default.
type Options struct {
	// SegmentSize is the size at which a segment is full
	// (DefaultSegmentSize).
	SegmentSize int64
	// StateEveryBlocks and StateEveryTxs say when a writer replaces the
	// state file: once that many blocks, or transfers, were stored since
	// the last one (DefaultStateEveryBlocks, DefaultStateEveryTxs). A
	// writer also replaces it when the composer asks (ForceState), as
	// package node does on Close.
	StateEveryBlocks int
	StateEveryTxs    int
	// StateHeader makes Open read only the header of the state file (the
	// block its ledger is at), not the ledger's bytes, which are most of
	// the time a reader takes to open a large chain: State then returns
	// the snapshot with a nil Ledger, its header unchecked by the file's
	// checksum (which covers the whole file). It is for a reader that
	// needs the tree and the tip alone (package node's NoLedger); a store
	// opened so refuses to write (Begin).
	StateHeader bool
}

// The defaults of Options.
const (
	DefaultStateEveryBlocks = 1000
	DefaultStateEveryTxs    = 10000
)

func (o Options) withDefaults() Options {
	if o.SegmentSize <= 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.StateEveryBlocks <= 0 {
		o.StateEveryBlocks = DefaultStateEveryBlocks
	}
	if o.StateEveryTxs <= 0 {
		o.StateEveryTxs = DefaultStateEveryTxs
	}
	return o
}

// A large state costs a busy writer (cnj-sync catching up) more than its
// blocks do, so a state file that took stateSlow or more to write is
// replaced only once stateShare times as long has passed: state files then
// take at most about a tenth of the writer's time, and opening after a
// crash replays at most that much more.
const (
	stateSlow  = 20 * time.Millisecond
	stateShare = 10
)

// pos is a place in the block segments: the next line starts there.
type pos struct {
	seg uint32
	off uint64
}

// Scanned is a block the store found in the segments beyond the index: a
// writer stored it, then stopped before indexing it, or is about to.
type Scanned struct {
	Rec   Record
	Block *block.Block
	Line  int // 1-based line in its segment
}

// Applier is how the store hands the composer (package node, over package
// chain) a block that another process stored, or that a crashed writer
// left unindexed: it returns the record as the chain took it (the Invalid
// flag is the chain's) and the blocks that the chain found invalid on the
// way, or an error when the chain cannot take it. b is nil for a record
// already marked invalid.
type Applier func(rec Record, b *block.Block) (taken Record, invalidated [][32]byte, err error)

// ErrReload says the directory changed in a way only a fresh open follows:
// a replaced or shortened index file (cnj-chain reindex).
var ErrReload = errors.New("blockstore: the index was replaced: open again")

// Store is the block store of a chain directory: the block lines in
// append-only segments, the index of every stored block, the state file.
// It implements package chain's Store (Put, Get) and follows what other
// processes store (Follow). It never judges a block: package chain does,
// and the composer (package node) reports the chain's verdicts back
// (Added, MarkInvalid, SetInvalid) so that the index keeps them.
//
// A Store is not safe for concurrent use, but for Get, Line, LinePart
// and SealedFrame, which may run in several goroutines between the calls
// that change it.
type Store struct {
	dir     chaindir.Dir
	genesis [32]byte
	o       Options
	segs    *segReader

	recs     []Record         // every stored block, in arrival order
	byHash   map[[32]byte]int // first record of a hash, once a write needs it (hashIndex)
	nsegs    int              // segments blocks/000000 .. nsegs-1 exist
	sealed   []bool           // per listed segment: a .jsonl.zst exists
	end      pos              // end of the last stored line
	torn     bool             // the last segment holds a torn line after end
	seenSize int64            // size of segment end.seg when last looked at
	cleaned  bool             // a write removed crash leftovers
	tail     []Scanned        // found by Open beyond the index, not yet applied

	idxStamp chaindir.Stamp // the index file as last read or written
	idxHdr   bool           // the index file exists with a good header
	idxGood  int            // leading records of the index file that equal recs
	idxBad   bool           // the index file needs repair beyond idxGood
	idxFlags []int          // records whose flags changed since the index was written

	stateRaw    []byte // the state file as read by Open, until State
	stateSize   int64  // its size (Options.StateHeader: stateRaw is its header)
	stateHeight uint64 // height of the state file's ledger
	stateErr    error  // why the state file was not used, nil if it was
	blocksSince int    // blocks stored since the state file
	txsSince    int
	stateAt     time.Time     // when this process last wrote the state file
	stateTook   time.Duration // and how long that took
	forceState  bool          // write the state at the end of the next write

	undo *undoLog // the undo file as read back so far

	lock *chaindir.Lock
	w    *session // during a write
}

// Init writes the empty index of a new directory (chaindir.CreateOptions'
// Init).
func Init(genesis [32]byte) func(chaindir.Dir) error {
	return func(d chaindir.Dir) error {
		return chaindir.WriteAtomic(d.File(chaindir.IndexFile), indexHeaderBytes(genesis))
	}
}

// Open reads the index and the state file of the directory, and the
// segments beyond the index, recovering in memory from a crashed writer
// (see the package documentation). It takes no lock. The composer then
// builds its chain from Records and State, and calls ApplyTail.
func Open(d chaindir.Dir, genesis [32]byte, o Options) (*Store, error) {
	s := &Store{dir: d, genesis: genesis, o: o.withDefaults(), segs: newSegReader(d), lock: d.NewLock(), undo: newUndoLog(d, genesis)}
	if err := s.load(); err != nil {
		s.segs.close()
		return nil, err
	}
	return s, nil
}

// Dir returns the chain directory.
func (s *Store) Dir() chaindir.Dir { return s.dir }

// Close releases the Store's files.
func (s *Store) Close() error {
	err := s.segs.close()
	s.lock.Close()
	return err
}

// reset forgets everything read from the directory.
func (s *Store) reset() {
	s.segs.close()
	*s = Store{dir: s.dir, genesis: s.genesis, o: s.o, segs: s.segs, w: s.w, lock: s.lock,
		forceState: s.forceState, stateAt: s.stateAt, stateTook: s.stateTook, undo: newUndoLog(s.dir, s.genesis)}
}

// Reload reads the directory again from scratch, as Open does; the
// composer then builds its chain anew and calls ApplyTail.
func (s *Store) Reload() error {
	s.reset()
	return s.load()
}

// load reads the directory into s.
func (s *Store) load() error {
	if err := s.list(); err != nil {
		return err
	}
	if err := CheckGenesis(s.dir, s.genesis); err != nil {
		return err
	}
	recs, err := s.readIndex()
	if err != nil {
		return err
	}
	s.recs = recs
	s.byHash = nil // built when a write first needs it
	if len(recs) > 0 {
		last := recs[len(recs)-1].Loc
		s.end = pos{last.Segment, last.Offset + uint64(last.Length) + 1}
	}
	if s.tail, err = s.scanTail(); err != nil {
		return err
	}
	s.stateRaw, s.stateErr = nil, nil
	data, size, err := readState(s.dir.File(chaindir.StateFile), s.o.StateHeader)
	switch {
	case errors.Is(err, fs.ErrNotExist): // not an error: a writer will make one
	case err != nil:
		s.stateErr = err
	default:
		s.stateRaw, s.stateSize = data, size
	}
	return nil
}

// State returns the state file's snapshot when it is sound and at a block
// of the index, and nil otherwise (StateError says why). The composer
// checks that the ledger's bytes decode (RefuseState when they do not).
// With Options.StateHeader the snapshot's Ledger is nil.
func (s *Store) State() *Snapshot {
	data := s.stateRaw
	s.stateRaw = nil
	if data == nil {
		return nil
	}
	var snap Snapshot
	var ok bool
	if s.o.StateHeader {
		snap, ok = decodeStateHeader(data, s.stateSize, s.genesis)
	} else {
		snap, ok = decodeState(data, s.genesis)
	}
	if !ok {
		s.stateErr = chaindir.Corruptf(chaindir.StateFile, 0, "bad checksum or header")
		return nil
	}
	if i := s.find(snap.Tip); i < 0 || s.recs[i].Height != snap.Height {
		if snap.Height != 0 || snap.Tip != s.genesis {
			s.stateErr = chaindir.Corruptf(chaindir.StateFile, 0, "at block %x, which the index does not hold", snap.Tip[:8])
			return nil
		}
	}
	return &snap
}

// UseState tells the store which state the composer's chain started from:
// height is the snapshot's, or err says why the snapshot was not used
// (nil snapshot: no state file; the chain replayed from genesis). The
// store counts the blocks since it, to know when the next is due.
func (s *Store) UseState(height uint64, err error) {
	if err != nil {
		s.stateErr = err
		height = 0
	}
	s.stateHeight = height
	s.blocksSince, s.txsSince = 0, 0
	for _, r := range s.recs {
		if r.Height > height {
			s.blocksSince++
			s.txsSince += r.TxCount
		}
	}
}

// StateError says why the state file was not used, nil when it was or
// when there is none.
func (s *Store) StateError() error { return s.stateErr }

// LoadError turns an error of building the chain from the index into the
// directory's error: damage names the index.
func LoadError(err error) error {
	if ce := chaindir.CorruptOf(err); ce != nil {
		return ce
	}
	if rule.CodeOf(err) == rule.Corrupt {
		return chaindir.Corruptf(chaindir.IndexFile, 0, "%v: %s", err, chaindir.ReindexHint)
	}
	return err
}

// ApplyTail hands the blocks Open (or Reload) found beyond the index to
// apply, in order.
func (s *Store) ApplyTail(apply Applier) error {
	tail := s.tail
	s.tail = nil
	_, err := s.applyTail(tail, apply)
	return err
}

// list reads which segments exist.
func (s *Store) list() error {
	segs, err := listSegments(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		segs, err = nil, nil
	}
	if err != nil {
		return err
	}
	s.nsegs = len(segs)
	s.sealed = s.sealed[:0]
	for _, sg := range segs {
		s.sealed = append(s.sealed, sg.sealed)
	}
	return nil
}

// addRec appends a record to the in-memory index.
func (s *Store) addRec(r Record) {
	s.recs = append(s.recs, r)
	s.mapRec(len(s.recs) - 1)
}

// mapRec enters record i of the in-memory index in its map, once there
// is one.
func (s *Store) mapRec(i int) {
	if s.byHash == nil {
		return
	}
	if _, ok := s.byHash[s.recs[i].Hash]; !ok {
		s.byHash[s.recs[i].Hash] = i
	}
}

// hashIndex returns the map from a hash to its first record, building it
// the first time. An open does not build it: on a large chain, a map of
// every block costs a command that only reads (cnj-chain) more than the
// lookups it would save, while a writer needs it for each block it marks
// invalid.
func (s *Store) hashIndex() map[[32]byte]int {
	if s.byHash == nil {
		s.byHash = make(map[[32]byte]int, len(s.recs))
		for i := range s.recs {
			s.mapRec(i)
		}
	}
	return s.byHash
}

// find returns the first record of hash h, or -1: through the map when a
// write built it, else by a scan (once an open: the state's tip).
func (s *Store) find(h [32]byte) int {
	if s.byHash != nil {
		if i, ok := s.byHash[h]; ok {
			return i
		}
		return -1
	}
	for i := range s.recs {
		if s.recs[i].Hash == h {
			return i
		}
	}
	return -1
}

// recAt returns the record of the line at loc. The records are in the
// order of their lines (each line follows the one before it, segment
// after segment: readIndex, scanTail and the writers only append), so a
// binary search finds it, and an open builds no map of every location.
func (s *Store) recAt(loc Loc) (int, bool) {
	i := sort.Search(len(s.recs), func(i int) bool {
		l := s.recs[i].Loc
		return l.Segment > loc.Segment || l.Segment == loc.Segment && l.Offset >= loc.Offset
	})
	return i, i < len(s.recs) && s.recs[i].Loc == loc
}

// segFirst returns the first record of segment seg, if it has one.
func (s *Store) segFirst(seg uint32) (int, bool) {
	i := sort.Search(len(s.recs), func(i int) bool { return s.recs[i].Loc.Segment >= seg })
	return i, i < len(s.recs) && s.recs[i].Loc.Segment == seg
}

// lineOf returns the 1-based line of a stored location in its segment.
func (s *Store) lineOf(loc Loc) int {
	if i, ok := s.recAt(loc); ok {
		f, _ := s.segFirst(loc.Segment)
		return i - f + 1
	}
	return 0
}

// segFile names segment n as it is on disk now: the plain file, or the
// sealed one when only that exists.
func (s *Store) segFile(n uint32) string {
	if _, err := os.Stat(s.dir.File(segName(n))); err != nil {
		if _, err := os.Stat(s.dir.File(sealedName(n))); err == nil {
			return sealedName(n)
		}
	}
	return segName(n)
}

// readIndex reads the index file and returns its leading records that fit
// the segments: each line right after the previous one, inside its segment.
// The rest (a torn or damaged record, records beyond the segments) is
// dropped and marked for repair; the segment tail scan indexes what they
// described.
func (s *Store) readIndex() ([]Record, error) {
	s.idxGood, s.idxBad, s.idxHdr = 0, false, false
	f, err := os.Open(s.dir.File(chaindir.IndexFile))
	if errors.Is(err, fs.ErrNotExist) {
		s.idxBad = true
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// Read a piece at a time into one buffer, not whole: at a million
	// transfers the file is 1.4 MB, and fresh memory is most of what a
	// short-lived reader's open costs (cnj-chain tx).
	r := bufio.NewReaderSize(f, 64<<10)
	var hdr [indexHeader]byte
	k, err := io.ReadFull(r, hdr[:])
	read := int64(k)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	// The stamp's size is what was read: all of the file, as it was then.
	stamp := func() error {
		n, err := io.Copy(io.Discard, r)
		s.idxStamp = chaindir.StampOf(fi)
		s.idxStamp.Size = read + n
		return err
	}
	if !checkIndexHeader(hdr[:k], s.genesis) {
		s.idxBad = true
		return nil, stamp()
	}
	s.idxHdr = true
	recs := make([]Record, 0, max(0, fi.Size()-indexHeader)/recordSize)
	sizes := map[uint32]int64{}
	size := func(seg uint32) (int64, bool) {
		if sz, ok := sizes[seg]; ok {
			return sz, true
		}
		if int(seg) >= s.nsegs {
			return 0, false
		}
		sz, err := s.segs.size(seg)
		if err != nil {
			return 0, false
		}
		sizes[seg] = sz
		return sz, true
	}
	var at pos
	var b [recordSize]byte
	for {
		k, err := io.ReadFull(r, b[:])
		read += int64(k)
		if k < recordSize {
			if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, err
			}
			s.idxBad = k > 0 // a torn record
			break
		}
		rec, ok := decodeRecord(b[:])
		if !ok {
			s.idxBad = true
			break
		}
		l := rec.Loc
		if l.Segment == at.seg+1 && l.Offset == 0 {
			if sz, ok := size(at.seg); !ok || uint64(sz) != at.off {
				s.idxBad = true
				break
			}
		} else if l.Segment != at.seg || l.Offset != at.off {
			s.idxBad = true
			break
		}
		lineEnd := l.Offset + uint64(l.Length) + 1
		if sz, ok := size(l.Segment); !ok || uint64(sz) < lineEnd {
			s.idxBad = true
			break
		}
		recs = append(recs, rec)
		at = pos{l.Segment, lineEnd}
	}
	if err := stamp(); err != nil {
		return nil, err
	}
	s.idxGood = len(recs)
	return recs, nil
}

// scanTail reads the segments from s.end on and returns the complete block
// lines there (a writer stored them, then stopped before indexing them, or
// is about to index them). A last line without a newline, or one that does
// not parse, at the very end of the last segment is torn: never reported
// accepted; it is left for the next writer to cut. Any other bad line is a
// CorruptError. s.end moves past the lines returned.
func (s *Store) scanTail() ([]Scanned, error) {
	s.torn = false
	var out []Scanned
	for seg := s.end.seg; int(seg) < s.nsegs; seg++ {
		off := uint64(0)
		if seg == s.end.seg {
			off = s.end.off
		}
		data, err := s.segs.readFrom(seg, off)
		if errors.Is(err, errShort) {
			return nil, chaindir.Corruptf(s.segFile(seg), 0, "shorter than the blocks it holds: %s", chaindir.ReindexHint)
		}
		if err != nil {
			return nil, err
		}
		last := int(seg) == s.nsegs-1
		line := 1
		if f, ok := s.segFirst(seg); ok {
			line = len(s.recs) - f + 1 // lines of seg already indexed
		}
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				if last {
					s.torn = true
					break
				}
				return nil, chaindir.Corruptf(s.segFile(seg), line, "no newline at the end of a sealed segment: %s", chaindir.ReindexHint)
			}
			b, err := s.parseBlock(data[:i])
			if err != nil {
				if last && i+1 == len(data) {
					s.torn = true
					break
				}
				return nil, chaindir.Corruptf(s.segFile(seg), line, "%v: %s", err, chaindir.ReindexHint)
			}
			out = append(out, Scanned{
				Rec: Record{Hash: b.Hash, PrevHash: b.PrevHash, Height: b.Index, Timestamp: b.Timestamp,
					Target: b.Target, Loc: Loc{Segment: seg, Offset: off, Length: uint32(i)}, TxCount: len(b.Txs)},
				Block: b,
				Line:  line,
			})
			off += uint64(i) + 1
			data = data[i+1:]
			line++
		}
		s.end = pos{seg, off}
		if s.torn {
			break
		}
	}
	return out, nil
}

// applyTail hands blocks found by scanTail to apply.
func (s *Store) applyTail(tail []Scanned, apply Applier) (int, error) {
	n := 0
	for _, sc := range tail {
		rec, inv, err := apply(sc.Rec, sc.Block)
		if err != nil {
			return n, chaindir.Corruptf(segName(sc.Rec.Loc.Segment), sc.Line, "block %x: %v: %s", sc.Rec.Hash[:8], err, chaindir.ReindexHint)
		}
		rec.Loc = sc.Rec.Loc // a duplicate line has its own place
		s.Added(rec, inv)
		n++
	}
	return n, nil
}

// Added records a block that the chain has taken, with the blocks it made
// invalid: the composer calls it for every block the chain took after a
// Put (the store's own Follow and ApplyTail call it themselves).
func (s *Store) Added(rec Record, invalidated [][32]byte) {
	s.MarkInvalid(invalidated)
	s.addRec(rec)
	s.blocksSince++
	s.txsSince += rec.TxCount
}

// MarkInvalid sets the invalid flag of the records of the given blocks;
// the index file is rewritten in place by the next write.
func (s *Store) MarkInvalid(hashes [][32]byte) {
	for _, h := range hashes {
		i, ok := s.hashIndex()[h]
		if !ok || s.recs[i].Invalid {
			continue
		}
		s.recs[i].Invalid = true
		s.idxFlags = append(s.idxFlags, i)
	}
}

// SyncInvalid copies the chain's verdicts into the records: invalid(hash)
// reports whether the chain holds the block as invalid (building the chain
// from the index may find a block invalid that the index did not mark).
func (s *Store) SyncInvalid(invalid func(hash [32]byte) (known, bad bool)) {
	for j := range s.recs {
		if known, bad := invalid(s.recs[j].Hash); known && bad != s.recs[j].Invalid {
			s.recs[j].Invalid = bad
			s.idxFlags = append(s.idxFlags, j)
		}
	}
}

// parseBlock decodes a stored line and checks that it is intact: the hash
// field is the header's hash and the merkle root commits to the
// transactions. Consensus checks are not repeated here.
func (s *Store) parseBlock(line []byte) (*block.Block, error) { return parseBlock(s.genesis, line) }

func parseBlock(genesis [32]byte, line []byte) (*block.Block, error) {
	b, err := block.Parse(line)
	if err != nil {
		return nil, fmt.Errorf("does not parse: %w", err)
	}
	if b.ComputeHash() != b.Hash {
		return nil, fmt.Errorf("block %x: hash field is not the header's hash", b.Hash[:8])
	}
	if block.MerkleRoot(genesis, &b.Reward, b.Txs) != b.MerkleRoot {
		return nil, fmt.Errorf("block %x: transactions do not match the merkle root", b.Hash[:8])
	}
	return b, nil
}

// Records returns the records of every stored block in arrival order (a
// block's place on disk, its transfer count). The caller must not modify
// them.
func (s *Store) Records() []Record { return s.recs }

// Line returns the stored line at loc, as it was accepted, checking only
// that it is whole (length and newline), not that it decodes: for passing
// blocks on to a peer, which checks them all. Get reads a block and
// checks it.
func (s *Store) Line(loc Loc) ([]byte, error) {
	line, err := s.segs.readLine(loc.Segment, loc.Offset, loc.Length)
	if errors.Is(err, errShort) || errors.Is(err, errNoNewline) {
		return nil, chaindir.Corruptf(s.segFile(loc.Segment), s.lineOf(loc), "%v: %s", err, chaindir.ReindexHint)
	}
	return line, err
}

// LinePart returns n bytes of the stored line at loc, from byte off of
// it, reading (and, in a sealed segment, decompressing) no more than the
// frame that holds them. Nothing is checked but that they lie in the
// line: it is for reading one transaction of a block (the caller knows
// where it is, and checks what it reads), not for judging a block.
func (s *Store) LinePart(loc Loc, off, n uint32) ([]byte, error) {
	if uint64(off)+uint64(n) > uint64(loc.Length) {
		return nil, fmt.Errorf("bytes %d to %d of a line of %d", off, uint64(off)+uint64(n), loc.Length)
	}
	buf := make([]byte, n)
	err := s.segs.read(loc.Segment, loc.Offset+uint64(off), buf)
	if errors.Is(err, errShort) {
		return nil, chaindir.Corruptf(s.segFile(loc.Segment), s.lineOf(loc), "%v: %s", err, chaindir.ReindexHint)
	}
	return buf, err
}

// Get reads and checks the block at loc (package chain's Store): it must
// be intact and, when the index holds loc, the block the index names.
func (s *Store) Get(loc Loc) (*block.Block, error) {
	var want *[32]byte
	if i, ok := s.recAt(loc); ok {
		want = &s.recs[i].Hash
	}
	return s.getLine(loc, s.lineOf(loc), want)
}

// getLine reads the block at loc, line lineNo of its segment, and checks
// that it is intact and, when want is set, that it is that block.
func (s *Store) getLine(loc Loc, lineNo int, want *[32]byte) (*block.Block, error) {
	line, err := s.segs.readLine(loc.Segment, loc.Offset, loc.Length)
	if err != nil {
		if errors.Is(err, errShort) || errors.Is(err, errNoNewline) {
			return nil, chaindir.Corruptf(s.segFile(loc.Segment), lineNo, "%v: %s", err, chaindir.ReindexHint)
		}
		return nil, err
	}
	b, err := s.parseBlock(line)
	if err != nil {
		return nil, chaindir.Corruptf(s.segFile(loc.Segment), lineNo, "%v: %s", err, chaindir.ReindexHint)
	}
	if want != nil && *want != b.Hash {
		return nil, chaindir.Corruptf(s.segFile(loc.Segment), lineNo, "holds block %x, the index says %x: %s", b.Hash[:8], want[:8], chaindir.ReindexHint)
	}
	return b, nil
}

// SealedFrame returns sealed segment seg as stored (its frame table,
// then its frames: a zstd stream), read into buf when it fits, when its
// frame table says it holds size bytes of block lines; else nil: the
// segment is not sealed (yet), or holds more than the caller's blocks (a
// side branch's too). It is for passing a whole segment on without
// decompressing it (cnj-serve's chain download): the caller knows from
// the index which blocks, of how many bytes, it wants. Only the table is
// read of a segment that does not match. Sealing writes the file once;
// only cnj-chain reindex moves it aside.
func (s *Store) SealedFrame(seg uint32, size int64, buf []byte) ([]byte, error) {
	path := s.dir.File(sealedName(seg))
	f, _, err := chaindir.OpenStat(path)
	if err != nil || f == nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	t, err := readTable(f, fi.Size())
	if err != nil || tableSize(t) != size {
		return nil, nil
	}
	return chaindir.ReadAllMax(f, path, maxSegment, buf)
}
