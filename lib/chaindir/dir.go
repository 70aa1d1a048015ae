package chaindir

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/ledger"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/klauspost/compress/zstd"
)

// File names inside a chain directory.
const (
	genesisFile = "genesis.json"
	lockName    = "LOCK"
	indexFile   = "index"
	stateFile   = "state"
	mempoolFile = "mempool.jsonl"
)

// StateEveryBlocks and StateEveryTxs say when a writer replaces the state
// file: once that many blocks, or transfers, were stored since the last one.
// A writer also replaces it on Close.
//
// A large state costs a busy writer (cnj-sync catching up) more than its
// blocks do, so a state file that took stateSlow or more to write is
// replaced only once stateShare times as long has passed: state files then
// take at most about a tenth of the writer's time, and opening after a
// crash replays at most that much more.
var (
	StateEveryBlocks = 1000
	StateEveryTxs    = 10000
)

const (
	stateSlow  = 20 * time.Millisecond
	stateShare = 10
)

// pos is a place in the block segments: the next line starts there.
type pos struct {
	seg uint32
	off uint64
}

// Dir is an open chain directory: the block tree and the ledger at its best
// tip (Chain), kept up to date with what other processes write (Refresh),
// and the way to write (Write).
//
// A Dir is not safe for concurrent use: Refresh, Write, Reindex, Check and
// Close need the Dir to themselves. Between them, read-only use of Chain()
// (which reads blocks through the Dir) may run in several goroutines.
type Dir struct {
	path    string
	p       *params.Params
	genesis [32]byte
	ch      *chain.Chain
	segs    *segReader

	recs     []chain.Record   // every stored block, in arrival order
	byHash   map[[32]byte]int // first record of a hash
	byLoc    map[chain.Loc]int
	segFirst map[uint32]int // first record of each segment
	nsegs    int            // segments blocks/000000 .. nsegs-1 exist
	sealed   []bool         // per listed segment: a .jsonl.zst exists
	end      pos            // end of the last stored line
	torn     bool           // the last segment holds a torn line after end
	seenSize int64          // size of segment end.seg when last looked at
	cleaned  bool           // a Write removed crash leftovers

	idxID    fileID // the index file as last read or written
	idxHdr   bool   // the index file exists with a good header
	idxGood  int    // leading records of the index file that equal recs
	idxBad   bool   // the index file needs repair beyond idxGood
	idxFlags []int  // records whose flags changed since the index was written

	stateHeight uint64 // height of the state file's ledger
	stateErr    error  // why the state file was not used, nil if it was
	blocksSince int    // blocks stored since the state file
	txsSince    int
	stateAt     time.Time     // when this process last wrote the state file
	stateTook   time.Duration // and how long that took

	mem   [][]byte
	memID fileID

	w     *Writer // during Write
	wrote bool    // a Write stored something: Close writes the state

	lk   *os.File // the LOCK file, kept open by lockDir
	lkFd int
}

// store is the chain.Store of a Dir.
type store struct{ d *Dir }

func (s store) Put(b *block.Block, line []byte) (chain.Loc, error) {
	if s.d.w == nil {
		return chain.Loc{}, errors.New("chaindir: block stored outside Dir.Write")
	}
	return s.d.w.put(b, line)
}

func (s store) Get(loc chain.Loc) (*block.Block, error) { return s.d.get(loc) }

// Create makes a new chain directory for the network p: genesis.json,
// blocks/, an empty index, LOCK. It refuses a directory that exists and is
// not empty.
func Create(dir string, p *params.Params) error {
	ents, err := os.ReadDir(dir)
	switch {
	case err == nil && len(ents) > 0:
		return fmt.Errorf("%s exists and is not empty", dir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, blocksDir), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, lockName), nil, 0o644); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, indexFile), indexHeaderBytes(p.Hash())); err != nil {
		return err
	}
	if err := syncDir(filepath.Join(dir, blocksDir)); err != nil {
		return err
	}
	// genesis.json last: a directory without it is not a chain directory.
	if err := writeAtomic(filepath.Join(dir, genesisFile), append(p.JSON(), '\n')); err != nil {
		return err
	}
	return syncDir(filepath.Dir(filepath.Clean(dir)))
}

// Open opens the chain directory for reading, without the lock: it reads
// the genesis, the index and the state, recovers in memory from a crash of
// a writer (see the package documentation), and brings the chain to its
// best tip. Damage that the derived files cannot explain is a
// *CorruptError naming the file and line.
func Open(dir string) (*Dir, error) {
	line, err := os.ReadFile(filepath.Join(dir, genesisFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is not a chain directory: no %s", dir, genesisFile)
	}
	if err != nil {
		return nil, err
	}
	p, err := params.Parse(bytes.TrimSuffix(line, []byte("\n")))
	if err != nil {
		return nil, corruptf(genesisFile, 1, "%v", err)
	}
	d := &Dir{path: dir, p: p, genesis: p.Hash(), segs: newSegReader(dir)}
	if err := d.load(); err != nil {
		d.segs.close()
		return nil, err
	}
	return d, nil
}

// Path returns the directory.
func (d *Dir) Path() string { return d.path }

// Params returns the network's parameters, from genesis.json.
func (d *Dir) Params() *params.Params { return d.p }

// Chain returns the block tree and the ledger at its best tip. Refresh and
// Write may replace it: fetch it again after them.
func (d *Dir) Chain() *chain.Chain { return d.ch }

// Mempool returns the lines of mempool.jsonl as last read or written
// (complete lines only). The caller must not modify them.
func (d *Dir) Mempool() [][]byte { return d.mem }

// Close releases the Dir. A Dir that stored blocks writes the state file
// first (under the lock), so that the next Open connects no block.
func (d *Dir) Close() error {
	var err error
	if d.wrote && (d.blocksSince > 0 || d.txsSince > 0) {
		err = d.Write(func(w *Writer) error { w.saveState = true; return nil })
	}
	if cerr := d.segs.close(); err == nil {
		err = cerr
	}
	d.closeLock()
	return err
}

// reset forgets everything read from the directory.
func (d *Dir) reset() {
	d.segs.close()
	*d = Dir{path: d.path, p: d.p, genesis: d.genesis, segs: d.segs, w: d.w, wrote: d.wrote, lk: d.lk, lkFd: d.lkFd}
}

// load reads the directory from scratch into d.
func (d *Dir) load() error {
	d.byHash = map[[32]byte]int{}
	d.byLoc = map[chain.Loc]int{}
	d.segFirst = map[uint32]int{}
	if err := d.list(); err != nil {
		return err
	}
	if err := checkGenesis(d.path, d.genesis); err != nil {
		return err
	}

	recs, err := d.readIndex()
	if err != nil {
		return err
	}
	for _, r := range recs {
		d.addRec(r)
	}
	if len(recs) > 0 {
		last := recs[len(recs)-1].Loc
		d.end = pos{last.Segment, last.Offset + uint64(last.Length) + 1}
	}
	tail, err := d.scanTail()
	if err != nil {
		return err
	}

	d.ch = chain.New(d.p, store{d})
	led := d.readState()
	if err := d.ch.Load(recs, led); err != nil {
		if led == nil || corruptOf(err) != nil {
			return d.loadErr(err)
		}
		// A snapshot that does not fit: replay from genesis.
		d.stateErr = fmt.Errorf("%s: %v", stateFile, err)
		d.ch = chain.New(d.p, store{d})
		if err := d.ch.Load(recs, nil); err != nil {
			return d.loadErr(err)
		}
	}
	for _, r := range d.recs {
		if r.Height > d.stateHeight {
			d.blocksSince++
			d.txsSince += r.TxCount
		}
	}
	d.syncFlags(0)
	if _, err := d.applyTail(tail); err != nil {
		return err
	}
	return d.readMempool(true)
}

// loadErr turns an error of chain.Load into the directory's error.
func (d *Dir) loadErr(err error) error {
	if ce := corruptOf(err); ce != nil {
		return ce
	}
	if rule.CodeOf(err) == rule.Corrupt {
		return corruptf(indexFile, 0, "%v: %s", err, reindexHint)
	}
	return err
}

func corruptOf(err error) *CorruptError {
	var ce *CorruptError
	if errors.As(err, &ce) {
		return ce
	}
	return nil
}

// list reads which segments exist.
func (d *Dir) list() error {
	segs, err := listSegments(d.path)
	if errors.Is(err, fs.ErrNotExist) {
		segs, err = nil, nil
	}
	if err != nil {
		return err
	}
	d.nsegs = len(segs)
	d.sealed = d.sealed[:0]
	for _, s := range segs {
		d.sealed = append(d.sealed, s.sealed)
	}
	return nil
}

// addRec appends a record to the in-memory index.
func (d *Dir) addRec(r chain.Record) {
	i := len(d.recs)
	d.recs = append(d.recs, r)
	if _, ok := d.byHash[r.Hash]; !ok {
		d.byHash[r.Hash] = i
	}
	d.byLoc[r.Loc] = i
	if _, ok := d.segFirst[r.Loc.Segment]; !ok {
		d.segFirst[r.Loc.Segment] = i
	}
}

// lineOf returns the 1-based line of a stored location in its segment.
func (d *Dir) lineOf(loc chain.Loc) int {
	if i, ok := d.byLoc[loc]; ok {
		return i - d.segFirst[loc.Segment] + 1
	}
	return 0
}

// segFile names segment n as it is on disk now: the plain file, or the
// sealed one when only that exists.
func (d *Dir) segFile(n uint32) string {
	if _, err := os.Stat(filepath.Join(d.path, segName(n))); err != nil {
		if _, err := os.Stat(filepath.Join(d.path, sealedName(n))); err == nil {
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
func (d *Dir) readIndex() ([]chain.Record, error) {
	d.idxGood, d.idxBad, d.idxHdr = 0, false, false
	data, id, err := readFileID(filepath.Join(d.path, indexFile))
	if errors.Is(err, fs.ErrNotExist) {
		d.idxBad = true
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d.idxID = id
	if !checkIndexHeader(data, d.genesis) {
		d.idxBad = true
		return nil, nil
	}
	d.idxHdr = true
	body := data[indexHeader:]
	recs := make([]chain.Record, 0, len(body)/recordSize)
	sizes := map[uint32]int64{}
	size := func(seg uint32) (int64, bool) {
		if s, ok := sizes[seg]; ok {
			return s, true
		}
		if int(seg) >= d.nsegs {
			return 0, false
		}
		s, _, err := segSize(d.path, seg)
		if err != nil {
			return 0, false
		}
		sizes[seg] = s
		return s, true
	}
	var at pos
	for len(body) >= recordSize {
		r, ok := decodeRecord(body)
		if !ok {
			break
		}
		l := r.Loc
		if l.Segment == at.seg+1 && l.Offset == 0 {
			if s, ok := size(at.seg); !ok || uint64(s) != at.off {
				break
			}
		} else if l.Segment != at.seg || l.Offset != at.off {
			break
		}
		lineEnd := l.Offset + uint64(l.Length) + 1
		if s, ok := size(l.Segment); !ok || uint64(s) < lineEnd {
			break
		}
		recs = append(recs, r)
		at = pos{l.Segment, lineEnd}
		body = body[recordSize:]
	}
	d.idxGood = len(recs)
	d.idxBad = len(body) > 0
	return recs, nil
}

// readState loads the state file's ledger when it is sound and at a block
// of the index; otherwise it notes why in stateErr and returns nil.
func (d *Dir) readState() *ledger.Ledger {
	d.stateHeight, d.stateErr = 0, nil
	data, err := os.ReadFile(filepath.Join(d.path, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // not an error: a writer will make one
	}
	if err != nil {
		d.stateErr = err
		return nil
	}
	tip, height, snap, ok := decodeState(data, d.genesis)
	if !ok {
		d.stateErr = corruptf(stateFile, 0, "bad checksum or header")
		return nil
	}
	led := ledger.New(d.p)
	if err := led.UnmarshalBinary(snap); err != nil {
		d.stateErr = corruptf(stateFile, 0, "%v", err)
		return nil
	}
	if led.Tip() != tip || led.Height() != height {
		d.stateErr = corruptf(stateFile, 0, "header and snapshot disagree")
		return nil
	}
	if i, ok := d.byHash[tip]; !ok || d.recs[i].Height != height {
		if height != 0 || tip != d.genesis {
			d.stateErr = corruptf(stateFile, 0, "at block %x, which the index does not hold", tip[:8])
			return nil
		}
	}
	d.stateHeight = height
	return led
}

// scanned is a block found in a segment beyond the index.
type scanned struct {
	rec  chain.Record
	b    *block.Block
	line int
}

// scanTail reads the segments from d.end on and returns the complete block
// lines there (a writer stored them, then stopped before indexing them, or
// is about to index them). A last line without a newline, or one that does
// not parse, at the very end of the last segment is torn: never reported
// accepted; it is left for the next writer to cut. Any other bad line is a
// CorruptError. d.end moves past the lines returned.
func (d *Dir) scanTail() ([]scanned, error) {
	d.torn = false
	var out []scanned
	for seg := d.end.seg; int(seg) < d.nsegs; seg++ {
		off := uint64(0)
		if seg == d.end.seg {
			off = d.end.off
		}
		data, err := d.segs.readFrom(seg, off)
		if errors.Is(err, errShort) {
			return nil, corruptf(d.segFile(seg), 0, "shorter than the blocks it holds: %s", reindexHint)
		}
		if err != nil {
			return nil, err
		}
		last := int(seg) == d.nsegs-1
		line := 1
		if f, ok := d.segFirst[seg]; ok {
			line = len(d.recs) - f + 1 // lines of seg already indexed
		}
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				if last {
					d.torn = true
					break
				}
				return nil, corruptf(d.segFile(seg), line, "no newline at the end of a sealed segment: %s", reindexHint)
			}
			b, err := d.parseBlock(data[:i])
			if err != nil {
				if last && i+1 == len(data) {
					d.torn = true
					break
				}
				return nil, corruptf(d.segFile(seg), line, "%v: %s", err, reindexHint)
			}
			out = append(out, scanned{
				rec: chain.Record{Hash: b.Hash, PrevHash: b.PrevHash, Height: b.Index, Timestamp: b.Timestamp,
					Target: b.Target, Loc: chain.Loc{Segment: seg, Offset: off, Length: uint32(i)}, TxCount: len(b.Txs)},
				b:    b,
				line: line,
			})
			off += uint64(i) + 1
			data = data[i+1:]
			line++
		}
		d.end = pos{seg, off}
		if d.torn {
			break
		}
	}
	return out, nil
}

// applyTail puts blocks found by scanTail on the chain.
func (d *Dir) applyTail(tail []scanned) (int, error) {
	n := 0
	for _, s := range tail {
		res, err := d.ch.Apply(s.rec, s.b)
		if res == nil {
			if err == nil {
				err = errors.New("no result")
			}
			return n, corruptf(segName(s.rec.Loc.Segment), s.line, "block %x: %v: %s", s.rec.Hash[:8], err, reindexHint)
		}
		rec := res.Record
		rec.Loc = s.rec.Loc // a duplicate line has its own place
		d.added(rec, res)
		n++
	}
	return n, nil
}

// added records a block the chain has taken: its record and the records it
// made invalid.
func (d *Dir) added(rec chain.Record, res *chain.Result) {
	d.markInvalid(res.Invalidated)
	d.addRec(rec)
	d.blocksSince++
	d.txsSince += rec.TxCount
}

// markInvalid sets the invalid flag of records the chain invalidated.
func (d *Dir) markInvalid(hashes [][32]byte) {
	for _, h := range hashes {
		i, ok := d.byHash[h]
		if !ok || d.recs[i].Invalid {
			continue
		}
		d.recs[i].Invalid = true
		d.idxFlags = append(d.idxFlags, i)
	}
}

// syncFlags copies the chain's invalid flags into records from i on (Load
// may find a block invalid that the index did not mark).
func (d *Dir) syncFlags(from int) {
	for j := from; j < len(d.recs); j++ {
		n := d.ch.Node(d.recs[j].Hash)
		if n != nil && n.Invalid != d.recs[j].Invalid {
			d.recs[j].Invalid = n.Invalid
			d.idxFlags = append(d.idxFlags, j)
		}
	}
}

// parseBlock decodes a stored line and checks that it is intact: the hash
// field is the header's hash and the merkle root commits to the
// transactions. Consensus checks are not repeated here.
func (d *Dir) parseBlock(line []byte) (*block.Block, error) { return parseBlock(d.genesis, line) }

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

// Line returns the stored line of block n of the chain, as it was
// accepted, checking only that it is whole (length and newline), not that
// it decodes to n: for passing blocks on to a peer, which checks them all.
// chain.Chain.Block reads a block and checks it.
func (d *Dir) Line(n *chain.BlockNode) ([]byte, error) {
	if n.Parent == nil {
		return nil, errors.New("chaindir: genesis has no block line")
	}
	line, err := d.segs.readLine(n.Loc.Segment, n.Loc.Offset, n.Loc.Length)
	if errors.Is(err, errShort) || errors.Is(err, errNoNewline) {
		return nil, corruptf(d.segFile(n.Loc.Segment), d.lineOf(n.Loc), "%v: %s", err, reindexHint)
	}
	return line, err
}

// SealedFrame returns sealed segment seg as stored, one zstd frame, read
// into buf when it fits, when its frame header says it holds size bytes of
// block lines; else nil: the segment is not sealed (yet), or holds more
// than the caller's blocks (a side branch's too). It is for passing a
// whole segment on without decompressing it (cnj-serve's chain download):
// the caller knows from the index which blocks, of how many bytes, it
// wants. Only the header is read of a segment that does not match.
// Sealing writes the file once; only cnj-chain reindex moves it aside.
func (d *Dir) SealedFrame(seg uint32, size int64, buf []byte) ([]byte, error) {
	path := filepath.Join(d.path, sealedName(seg))
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var hdr [zstd.HeaderMaxSize]byte
	k, err := f.ReadAt(hdr[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	var h zstd.Header
	if h.Decode(hdr[:k]) != nil || !h.HasFCS || h.FrameContentSize != uint64(size) {
		return nil, nil
	}
	return readAllMax(f, path, maxSegment, buf)
}

// get reads and checks the block at loc (Store.Get).
func (d *Dir) get(loc chain.Loc) (*block.Block, error) {
	var want *[32]byte
	if i, ok := d.byLoc[loc]; ok {
		want = &d.recs[i].Hash
	}
	return d.getLine(loc, d.lineOf(loc), want)
}

// getLine reads the block at loc, line lineNo of its segment, and checks
// that it is intact and, when want is set, that it is that block.
func (d *Dir) getLine(loc chain.Loc, lineNo int, want *[32]byte) (*block.Block, error) {
	line, err := d.segs.readLine(loc.Segment, loc.Offset, loc.Length)
	if err != nil {
		if errors.Is(err, errShort) || errors.Is(err, errNoNewline) {
			return nil, corruptf(d.segFile(loc.Segment), lineNo, "%v: %s", err, reindexHint)
		}
		return nil, err
	}
	b, err := d.parseBlock(line)
	if err != nil {
		return nil, corruptf(d.segFile(loc.Segment), lineNo, "%v: %s", err, reindexHint)
	}
	if want != nil && *want != b.Hash {
		return nil, corruptf(d.segFile(loc.Segment), lineNo, "holds block %x, the index says %x: %s", b.Hash[:8], want[:8], reindexHint)
	}
	return b, nil
}

// readFileID reads a whole file and returns its identity as read.
func readFileID(path string) ([]byte, fileID, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fileID{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fileID{}, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fileID{}, err
	}
	id := idOf(fi)
	id.size = int64(len(data))
	return data, id, nil
}
