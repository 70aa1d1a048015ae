package chainsync

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/hostport"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/webclient"
)

// Options tune Sync and Join. A zero field takes its default.
type Options struct {
	// Peers are the web apps to ask, HOST:PORT (see hostport.Web and hostport.Parse).
	Peers []string
	// Client makes the requests; default webclient.NewHTTP(Timeout).
	Client *http.Client
	// Timeout bounds each small request (tip, block hash, genesis, peers)
	// and the longest silence during a download; default 30 s.
	Timeout time.Duration
	// MinRate, in bytes per second, sets the deadline of a download: the
	// Timeout plus its byte cap at MinRate; default 1 MiB/s.
	MinRate int64
	// Batch and BatchBytes bound one node.Submit: blocks, and bytes of
	// block lines; defaults 500 and 8 MiB.
	Batch      int
	BatchBytes int
	// Parallel is how many peers are asked at once; default 8.
	Parallel int
	// IndexStep is how many transactions the batches of a download add
	// before the transfer index is brought along (node.IndexInSteps;
	// default node.DefaultIndexStep); it reaches the tip at the end of the
	// download.
	IndexStep int
	// Record lists peers file entries (HOST:PORT of relays) to add before
	// those learned from the peers, e.g. the relay of a --from node; they
	// are added only when some peer could be used.
	Record []string
	// Self lists the node's own relay addresses (HOST:PORT): peers list
	// them back, and a node must not record itself as its own peer.
	Self []string
	// KeepPeers leaves the peers file alone.
	KeepPeers bool
	// Progress, when set, is called as blocks are downloaded and verified.
	Progress func(Progress)
	// ProgressRate, ProgressGrace and ProgressWindow set the progress a
	// download must make (webclient.Chain); defaults
	// webclient.DefaultProgressRate, DefaultProgressGrace,
	// DefaultProgressWindow.
	ProgressRate   int64
	ProgressGrace  time.Duration
	ProgressWindow time.Duration
	// PoolPerPeer and PoolPerRun bound the pending transfers taken from
	// the peers' pools (fetchPools): from one peer, and in all, in one
	// run; defaults DefaultPoolPerPeer and DefaultPoolPerRun. NoPool
	// takes none.
	PoolPerPeer int
	PoolPerRun  int
	NoPool      bool
}

// SlowPeer is the reason code of a peer whose download made too little
// progress (webclient.ErrSlow), in rejects.log with the peer's IP; the
// peer is also tried last for a day (chaindir's NoteSlowPeer). Node
// policy, not a consensus rule.
const SlowPeer rule.Code = "slow-peer"

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MinRate <= 0 {
		o.MinRate = 1 << 20
	}
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = 8 << 20
	}
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	if o.PoolPerPeer <= 0 {
		o.PoolPerPeer = DefaultPoolPerPeer
	}
	if o.PoolPerRun <= 0 {
		o.PoolPerRun = DefaultPoolPerRun
	}
	if o.Client == nil {
		o.Client = webclient.NewHTTP(o.Timeout)
	}
	return o
}

func (o Options) client() *webclient.Client {
	return webclient.New(webclient.Config{HTTP: o.Client, Timeout: o.Timeout, MinRate: o.MinRate,
		ProgressRate: o.ProgressRate, ProgressGrace: o.ProgressGrace, ProgressWindow: o.ProgressWindow})
}

// Phase names what a Progress report counts.
type Phase string

// The phases of a sync from one peer.
const (
	Download Phase = "downloading" // block lines received and checked
	Verify   Phase = "verifying"   // blocks judged by node.Submit
)

// Progress is how far the sync from one peer is.
type Progress struct {
	Peer        string
	Phase       Phase
	Done, Total uint64 // blocks
}

// PeerError is what went wrong with one peer: unreachable, or refused
// because of what it served. Nothing it served changed the directory,
// except blocks that were valid (see the package documentation).
type PeerError struct {
	Peer string // HOST:PORT of its web app
	Err  error
}

func (e *PeerError) Error() string { return e.Peer + ": " + e.Err.Error() }
func (e *PeerError) Unwrap() error { return e.Err }

// ErrNoPeer is Sync's error when peers were given and none could be used.
var ErrNoPeer = errors.New("no peer could be used")

// Tip is a chain's last block as a peer's /api/tip reports it, or as the
// local chain has it.
type Tip = webclient.Tip

// Report says what Sync did.
type Report struct {
	Before, After Tip    // the local tip before and after
	From          string // the last peer blocks came from, "" when none
	Blocks        int    // blocks taken from peers (new to the directory)
	Asked, Usable int    // peers asked; peers that answered and were not refused
	Problems      []*PeerError
	AddedPeers    []string // entries added to the peers file
	PoolTxs       int      // pending transfers taken from the peers' pools
}

// localError is a failure of this node (its files), which ends the run,
// as opposed to a peer's.
type localError struct{ err error }

func (e *localError) Error() string { return e.err.Error() }
func (e *localError) Unwrap() error { return e.err }

func local(err error) error {
	if err == nil {
		return nil
	}
	return &localError{err}
}

// peerState is what is known of one peer during a run.
type peerState struct {
	addr string
	i    int // place in Options.Peers
	tip  Tip
	err  error
	// learned are the peer's peers, valid entries only; bad counts the
	// entries that were not HOST:PORT; peersErr is why /api/peers failed
	// (reported, but the peer's chain was fine).
	learned  []string
	bad      int
	peersErr error
	// poolErr is why the peer's pool could not be read (reported, but
	// its chain was fine). Its transfers this node refused are in
	// rejects.log only: honest pools may disagree.
	poolErr error
}

type syncer struct {
	n    *node.Node
	p    *params.Params
	o    Options
	c    *webclient.Client
	rep  *Report
	slow map[string]int64 // the peers found slow lately (chaindir's SlowPeers)
}

// Sync brings the chain directory of n to the valid chain with the most
// work that its peers (o.Peers) hold, then adds the peers they know to its
// peers file. Peers that fail are listed in the Report; the run goes on
// with the others. The error is nil, ErrNoPeer when no peer could be used,
// the context's error, or a local failure (the directory's I/O), which
// stops the run at once. See the package documentation.
func Sync(ctx context.Context, n *node.Node, o Options) (*Report, error) {
	o = o.withDefaults()
	if err := n.Refresh(); err != nil {
		return nil, err
	}
	s := &syncer{n: n, p: n.Params(), o: o, c: o.client(),
		rep: &Report{Before: tipOf(n.Chain().Tip()), Asked: len(o.Peers)}}
	slow, err := n.Dir().SlowPeers(s.now())
	if err != nil {
		return s.rep, err
	}
	s.slow = slow
	peers := s.askAll(ctx, func(ps *peerState) { ps.err = s.ask(ctx, ps) })
	if err := ctx.Err(); err != nil {
		return s.rep, err
	}
	for _, ps := range order(peers, slow) {
		if ps.tip.Work.Cmp(n.Chain().Tip().Work) <= 0 {
			continue
		}
		added, err := s.syncFrom(ctx, ps)
		s.rep.Blocks += added
		if added > 0 {
			s.rep.From = ps.addr
		}
		if err == nil || errors.Is(err, webclient.ErrSlow) {
			if lerr := s.noteSlow(ps, err); lerr != nil {
				return s.end(peers), lerr
			}
		}
		var le *localError
		switch {
		case errors.As(err, &le):
			return s.end(peers), le.err
		case ctx.Err() != nil:
			return s.end(peers), ctx.Err()
		case err != nil:
			ps.err = err
		}
	}
	if err := s.noteTips(peers); err != nil {
		return s.end(peers), err
	}
	if !o.NoPool {
		if err := s.fetchPools(ctx, peers); err != nil {
			return s.end(peers), err
		}
	}
	if !o.KeepPeers {
		if err := s.refreshPeers(ctx, peers); err != nil {
			return s.end(peers), err
		}
		if err := s.seePeers(peers); err != nil {
			return s.end(peers), err
		}
	}
	s.end(peers)
	if len(peers) > 0 && s.rep.Usable == 0 {
		return s.rep, ErrNoPeer
	}
	return s.rep, nil
}

// end fills in the report's summary.
func (s *syncer) end(peers []*peerState) *Report {
	s.rep.After = tipOf(s.n.Chain().Tip())
	s.rep.Usable, s.rep.Problems = 0, nil
	for _, ps := range peers {
		if ps.err != nil {
			s.rep.Problems = append(s.rep.Problems, &PeerError{Peer: ps.addr, Err: ps.err})
			continue
		}
		s.rep.Usable++
		if ps.peersErr != nil {
			s.rep.Problems = append(s.rep.Problems, &PeerError{Peer: ps.addr, Err: ps.peersErr})
		}
		if ps.poolErr != nil {
			s.rep.Problems = append(s.rep.Problems, &PeerError{Peer: ps.addr, Err: fmt.Errorf("its pool: %w", ps.poolErr)})
		}
		if ps.bad > 0 {
			s.rep.Problems = append(s.rep.Problems, &PeerError{Peer: ps.addr,
				Err: fmt.Errorf("/api/peers: %d entries are not HOST:PORT: ignored", ps.bad)})
		}
	}
	return s.rep
}

func tipOf(n *chain.BlockNode) Tip {
	return Tip{Height: n.Height, Hash: n.Hash, Work: new(big.Int).Set(n.Work)}
}

// askAll runs f on every peer, o.Parallel at a time, and returns their
// states in the order of o.Peers.
func (s *syncer) askAll(ctx context.Context, f func(*peerState)) []*peerState {
	peers := make([]*peerState, len(s.o.Peers))
	for i, a := range s.o.Peers {
		peers[i] = &peerState{addr: a, i: i}
	}
	s.each(ctx, peers, f)
	return peers
}

func (s *syncer) each(ctx context.Context, peers []*peerState, f func(*peerState)) {
	sem := make(chan struct{}, s.o.Parallel)
	var wg sync.WaitGroup
	for _, ps := range peers {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f(ps)
		})
	}
	wg.Wait()
}

// ask reads a peer's tip and, when this node does not know the tip, checks
// that the peer is on this network. It only reads the chain (several run
// at once).
func (s *syncer) ask(ctx context.Context, ps *peerState) error {
	t, err := s.c.Tip(ctx, ps.addr)
	if err != nil {
		return err
	}
	ps.tip = t
	if s.n.Chain().Node(t.Hash) != nil {
		return nil
	}
	return s.checkGenesis(ctx, ps.addr)
}

// checkGenesis refuses a peer of another network.
func (s *syncer) checkGenesis(ctx context.Context, addr string) error {
	g, err := s.c.Genesis(ctx, addr)
	if err != nil {
		return err
	}
	if g.Hash() != s.p.Hash() {
		gh, ours := g.Hash(), s.p.Hash()
		return fmt.Errorf("on another network: genesis %x (%s), this node's is %x (%s)", gh[:8], g.Network, ours[:8], s.p.Network)
	}
	return nil
}

// noteSlow records a peer whose download made too little progress (err
// wraps webclient.ErrSlow): in rejects.log with its IP, and in the
// directory's record of slow peers, so that the next runs try it last. A
// peer synced from (err nil) leaves that record.
func (s *syncer) noteSlow(ps *peerState, err error) error {
	d := s.n.Dir()
	if err == nil {
		if _, ok := s.slow[ps.addr]; !ok {
			return nil
		}
		return local(d.NoteSlowPeer(ps.addr, s.now(), false))
	}
	if ip := peerIP(ps.addr); ip.IsValid() {
		r := chaindir.Reject{Time: s.n.Now(), From: ip.String(), Reason: SlowPeer, Msg: err.Error()}
		if err := d.LogReject(r); err != nil {
			return local(err)
		}
	}
	return local(d.NoteSlowPeer(ps.addr, s.now(), true))
}

func (s *syncer) now() time.Time { return time.Unix(s.n.Now(), 0) }

// order returns the peers that answered, best claim first: the most work,
// then, between tips of equal work, the tip the most peers hold (the
// whitepaper's majority breaks the tie), then the order of o.Peers.
// Peers holding the same tip stay together, so that when one of them
// fails the next is tried before a lesser claim. A peer found slow lately
// (slow) comes after the others of its tip, and a tip that only such
// peers hold after every other claim: a peer that claims the most work
// and drips its chain must not hold every run first.
func order(peers []*peerState, slow map[string]int64) []*peerState {
	type group struct {
		work    *big.Int
		members []*peerState
		first   int
		slow    bool // every member is slow
	}
	byTip := map[string]*group{}
	var groups []*group
	for _, ps := range peers {
		if ps.err != nil {
			continue
		}
		key := string(ps.tip.Hash[:]) + ps.tip.Work.Text(16)
		g := byTip[key]
		if g == nil {
			g = &group{work: ps.tip.Work, first: ps.i}
			byTip[key] = g
			groups = append(groups, g)
		}
		g.members = append(g.members, ps)
	}
	for _, g := range groups {
		sort.SliceStable(g.members, func(i, j int) bool {
			_, si := slow[g.members[i].addr]
			_, sj := slow[g.members[j].addr]
			return !si && sj
		})
		_, g.slow = slow[g.members[0].addr]
	}
	sort.SliceStable(groups, func(i, j int) bool {
		a, b := groups[i], groups[j]
		if a.slow != b.slow {
			return !a.slow
		}
		if c := a.work.Cmp(b.work); c != 0 {
			return c > 0
		}
		if len(a.members) != len(b.members) {
			return len(a.members) > len(b.members)
		}
		return a.first < b.first
	})
	var out []*peerState
	for _, g := range groups {
		out = append(out, g.members...)
	}
	return out
}

// syncFrom fetches the peer's chain from the fork point and gives it to the
// node. It returns how many blocks the directory took.
func (s *syncer) syncFrom(ctx context.Context, ps *peerState) (int, error) {
	c := s.n.Chain()
	if nd := c.Node(ps.tip.Hash); nd != nil {
		if nd.Invalid {
			return 0, fmt.Errorf("its tip %x at height %d is a block this node found invalid", ps.tip.Hash[:8], nd.Height)
		}
		return 0, fmt.Errorf("claims work %x for block %x at height %d, which has %x", ps.tip.Work, ps.tip.Hash[:8], nd.Height, nd.Work)
	}
	fork, err := s.forkPoint(ctx, ps)
	if err != nil {
		return 0, err
	}
	if ps.tip.Height <= fork.Height {
		return 0, fmt.Errorf("claims more work than this node, but its chain up to its tip at height %d is this node's", ps.tip.Height)
	}
	st, err := s.download(ctx, ps, fork)
	if err != nil {
		return 0, err
	}
	defer st.f.Close()
	return s.submit(ctx, ps, st)
}

// forkPoint returns the last block of the local main chain that the peer's
// main chain holds too: a binary search with /api/block-height against the
// local main chain, the tip first (catching up costs one request). A peer
// that answers inconsistently only makes the search land on a block that
// its download must then build on.
func (s *syncer) forkPoint(ctx context.Context, ps *peerState) (*chain.BlockNode, error) {
	c := s.n.Chain()
	agree := func(h uint64) (bool, error) {
		if h == 0 {
			return true, nil // the genesis was checked
		}
		hash, err := s.c.BlockHash(ctx, ps.addr, h)
		return hash == c.AtHeight(h).Hash, err
	}
	hi := min(ps.tip.Height, c.Tip().Height)
	ok, err := agree(hi)
	if err != nil || ok {
		return c.AtHeight(hi), err
	}
	lo := uint64(0)
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, err := agree(mid)
		if err != nil {
			return nil, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return c.AtHeight(lo), nil
}

// refreshPeers asks the usable peers for their peers and adds the new ones
// to the peers file (o.Record first), up to chaindir.MaxPeers entries;
// the file is written only when it gains an entry.
func (s *syncer) refreshPeers(ctx context.Context, peers []*peerState) error {
	var usable []*peerState
	for _, ps := range peers {
		if ps.err == nil {
			usable = append(usable, ps)
		}
	}
	s.each(ctx, usable, func(ps *peerState) {
		list, err := s.c.Peers(ctx, ps.addr)
		if err != nil {
			ps.peersErr = err
			return
		}
		for _, e := range list {
			hp, err := hostport.Parse(e, hostport.RelayPort)
			if err != nil {
				ps.bad++
				continue
			}
			if len(ps.learned) < chaindir.MaxPeers {
				ps.learned = append(ps.learned, hp)
			}
		}
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	var learned []string
	if len(usable) > 0 {
		learned = append(learned, s.o.Record...)
	}
	for _, ps := range usable {
		learned = append(learned, ps.learned...)
	}
	if len(learned) == 0 {
		return nil
	}
	learned = slices.DeleteFunc(learned, func(p string) bool { return slices.Contains(s.o.Self, p) })
	added, _, err := s.n.Dir().AddPeers(time.Unix(s.n.Now(), 0), learned...)
	s.rep.AddedPeers = added
	return err
}

// seePeers notes in the peers file's records that the usable peers were
// seen (their web apps answered), so that the entries of live peers do
// not age out (chaindir.PeerExpiry).
// noteTips records the tip each peer of this network claimed (chaindir's
// NotePeerTips), for the web app's peers page: the peers still usable
// after the chain's sync, so that a peer whose chain failed leaves no
// trace but its problem in the report (and rejects.log where it lied).
func (s *syncer) noteTips(peers []*peerState) error {
	now := s.now()
	var tips []chaindir.PeerTip
	for _, ps := range peers {
		if ps.err == nil {
			tips = append(tips, chaindir.PeerTip{Peer: ps.addr, Time: now.Unix(), Height: ps.tip.Height, Hash: ps.tip.Hash})
		}
	}
	return s.n.Dir().NotePeerTips(now, tips...)
}

func (s *syncer) seePeers(peers []*peerState) error {
	var hosts []string
	for _, ps := range peers {
		if ps.err == nil {
			if host, _, err := net.SplitHostPort(ps.addr); err == nil {
				hosts = append(hosts, host)
			}
		}
	}
	return s.n.Dir().SeePeers(time.Unix(s.n.Now(), 0), hosts...)
}
