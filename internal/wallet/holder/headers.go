package holder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"syscall"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/pow"
	"github.com/coniunctum/cnj/lib/webclient"
)

// HeadersFile is the name of the held header chain in a network's data
// directory: the canonical 200-byte headers of blocks 1, 2, ... back to
// back (block 0 is the genesis, which the source gives).
const HeadersFile = "headers"

// MaxStaleFork is how far below its tip a source's chain may leave the
// held one and still be taken for an honest node on a branch it has not
// left yet (blocks found at once, as happens every few blocks on a
// devnet): deeper, a chain with less work than the held one is a lie.
const MaxStaleFork = 6

// Chain is a header chain from the genesis: what the wallet holds, or what
// a source serves. Every header in it has passed consensus.CheckHeader
// against the headers below it: its proof of work, its target (the
// retarget rule of lib/pow, through lib/consensus), its index and time.
type Chain struct {
	p      *params.Params
	hdrs   []block.Header // hdrs[i] is block i+1
	hashes [][32]byte     // hashes[i] is block i; hashes[0] the genesis
	points []pow.Point    // points[i] is block i
	work   []*big.Int     // work[i] is the cumulative work up to block i
}

// NewChain returns the chain of the genesis alone, whose work counts as
// a block's at its target, as the node counts it.
func NewChain(p *params.Params) *Chain {
	return &Chain{p: p, hashes: [][32]byte{p.Hash()},
		points: []pow.Point{{Timestamp: p.Timestamp, Target: p.InitialTarget}}, work: []*big.Int{pow.Work(&p.InitialTarget)}}
}

// Height is the height of the chain's tip.
func (c *Chain) Height() uint64 { return uint64(len(c.hdrs)) }

// Work is the chain's cumulative work.
func (c *Chain) Work() *big.Int { return c.work[len(c.work)-1] }

// Hash returns the hash of the block at height h (h <= Height).
func (c *Chain) Hash(h uint64) [32]byte { return c.hashes[h] }

// Header returns the header of block h, 1 <= h <= Height.
func (c *Chain) Header(h uint64) block.Header { return c.hdrs[h-1] }

// span is how many blocks below a child its check reads.
func (c *Chain) span() int { return max(pow.Needed(consensus.PowParams(c.p)), params.MedianSpan) }

// Append checks h as the next block of the chain, at time now, and adds
// it. The error is consensus's, with its rule code (high-hash,
// bad-target, time-too-old, ...), or says that h does not link.
func (c *Chain) Append(h block.Header, now int64) error {
	parent := c.Height()
	if h.PrevHash != c.hashes[parent] {
		return fmt.Errorf("header %d does not follow block %d (%x)", h.Index, parent, c.hashes[parent][:8])
	}
	b := &block.Block{Header: h, Hash: h.ComputeHash()}
	n := min(len(c.points), c.span())
	ctx := &consensus.Context{Branch: c.points[len(c.points)-n:], ParentIndex: parent, Now: now}
	if err := consensus.CheckHeader(b, ctx, c.p); err != nil {
		return fmt.Errorf("header %d (%x): %w", h.Index, b.Hash[:8], err)
	}
	c.hdrs = append(c.hdrs, h)
	c.hashes = append(c.hashes, b.Hash)
	c.points = append(c.points, pow.Point{Timestamp: h.Timestamp, Target: h.Target})
	c.work = append(c.work, new(big.Int).Add(c.Work(), pow.Work(&h.Target)))
	return nil
}

// cut returns the chain's first blocks up to height h, sharing nothing
// that a later Append of either changes.
func (c *Chain) cut(h uint64) *Chain {
	return &Chain{p: c.p, hdrs: c.hdrs[:h:h], hashes: c.hashes[: h+1 : h+1], points: c.points[: h+1 : h+1], work: c.work[: h+1 : h+1]}
}

// Store is the header chain a wallet holds for one network, in the file
// HeadersFile of dir, locked (flock) from Open to Close so that two
// wallets never write it at once.
type Store struct {
	Chain *Chain
	f     *os.File
}

// OpenStore opens (creating it) the held header chain of network p in
// dir. The headers are checked again as they are read; the file is cut
// after the last that passes (a torn write, a header that no longer
// passes), since the chain is only a cache of what sources prove.
func OpenStore(dir string, p *params.Params, now int64) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, HeadersFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	s := &Store{Chain: NewChain(p), f: f}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	for i := 0; i+block.HeaderSize <= len(data); i += block.HeaderSize {
		h, err := block.DecodeHeader(data[i : i+block.HeaderSize])
		if err != nil || s.Chain.Append(h, now) != nil {
			break
		}
	}
	if int64(len(data)) != int64(s.Chain.Height())*block.HeaderSize {
		if err := s.truncate(s.Chain.Height()); err != nil {
			f.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Store) truncate(h uint64) error {
	if err := s.f.Truncate(int64(h) * block.HeaderSize); err != nil {
		return err
	}
	return s.f.Sync()
}

// Adopt makes c the held chain: it writes the headers above the height
// where c leaves the held chain and syncs the file.
func (s *Store) Adopt(c *Chain) error {
	fork := min(s.Chain.Height(), c.Height())
	for fork > 0 && s.Chain.Hash(fork) != c.Hash(fork) {
		fork--
	}
	if err := s.f.Truncate(int64(fork) * block.HeaderSize); err != nil {
		return err
	}
	buf := make([]byte, 0, (c.Height()-fork)*block.HeaderSize)
	for h := fork + 1; h <= c.Height(); h++ {
		hb := c.hdrs[h-1].Bytes()
		buf = append(buf, hb[:]...)
	}
	if _, err := s.f.WriteAt(buf, int64(fork)*block.HeaderSize); err != nil {
		return err
	}
	if err := s.f.Sync(); err != nil {
		return err
	}
	s.Chain = c
	return nil
}

// Close lets go of the file and its lock.
func (s *Store) Close() error { return s.f.Close() }

// Fetch asks the source at addr for its header chain up to its tip
// (tip, as its /api/tip said): from where it leaves held (found by
// asking its block hashes, going down in doubling steps), every header
// checked as Chain.Append does, in requests of webclient.MaxHeaders. It
// returns the source's chain, sharing held's blocks below the fork, and
// the height it fetched from: the fork, or a little below it. The tip's hash and work must be those of the
// headers served.
func Fetch(ctx context.Context, wc *webclient.Client, addr string, held *Chain, tip webclient.Tip, now int64) (*Chain, uint64, error) {
	fork := min(held.Height(), tip.Height)
	for step := uint64(1); fork > 0; step *= 2 {
		h, err := wc.BlockHash(ctx, addr, fork)
		if err != nil {
			return nil, 0, err
		}
		if h == held.Hash(fork) {
			break
		}
		fork -= min(step, fork)
	}
	c := held.cut(fork)
	for c.Height() < tip.Height {
		n := min(tip.Height-c.Height(), webclient.MaxHeaders)
		hs, err := wc.Headers(ctx, addr, c.Height()+1, int(n))
		if err != nil {
			return nil, 0, err
		}
		if len(hs) == 0 {
			return nil, 0, &Lie{What: fmt.Sprintf("its tip is at height %d, its headers end at %d", tip.Height, c.Height())}
		}
		for _, h := range hs {
			if err := c.Append(h, now); err != nil {
				return nil, 0, &Lie{What: "a header chain that fails its checks: " + err.Error()}
			}
		}
	}
	if c.Hash(c.Height()) != tip.Hash {
		return nil, 0, &Lie{What: fmt.Sprintf("its tip %x is not the last of its headers (%x)", tip.Hash[:8], c.Hash(c.Height()))}
	}
	if c.Work().Cmp(tip.Work) != 0 {
		return nil, 0, &Lie{What: fmt.Sprintf("its tip claims work %x, its headers hold %x", tip.Work, c.Work())}
	}
	return c, fork, nil
}

// Lie is what a source said that its own proofs, or another source's,
// contradict.
type Lie struct{ What string }

func (l *Lie) Error() string { return l.What }

// IsLie reports whether err is a Lie.
func IsLie(err error) bool { var l *Lie; return errors.As(err, &l) }
