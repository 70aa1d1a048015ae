package chainsync

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/jsonl"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/pow"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/wire"
)

// staged is a peer's branch, downloaded and checked, in an unlinked file
// of the chain directory: one block line a line, from height from on.
type staged struct {
	f      *os.File
	from   uint64
	blocks uint64
	work   *big.Int // cumulative work at the branch's last block
}

// errLessWork refuses a branch that does not beat the local tip.
var errLessWork = errors.New("less work")

// download fetches the peer's main chain from fork+1 to its claimed tip
// into a stage file, checking on the way what needs no ledger: each line
// is one block of at most the block size limit (its header decoded, the
// JSON of its transactions checked), at the next height, on the previous
// one, with a hash that is its header's and meets its target (not above
// the network's limit). Until the branch's work passes the local
// tip's, each block is also checked in full but for the ledger
// (consensus.CheckHeader against the branch, CheckBody with signatures):
// those are the blocks node.Submit would keep on a side branch, so none of
// them is handed over unless all are sound. The download must hold exactly
// the heights asked for, and the branch must end with more work than the
// local tip. Any failure leaves the directory as it was.
func (s *syncer) download(ctx context.Context, ps *peerState, fork *chain.BlockNode) (*staged, error) {
	c := s.n.Chain()
	from, to := fork.Height+1, ps.tip.Height
	want := to - from + 1
	maxLine := int(s.p.MaxBlockBytes)
	limit := int64(math.MaxInt64)
	if want < uint64(math.MaxInt64/(maxLine+1)) {
		limit = int64(want) * int64(maxLine+1)
	}
	body, err := s.c.Chain(ctx, ps.addr, from, to, limit)
	if err != nil {
		return nil, err
	}
	defer body.Close()

	f, err := s.n.Dir().CreateStaging()
	if err != nil {
		return nil, local(err)
	}
	st := &staged{f: f, from: from}
	ok := false
	defer func() {
		if !ok {
			f.Close()
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)

	localWork := c.Tip().Work
	work := new(big.Int).Set(fork.Work)
	prev, height := fork.Hash, fork.Height
	// The branch's last blocks, for checking headers in full (the retarget
	// and the median time past read at most span of them).
	span := max(pow.Needed(consensus.PowParams(s.p)), params.MedianSpan)
	points := c.Context(fork, s.n.Now()).Branch
	full := fork != c.Tip() // a side branch until its work passes ours

	r := jsonl.NewReader(body, maxLine)
	report := s.progress(ps.addr, Download, want)
	// The lines come in batches, decoded and their proofs (and, while the
	// branch is a side branch, their bodies) checked on every core; then
	// each is checked against the one before, in order.
	for {
		batch, readErr := s.readLines(r)
		blocks := s.decode(batch, full)
		for i, line := range batch {
			if height == to {
				return nil, fmt.Errorf("/api/chain: more than the %d blocks asked for", want)
			}
			n, b := line.n, blocks[i]
			if b.err != nil {
				return nil, fmt.Errorf("/api/chain line %d: %w", n, b.err)
			}
			if err := s.checkLink(b.b, prev, height); err != nil {
				return nil, fmt.Errorf("/api/chain line %d: %w", n, err)
			}
			if b.proofErr != nil {
				return nil, fmt.Errorf("/api/chain line %d: %w", n, b.proofErr)
			}
			if full {
				ctx := &consensus.Context{Branch: points, ParentIndex: height, Now: s.n.Now()}
				err := consensus.CheckHeader(b.b, ctx, s.p)
				if err == nil {
					_, err = consensus.CheckBody(b.b, s.p) // prechecked by decode
				}
				if err != nil {
					return nil, fmt.Errorf("block %d (%x): %w", b.b.Index, b.b.Hash[:8], err)
				}
				points = append(points, pow.Point{Timestamp: b.b.Timestamp, Target: b.b.Target})
				if len(points) > 2*span {
					points = append(points[:0:0], points[len(points)-span:]...)
				}
			}
			work.Add(work, pow.Work(&b.b.Target))
			if full && work.Cmp(localWork) > 0 {
				full = false // from here on the blocks extend the new tip
			}
			if _, err := w.Write(line.raw); err != nil {
				return nil, local(err)
			}
			if err := w.WriteByte('\n'); err != nil {
				return nil, local(err)
			}
			prev, height = b.b.Hash, b.b.Index
			st.blocks++
		}
		report(st.blocks)
		if readErr == io.EOF {
			break
		}
		if readErr != nil {
			return nil, readErr
		}
	}
	if height != to {
		return nil, fmt.Errorf("/api/chain: cut short: %d of the %d blocks asked for", st.blocks, want)
	}
	if work.Cmp(localWork) <= 0 {
		return nil, fmt.Errorf("its chain has %w than this node's: work %x at height %d (blocks %d to %d downloaded), this node has %x",
			errLessWork, work, height, from, height, localWork)
	}
	if err := w.Flush(); err != nil {
		return nil, local(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, local(err)
	}
	st.work = work
	ok = true
	return st, nil
}

// checkLink checks what a block line of the download must be without any
// context but its parent: the next height on prev, a target within the
// network's limit. Its proof of work is checked by decode.
func (s *syncer) checkLink(b *block.Block, prev [32]byte, height uint64) error {
	if b.Index != height+1 {
		return rule.Errorf(rule.BadIndex, "block %x has index %d, want %d", b.Hash[:8], b.Index, height+1)
	}
	if b.PrevHash != prev {
		return rule.Errorf(rule.UnknownParent, "block %d (%x) builds on %x, not on %x", b.Index, b.Hash[:8], b.PrevHash[:8], prev[:8])
	}
	if bytes.Compare(b.Target[:], s.p.InitialTarget[:]) > 0 {
		return rule.Errorf(rule.BadTarget, "block %d (%x): target %x above the network's limit", b.Index, b.Hash[:8], b.Target[:8])
	}
	return nil
}

// A downloaded line, and its number in the answer.
type rawLine struct {
	raw []byte
	n   int
}

// downloadBatch bounds a batch of downloaded lines: blocks and bytes.
const (
	downloadBatch      = 256
	downloadBatchBytes = 4 << 20
)

// readLines reads the next batch of lines of the download. With the lines
// read before it, it returns io.EOF at the end of the answer, or the error
// that ended it: a line over the limit, a read error, a last line cut
// short.
func (s *syncer) readLines(r *jsonl.Reader) ([]rawLine, error) {
	var batch []rawLine
	size := 0
	for len(batch) < downloadBatch && size < downloadBatchBytes {
		line, err := r.Next()
		if err == io.EOF {
			return batch, io.EOF
		}
		n := r.Line()
		if err != nil {
			if rule.CodeOf(err) != "" {
				return batch, fmt.Errorf("/api/chain line %d: %w", n, err)
			}
			return batch, err
		}
		if r.Torn() {
			return batch, fmt.Errorf("/api/chain: cut short: line %d has no newline", n)
		}
		batch = append(batch, rawLine{bytes.Clone(line), n})
		size += len(line)
	}
	return batch, nil
}

// decoded is a downloaded line decoded, or why it is not a block, and
// whether its proof of work holds.
type decoded struct {
	b        *block.Block
	err      error
	proofErr error
}

// decode decodes a batch of lines and checks each proof of work, on every
// core. Without bodies it decodes headers only (block.ParseHeader: the JSON
// of the transactions is checked, what they hold is decoded once, when the
// blocks are submitted); with bodies it decodes the blocks in full and
// prechecks each body (signatures included: consensus.Precheck), for
// CheckBody to find done.
func (s *syncer) decode(batch []rawLine, bodies bool) []decoded {
	parse := block.ParseHeader
	if bodies {
		parse = block.Parse
	}
	out := make([]decoded, len(batch))
	each(len(batch), func(i int) {
		b, err := parse(batch[i].raw)
		if err != nil {
			out[i].err = err
			return
		}
		out[i].b = b
		out[i].proofErr = consensus.CheckProof(b)
		if bodies && out[i].proofErr == nil {
			consensus.Precheck(b, s.p) // an error is found again by CheckBody
		}
	})
	return out
}

// each runs f(0) ... f(n-1) on every core and waits for them.
func each(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.NumCPU(), n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

// submit hands the staged blocks to the node in batches (node.Submit,
// cnj-verify's path: every rule checked, the chain's fork choice moves the
// tip). It stops at the first block refused, logs it in rejects.log with
// the peer's IP, and returns the number of blocks the directory took.
//
// The work is pipelined: while the node adds one batch under the
// directory's lock, one block at a time, the next batch is read back,
// decoded and prechecked (consensus.Precheck: signatures, form, merkle
// root) on every core, so that Submit is left with what needs the ledger.
// The transfer index is brought along in steps (node.IndexInSteps,
// Options.IndexStep) and reaches the tip before submit returns.
func (s *syncer) submit(ctx context.Context, ps *peerState, st *staged) (accepted int, err error) {
	endSteps := s.n.IndexInSteps(s.o.IndexStep)
	defer func() {
		if eerr := endSteps(); eerr != nil && err == nil {
			err = local(eerr)
		}
	}()
	report := s.progress(ps.addr, Verify, st.blocks)
	report(0)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []node.Item)
	var readErr error
	go func() {
		defer close(batches)
		readErr = s.readBatches(ctx, st, peerIP(ps.addr), batches)
	}()
	done := uint64(0)
	for items := range batches {
		var k int
		k, err = s.take(items)
		accepted += k
		if err != nil {
			break
		}
		done += uint64(len(items))
		report(done)
	}
	cancel()
	for range batches {
		// drain: the reader sees the cancellation and ends
	}
	if err != nil {
		return accepted, err
	}
	return accepted, readErr
}

// take submits one batch and returns how many of its blocks were new to
// the directory. The first block refused is logged and ends the sync.
func (s *syncer) take(items []node.Item) (int, error) {
	vs, err := s.n.Submit(items, false)
	if err != nil {
		return 0, local(err)
	}
	accepted := 0
	for i, v := range vs {
		switch {
		case v.Err != nil:
			if err := s.n.LogReject(items[i], v.Err); err != nil {
				return accepted, local(err)
			}
			b := items[i].Line.Block
			return accepted, fmt.Errorf("block %d (%x) refused: %w", b.Index, b.Hash[:8], v.Err)
		case !v.Known:
			accepted++
		}
	}
	return accepted, nil
}

// readBatches reads the stage file back in batches of at most Options.Batch
// blocks and Options.BatchBytes bytes, decodes and prechecks each batch on
// every core, and sends it on out. It stops at the end of the file, at the
// first error, or when ctx is done.
func (s *syncer) readBatches(ctx context.Context, st *staged, from netip.Addr, out chan<- []node.Item) error {
	r := jsonl.NewReader(st.f, int(s.p.MaxBlockBytes))
	var lines [][]byte
	first, size := 1, 0
	send := func() error {
		if len(lines) == 0 {
			return nil
		}
		items, err := s.prepare(lines, first, from)
		if err != nil {
			return err
		}
		select {
		case out <- items:
		case <-ctx.Done():
			return ctx.Err()
		}
		first += len(lines)
		lines, size = nil, 0
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return local(fmt.Errorf("reading the stage file back: %w", err))
		}
		lines = append(lines, bytes.Clone(line))
		size += len(line)
		if len(lines) >= s.o.Batch || size >= s.o.BatchBytes {
			if err := send(); err != nil {
				return err
			}
		}
	}
	return send()
}

// prepare decodes the block lines of a batch, the first being line first of
// the stage file, and prechecks them on every core. A block that fails its
// precheck is still handed over: Submit refuses it with the same error, and
// submit logs and reports it like any refusal.
func (s *syncer) prepare(lines [][]byte, first int, from netip.Addr) ([]node.Item, error) {
	items := make([]node.Item, len(lines))
	errs := make([]error, len(lines))
	each(len(lines), func(i int) {
		b, err := block.Parse(lines[i])
		if err != nil {
			errs[i] = err
			return
		}
		consensus.Precheck(b, s.p) // an error is found again by Submit
		items[i] = node.Item{Line: &wire.Line{Raw: lines[i], Block: b}, Number: first + i, From: from}
	})
	for i, err := range errs {
		if err != nil {
			return nil, local(fmt.Errorf("reading the stage file back: line %d: %w", first+i, err))
		}
	}
	return items, nil
}

// progress returns a function reporting done of total blocks of a phase.
func (s *syncer) progress(peer string, ph Phase, total uint64) func(done uint64) {
	if s.o.Progress == nil {
		return func(uint64) {}
	}
	return func(done uint64) { s.o.Progress(Progress{Peer: peer, Phase: ph, Done: done, Total: total}) }
}

// peerIP is the IP of a peer's address, for rejects.log (zero for a name).
func peerIP(addr string) netip.Addr {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
