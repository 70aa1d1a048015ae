package relay

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/hostport"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/wire"
)

// SendConfig configures Send. Zero limits take the package defaults.
type SendConfig struct {
	Params *params.Params // the network: its genesis hash and line limits
	// Bind is the local address of outgoing connections (the node's own
	// address, so that peers tell nodes on one machine apart); the zero
	// Addr leaves the choice to the system.
	Bind netip.Addr
	// Self is where this node's listener is: announced in each hello and
	// never connected to. The zero value is Bind on DefaultPort, or, with
	// no Bind either, no address (0.0.0.0:5050 in the hello): a sender
	// that is not a node, such as a wallet, which listeners do not record.
	Self netip.AddrPort
	// To are the configured peers (HOST[:PORT]); PeersFile, when set, is
	// a peers file whose addresses are peers too, re-read when it changes.
	To        []string
	PeersFile string
	// Chain is the chain directory where Send writes its counters
	// (relay-send-PID.json); "" writes none.
	Chain string
	// Returned makes Send follow Chain's mempool-events.jsonl and send
	// every transfer a reorganization returns to the pool to every peer,
	// as if newly received, though it sent the line before: the peers
	// that lack it take it, those that hold it pass it over. One sender
	// of a node follows the file (the relay's, not the miner's).
	Returned     bool
	ReturnedPoll time.Duration        // how often; DefaultReturnedPoll
	Logf         func(string, ...any) // one line per call; nil discards

	Queue            int // lines queued per peer
	QueueBytes       int
	StallTimeout     time.Duration
	HandshakeTimeout time.Duration
	DialTimeout      time.Duration
	KeepAlive        time.Duration
	WriteTimeout     time.Duration
	SendBuffer       int // bytes
	BackoffMin       time.Duration
	BackoffMax       time.Duration
	DrainTimeout     time.Duration
	PeersPoll        time.Duration // how often PeersFile is looked at
	// StatsEvery, StatsHeartbeat and StatsStale time the stats file, as
	// DefaultStatsEvery, DefaultStatsHeartbeat and DefaultStatsStale say.
	StatsEvery     time.Duration
	StatsHeartbeat time.Duration
	StatsStale     time.Duration
}

// NotDeliveredError is Send's error when its input ended and some peers
// had not received every line by SendConfig.DrainTimeout.
type NotDeliveredError struct {
	Peers []Undelivered
}

// Undelivered is a peer that missed lines, and why, as far as known.
type Undelivered struct {
	Addr  string
	Lines int
	Err   error // the last connection error, or nil
}

func (e *NotDeliveredError) Error() string {
	var parts []string
	for _, u := range e.Peers {
		s := fmt.Sprintf("%s: %d line", u.Addr, u.Lines)
		if u.Lines != 1 {
			s += "s"
		}
		s += " not delivered"
		if u.Err != nil {
			s += ": " + u.Err.Error()
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// Send keeps a connection to every peer and writes each line of in to all
// of them, until in ends or ctx is done. A line of in is a tx or block line,
// bare or tagged with the IP of the peer it came from (that peer does not
// get it back); a line that does not decode is logged and skipped, a line
// already sent is skipped. At the end of in, Send waits up to
// cfg.DrainTimeout for the queued lines to be written, and returns a *NotDeliveredError for
// the peers that did not get them. When ctx is done it closes every
// connection and returns nil.
func Send(ctx context.Context, cfg SendConfig, in io.Reader) error {
	if cfg.Params == nil {
		return errors.New("relay: send needs network parameters")
	}
	s, err := newSender(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	statsDone := make(chan struct{})
	var sf *statsFile
	if cfg.Chain != "" {
		sf = newStatsFile(cfg.Chain, chaindir.RelaySend, s.logf, statsTimes{s.cfg.StatsEvery, s.cfg.StatsHeartbeat, s.cfg.StatsStale})
		go func() { defer close(statsDone); sf.run(ctx, func() any { return s.stats() }) }()
	} else {
		close(statsDone)
	}
	defer func() {
		cancel()
		s.stopAll()
		<-statsDone
		if sf != nil {
			sf.remove()
		}
	}()
	if cfg.Chain != "" {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.writeDeliveries(ctx) }()
	}
	s.setPeers(nil)
	if cfg.PeersFile != "" {
		s.reloadPeers(true)
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.watchPeers(ctx) }()
	}
	lines := make(chan item, 64)
	if cfg.Returned && cfg.Chain != "" {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.followReturned(ctx, lines) }()
	}
	rerr := make(chan error, 1)
	go func() { rerr <- s.readInput(ctx, in, lines) }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case line := <-lines:
			s.broadcast(line)
			continue
		case err := <-rerr:
			for len(lines) > 0 {
				s.broadcast(<-lines)
			}
			if err != nil {
				return fmt.Errorf("reading the lines: %w", err)
			}
		}
		return s.drain(ctx)
	}
}

type sender struct {
	cfg     SendConfig
	network [32]byte
	maxLine int
	seen    *Seen
	self    string // Self as HOST:PORT, "" when unknown
	logf    func(string, ...any)
	st      sendCounters

	peersStat os.FileInfo // the peers file when last read; used by one goroutine at a time

	mu     sync.Mutex
	peers  map[string]*peer
	closed bool           // stopAll ran: no new peers
	wg     sync.WaitGroup // the peers' goroutines, the watcher, the deliveries' writer

	// delivered are the deliveries not written yet (writeDeliveries).
	deliveredMu sync.Mutex
	delivered   map[netip.Addr]chaindir.Delivered
}

// item is one input line: its JSON, the peer it came from if tagged, and
// whether it is a block; again marks a transfer returned to the pool,
// sent whether or not it was sent before.
type item struct {
	from  netip.Addr
	raw   []byte
	block bool
	again bool
}

// outLine is a line queued for a peer, with its newline.
type outLine struct {
	b     []byte
	block bool
}

func newSender(cfg SendConfig) (*sender, error) {
	cfg.Queue = orDefault(cfg.Queue, DefaultSendQueue)
	cfg.QueueBytes = orDefault(cfg.QueueBytes, DefaultSendQueueBytes)
	cfg.StallTimeout = orDefault(cfg.StallTimeout, DefaultStallTimeout)
	cfg.HandshakeTimeout = orDefault(cfg.HandshakeTimeout, DefaultHandshakeTimeout)
	cfg.DialTimeout = orDefault(cfg.DialTimeout, DefaultDialTimeout)
	cfg.KeepAlive = orDefault(cfg.KeepAlive, DefaultKeepAlive)
	cfg.WriteTimeout = orDefault(cfg.WriteTimeout, DefaultWriteTimeout)
	cfg.SendBuffer = orDefault(cfg.SendBuffer, DefaultSendBuffer)
	cfg.BackoffMin = orDefault(cfg.BackoffMin, DefaultBackoffMin)
	cfg.BackoffMax = orDefault(cfg.BackoffMax, DefaultBackoffMax)
	cfg.DrainTimeout = orDefault(cfg.DrainTimeout, DefaultDrainTimeout)
	cfg.PeersPoll = orDefault(cfg.PeersPoll, DefaultPeersPoll)
	cfg.ReturnedPoll = orDefault(cfg.ReturnedPoll, DefaultReturnedPoll)
	cfg.StatsEvery = orDefault(cfg.StatsEvery, DefaultStatsEvery)
	cfg.StatsHeartbeat = orDefault(cfg.StatsHeartbeat, DefaultStatsHeartbeat)
	cfg.StatsStale = orDefault(cfg.StatsStale, DefaultStatsStale)
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Bind.IsValid() {
		cfg.Bind = cfg.Bind.Unmap()
	}
	if !cfg.Self.IsValid() && cfg.Bind.IsValid() {
		cfg.Self = netip.AddrPortFrom(cfg.Bind, DefaultPort)
	}
	s := &sender{cfg: cfg, network: cfg.Params.Hash(), maxLine: wire.MaxLine(cfg.Params),
		seen: NewSeen(SeenSize), logf: cfg.Logf, peers: map[string]*peer{}, delivered: map[netip.Addr]chaindir.Delivered{}}
	if cfg.Self.IsValid() {
		s.cfg.Self = netip.AddrPortFrom(cfg.Self.Addr().Unmap(), cfg.Self.Port())
		s.self = s.cfg.Self.String()
	}
	s.cfg.To = nil
	for _, t := range cfg.To {
		hp, err := hostport.Parse(t, DefaultPort)
		if err != nil {
			return nil, err
		}
		s.cfg.To = append(s.cfg.To, hp)
	}
	return s, nil
}

// readInput sends the lines of in to lines, skipping those over the cap.
func (s *sender) readInput(ctx context.Context, in io.Reader, lines chan<- item) error {
	br := bufio.NewReaderSize(in, 64<<10)
	for n := 1; ; n++ {
		line, err := readLine(br, s.maxLine)
		switch {
		case errors.Is(err, errTooLong):
			s.st.badLines.Add(1)
			s.logf("input line %d: over %d bytes: skipped", n, s.maxLine)
			for {
				if _, err = br.ReadSlice('\n'); err != bufio.ErrBufferFull {
					break
				}
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			continue
		case err == io.EOF:
			return nil
		case err != nil:
			return err
		}
		if len(line) == 0 {
			continue
		}
		rec, err := wire.Decode(line, s.cfg.Params)
		if err != nil {
			s.st.badLines.Add(1)
			s.logf("input line %d: skipped: %v", n, err)
			continue
		}
		select {
		case lines <- item{from: rec.From.Unmap(), raw: rec.Raw, block: rec.Block != nil}:
		case <-ctx.Done():
			return nil
		}
	}
}

// broadcast queues a line for every peer but the one it came from.
func (s *sender) broadcast(it item) {
	from, raw := it.from, it.raw
	// A returned transfer is news though the seen-set holds it: the peers
	// that lack it (on the winning branch, never sent it) must get it.
	// The loop stops at the peers: their cnj-verify passes over what they
	// hold, so nothing comes back to be sent again.
	if !s.seen.Add(raw) && !it.again {
		s.st.duplicates.Add(1)
		return
	}
	if from.IsValid() && s.cfg.Chain != "" {
		s.deliveredBy(from, it.block)
	}
	b := make([]byte, len(raw)+1)
	copy(b, raw)
	b[len(raw)] = '\n'
	line := outLine{b, it.block}
	s.mu.Lock()
	peers := make([]*peer, 0, len(s.peers))
	for _, p := range s.peers {
		peers = append(peers, p)
	}
	s.mu.Unlock()
	for _, p := range peers {
		if from.IsValid() && p.remote() == from {
			continue
		}
		p.enqueue(line)
	}
}

// setPeers makes the peer set the configured peers and file, without
// this node itself.
func (s *sender) setPeers(file []string) {
	want := map[string]bool{}
	for _, a := range s.cfg.To {
		want[a] = true
	}
	for _, a := range file {
		if len(want) < chaindir.MaxPeers {
			want[a] = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	for a := range want {
		if a == s.self || s.peers[a] != nil {
			continue
		}
		p := newPeer(s, a)
		s.peers[a] = p
		s.wg.Add(1)
		go func() { defer s.wg.Done(); p.run() }()
	}
	for a, p := range s.peers {
		if !want[a] {
			s.logf("%s: no longer a peer: disconnected", a)
			p.close()
			delete(s.peers, a)
		}
	}
}

// forget removes a peer that turned out to be this node.
func (s *sender) forget(p *peer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.peers[p.addr] == p {
		delete(s.peers, p.addr)
	}
}

func (s *sender) stopAll() {
	s.mu.Lock()
	peers := s.peers
	s.peers, s.closed = map[string]*peer{}, true
	s.mu.Unlock()
	for _, p := range peers {
		p.close()
	}
	s.wg.Wait() // the watcher and every peer, removed ones too
}

// watchPeers re-reads the peers file when it changes.
func (s *sender) watchPeers(ctx context.Context) {
	t := time.NewTicker(s.cfg.PeersPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.reloadPeers(false)
		}
	}
}

// reloadPeers reads the peers file again if it changed (another file,
// size or modification time) since the last call, or when forced.
func (s *sender) reloadPeers(force bool) {
	fi, err := os.Stat(s.cfg.PeersFile)
	if err != nil {
		fi = nil
	}
	last := s.peersStat
	same := fi == nil && last == nil ||
		fi != nil && last != nil && os.SameFile(fi, last) && fi.Size() == last.Size() && fi.ModTime().Equal(last.ModTime())
	s.peersStat = fi
	if same && !force {
		return
	}
	peers, bad, err := chaindir.ReadPeersFile(s.cfg.PeersFile)
	if err != nil {
		s.logf("%s: %v", s.cfg.PeersFile, err)
		return
	}
	for _, b := range bad {
		s.logf("%s: %s: skipped", s.cfg.PeersFile, b)
	}
	s.setPeers(peers)
}

// drain waits for the queued lines to be written, or for the peers that
// cannot take them to have failed, at most cfg.DrainTimeout.
func (s *sender) drain(ctx context.Context) error {
	deadline := time.Now().Add(s.cfg.DrainTimeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		busy := false
		s.mu.Lock()
		for _, p := range s.peers {
			if p.busy() {
				busy = true
				break
			}
		}
		s.mu.Unlock()
		if !busy {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	var e NotDeliveredError
	s.mu.Lock()
	for _, p := range s.peers {
		if n, err := p.left(); n > 0 {
			e.Peers = append(e.Peers, Undelivered{Addr: p.addr, Lines: n, Err: err})
		}
	}
	s.mu.Unlock()
	if len(e.Peers) > 0 {
		return &e
	}
	return nil
}

// deliveredBy notes that the peer at from delivered a line of the input:
// in a validator's pipeline, a line that came out of cnj-verify, valid and
// new to the node, tagged with the IP it came from.
func (s *sender) deliveredBy(from netip.Addr, block bool) {
	now := time.Now().Unix()
	s.deliveredMu.Lock()
	defer s.deliveredMu.Unlock()
	e := s.delivered[from]
	e.IP = from
	if block {
		e.Block = now
	} else {
		e.Tx = now
	}
	if len(s.delivered) < chaindir.MaxDelivered || s.delivered[from] != (chaindir.Delivered{}) {
		s.delivered[from] = e
	}
}

// writeDeliveries adds the deliveries noted to the chain directory's
// relay-delivered.jsonl, for the listener (slots.go, record.go), at most
// every DeliveredEvery and once more when ctx is done.
func (s *sender) writeDeliveries(ctx context.Context) {
	t := time.NewTicker(DeliveredEvery)
	defer t.Stop()
	for {
		done := false
		select {
		case <-ctx.Done():
			done = true
		case <-t.C:
		}
		s.deliveredMu.Lock()
		ds := make([]chaindir.Delivered, 0, len(s.delivered))
		for _, e := range s.delivered {
			ds = append(ds, e)
		}
		clear(s.delivered)
		s.deliveredMu.Unlock()
		if len(ds) > 0 {
			if err := chaindir.Dir(s.cfg.Chain).MergeDelivered(ds, time.Now()); err != nil {
				s.logf("%s: %v", chaindir.DeliveredFile, err)
			}
		}
		if done {
			return
		}
	}
}
