package relay

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/hostport"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/webclient"
	"github.com/coniunctum/cnj/lib/wire"
)

// ListenConfig configures a Listener. Zero limits take the package
// defaults.
type ListenConfig struct {
	Addr   string         // IP:PORT to listen on; "" is every address on DefaultPort
	Params *params.Params // the network: its genesis hash and line limits
	// Chain is the chain directory whose peers file records the peers,
	// whose rejects.log the listener appends to and follows, and where it
	// writes its counters (relay-listen-PID.json); "" for none (then
	// peers are not recorded, the listener's own rejects count directly,
	// and no stats file is written).
	Chain string
	Out   io.Writer            // the tagged lines, for cnj-verify
	Logf  func(string, ...any) // one line per call; nil discards
	Now   func() time.Time     // nil is time.Now
	Bans  *Bans                // nil is NewBans()

	MaxConns         int
	MaxConnsPerIP    int
	MaxConnsPerGroup int // from one netGroup
	// WebPort is the port of the peers' web apps, asked whether a peer
	// is a node of this network before its address is recorded
	// (record.go); 0 is hostport.WebPort.
	WebPort          int
	Rate             float64 // lines per second per peer IP
	Burst            int
	HandshakeTimeout time.Duration
	IdleTimeout      time.Duration
	RejectsPoll      time.Duration // how often rejects.log is looked at
	// StatsEvery, StatsHeartbeat and StatsStale time the stats file, as
	// DefaultStatsEvery, DefaultStatsHeartbeat and DefaultStatsStale say.
	StatsEvery     time.Duration
	StatsHeartbeat time.Duration
	StatsStale     time.Duration
}

// Listener accepts peers and writes every new line they send, tagged with
// the peer's IP, to its Out.
type Listener struct {
	cfg     ListenConfig
	ln      net.Listener
	addr    netip.AddrPort
	network [32]byte
	maxLine int
	seen    *Seen
	bans    *Bans
	out     chan outLineOf
	stats   listenCounters

	// own counts the rejects this listener wrote to rejects.log and
	// struck at once, by sender and reason, until its tail reads them
	// back, so that they are not counted twice.
	ownMu sync.Mutex
	own   map[tailEntry]int

	mu     sync.Mutex
	conns  map[netip.Addr]map[net.Conn]*connInfo
	total  int
	groups map[netip.Prefix]int // connections by netGroup
	limits map[netip.Addr]*limiter
	logged map[string]time.Time
	// What the listener knows of its peers from the chain directory
	// (refreshed as rejects.log is polled): the IPs of the peers file,
	// and the deliveries of each IP (relay-delivered.jsonl).
	listed      map[netip.Addr]bool
	useful      map[netip.Addr]chaindir.Delivered
	peersSt     chaindir.Stamp
	deliveredSt chaindir.Stamp
	// Hello addresses waiting for their peer to prove useful, and the
	// web apps asked (record.go).
	pending map[netip.Addr]helloAddr
	probed  map[netip.Addr]probe
	probing int
	// hellos numbers the hellos in the order they were read; written is
	// the number of the hello each IP's entry was last written from
	// (under peersMu), so that a peer's newest hello wins however its
	// connections' goroutines run.
	hellos  atomic.Uint64
	written map[netip.Addr]uint64

	peersMu sync.Mutex
	wg      sync.WaitGroup
	ctx     context.Context   // Serve's, for the probes
	web     *webclient.Client // asks peers' web apps (record.go)
}

// outLineOf is a tagged line for Out and the peer it came from.
type outLineOf struct {
	ip netip.Addr
	b  []byte
}

// limiter is the rate of one peer IP, in lines and in bytes.
type limiter struct{ lines, bytes *rate.Limiter }

func (l *limiter) wait(ctx context.Context, n int) error {
	if err := l.lines.Wait(ctx); err != nil {
		return err
	}
	return l.bytes.WaitN(ctx, n)
}

// NewListener checks cfg and binds its address.
func NewListener(cfg ListenConfig) (*Listener, error) {
	if cfg.Params == nil || cfg.Out == nil {
		return nil, errors.New("relay: a listener needs network parameters and an output")
	}
	cfg.MaxConns = orDefault(cfg.MaxConns, DefaultMaxConns)
	cfg.MaxConnsPerIP = orDefault(cfg.MaxConnsPerIP, DefaultMaxConnsPerIP)
	cfg.MaxConnsPerGroup = orDefault(cfg.MaxConnsPerGroup, DefaultMaxConnsPerGroup)
	cfg.WebPort = orDefault(cfg.WebPort, hostport.WebPort)
	cfg.Burst = orDefault(cfg.Burst, DefaultBurst)
	cfg.HandshakeTimeout = orDefault(cfg.HandshakeTimeout, DefaultHandshakeTimeout)
	cfg.IdleTimeout = orDefault(cfg.IdleTimeout, DefaultIdleTimeout)
	cfg.RejectsPoll = orDefault(cfg.RejectsPoll, DefaultRejectsPoll)
	cfg.StatsEvery = orDefault(cfg.StatsEvery, DefaultStatsEvery)
	cfg.StatsHeartbeat = orDefault(cfg.StatsHeartbeat, DefaultStatsHeartbeat)
	cfg.StatsStale = orDefault(cfg.StatsStale, DefaultStatsStale)
	if cfg.Rate <= 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Bans == nil {
		cfg.Bans = NewBans()
	}
	if cfg.Addr == "" {
		cfg.Addr = ":" + strconv.Itoa(DefaultPort)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	ap, _ := netip.ParseAddrPort(ln.Addr().String())
	l := &Listener{
		cfg: cfg, ln: ln, network: cfg.Params.Hash(), maxLine: wire.MaxLine(cfg.Params),
		addr: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()),
		seen: NewSeen(SeenSize), bans: cfg.Bans, out: make(chan outLineOf, 1024), own: map[tailEntry]int{},
		conns: map[netip.Addr]map[net.Conn]*connInfo{}, groups: map[netip.Prefix]int{}, limits: map[netip.Addr]*limiter{},
		logged: map[string]time.Time{}, listed: map[netip.Addr]bool{}, useful: map[netip.Addr]chaindir.Delivered{},
		pending: map[netip.Addr]helloAddr{}, probed: map[netip.Addr]probe{}, written: map[netip.Addr]uint64{},
		web: webclient.New(webclient.Config{Timeout: ProbeTimeout}), ctx: context.Background(),
	}
	return l, nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Addr is the address the listener is bound to.
func (l *Listener) Addr() netip.AddrPort { return l.addr }

// Serve accepts peers until ctx is done, then closes every connection and
// returns nil; it returns an error when accepting or writing Out fails.
func (l *Listener) Serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l.ctx = ctx
	werr := make(chan error, 1)
	go func() {
		err := l.writeOut(ctx)
		if err != nil {
			cancel()
		}
		werr <- err
	}()
	var sf *statsFile
	statsDone := make(chan struct{})
	if l.cfg.Chain != "" {
		l.wg.Add(1)
		// The tail starts here, not in the goroutine: a reject logged once
		// Serve accepts peers counts.
		t := newRejectTail(chaindir.Dir(l.cfg.Chain))
		go func() { defer l.wg.Done(); l.followRejects(ctx, t) }()
		sf = newStatsFile(l.cfg.Chain, chaindir.RelayListen, l.cfg.Logf, statsTimes{l.cfg.StatsEvery, l.cfg.StatsHeartbeat, l.cfg.StatsStale})
		go func() { defer close(statsDone); sf.run(ctx, func() any { return l.Stats() }) }()
	} else {
		close(statsDone)
	}
	if l.cfg.Chain != "" {
		l.refreshPeers() // the peers file and the deliveries, before the first peer
	}
	go func() { <-ctx.Done(); l.ln.Close() }()
	var err error
	for {
		c, aerr := l.ln.Accept()
		if aerr != nil {
			if ctx.Err() != nil {
				break
			}
			var ne net.Error
			if errors.As(aerr, &ne) && ne.Timeout() || errors.Is(aerr, os.ErrDeadlineExceeded) {
				continue
			}
			// Out of file descriptors and the like: wait, go on.
			l.logEvery("accept", time.Minute, "accepting: %v", aerr)
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
			}
			continue
		}
		l.admit(ctx, c)
	}
	l.closeAll()
	l.wg.Wait()
	<-statsDone
	if sf != nil {
		sf.remove()
	}
	if e := <-werr; e != nil {
		err = e
	}
	return err
}

// writeOut writes the queued lines to Out, flushing when the queue is
// empty, until ctx is done. The lines of a peer cut off since they were
// queued are dropped: cnj-verify would only refuse and log them.
func (l *Listener) writeOut(ctx context.Context) error {
	w := bufio.NewWriterSize(l.cfg.Out, 64<<10)
	for {
		select {
		case <-ctx.Done():
			return nil
		case o := <-l.out:
			if banned, _ := l.bans.Banned(o.ip, l.cfg.Now()); banned {
				break
			}
			if _, err := w.Write(o.b); err != nil {
				return fmt.Errorf("writing the lines: %w", err)
			}
		}
		if len(l.out) == 0 {
			if err := w.Flush(); err != nil {
				return fmt.Errorf("writing the lines: %w", err)
			}
		}
	}
}

// admit registers a new connection within the limits, evicting another
// one when the listener is full (slots.go), and serves it.
func (l *Listener) admit(ctx context.Context, c net.Conn) {
	ip := remoteIP(c)
	now := l.cfg.Now()
	if banned, _ := l.bans.Banned(ip, now); banned {
		l.stats.refusedCutOff.Add(1)
		c.Close()
		return
	}
	g := netGroup(ip)
	l.mu.Lock()
	switch {
	case len(l.conns[ip]) >= l.cfg.MaxConnsPerIP:
		l.mu.Unlock()
		l.stats.refusedLimit.Add(1)
		l.logEvery("conns "+ip.String(), 10*time.Second, "%s: refused: %d connections from this address already", ip, l.cfg.MaxConnsPerIP)
		c.Close()
		return
	case l.groups[g] >= l.cfg.MaxConnsPerGroup:
		l.mu.Unlock()
		l.stats.refusedLimit.Add(1)
		l.logEvery("group "+g.String(), 10*time.Second, "%s: refused: %d connections from %s already", ip, l.cfg.MaxConnsPerGroup, g)
		c.Close()
		return
	case l.total >= l.cfg.MaxConns:
		v, ok := l.victim()
		if !ok {
			l.mu.Unlock()
			l.stats.refusedLimit.Add(1)
			l.logEvery("conns", 10*time.Second, "%s: refused: %d connections, this node's limit", ip, l.cfg.MaxConns)
			c.Close()
			return
		}
		l.conns[v.ip][v.c].cancel()
		v.c.Close()
		l.drop(v.ip, v.c)
		defer l.logEvery("evict "+v.ip.String(), 10*time.Second, "%s: evicted for %s: %d connections, this node's limit", v.ip, ip, l.cfg.MaxConns)
	}
	cctx, cancel := context.WithCancel(ctx)
	if l.conns[ip] == nil {
		l.conns[ip] = map[net.Conn]*connInfo{}
	}
	l.conns[ip][c] = &connInfo{cancel: cancel, since: now}
	l.total++
	l.groups[g]++
	lim := l.limits[ip]
	if lim == nil {
		if len(l.limits) > 4*l.cfg.MaxConns {
			for a := range l.limits {
				if len(l.conns[a]) == 0 {
					delete(l.limits, a)
				}
			}
		}
		lim = &limiter{
			lines: rate.NewLimiter(rate.Limit(l.cfg.Rate), l.cfg.Burst),
			bytes: rate.NewLimiter(rate.Limit(l.cfg.Rate*float64(RateBytesPerLine)), max(l.cfg.Burst*RateBytesPerLine, l.maxLine+1)),
		}
		l.limits[ip] = lim
	}
	l.mu.Unlock()
	l.stats.accepted.Add(1)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer l.release(ip, c)
		l.serveConn(cctx, c, ip, lim)
	}()
}

func (l *Listener) release(ip netip.Addr, c net.Conn) {
	c.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	if info, ok := l.conns[ip][c]; ok {
		info.cancel()
		l.drop(ip, c)
	}
}

// drop forgets a connection. l.mu is held.
func (l *Listener) drop(ip netip.Addr, c net.Conn) {
	if _, ok := l.conns[ip][c]; !ok {
		return
	}
	delete(l.conns[ip], c)
	l.total--
	g := netGroup(ip)
	if l.groups[g]--; l.groups[g] <= 0 {
		delete(l.groups, g)
	}
	if len(l.conns[ip]) == 0 {
		delete(l.conns, ip)
	}
}

// closeIP closes every connection of ip.
func (l *Listener) closeIP(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c, info := range l.conns[ip] {
		info.cancel()
		c.Close()
	}
}

func (l *Listener) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.conns {
		for c, info := range m {
			info.cancel()
			c.Close()
		}
	}
}

// serveConn runs one connection: the hello exchange, then the lines.
func (l *Listener) serveConn(ctx context.Context, c net.Conn, ip netip.Addr, lim *limiter) {
	go func() { <-ctx.Done(); c.Close() }()
	peer := false // the hellos were exchanged
	defer func() {
		if !peer && ctx.Err() == nil {
			l.stats.helloFailed.Add(1)
		}
	}()
	br := bufio.NewReaderSize(c, 16<<10)
	c.SetDeadline(time.Now().Add(l.cfg.HandshakeTimeout))
	line, err := readLine(br, wire.MaxHelloLine)
	if err != nil {
		switch {
		case ctx.Err() != nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			l.cfg.Logf("%s: closed: no hello within %s", ip, human(l.cfg.HandshakeTimeout))
		case errors.Is(err, errTooLong):
			l.cfg.Logf("%s: refused: hello line over %d bytes", ip, wire.MaxHelloLine)
		default:
			l.cfg.Logf("%s: closed before its hello", ip)
		}
		return
	}
	h, err := wire.DecodeHello(line)
	if err != nil {
		l.cfg.Logf("%s: refused: bad hello: %v", ip, err)
		return
	}
	seq := l.hellos.Add(1) // before the answer: the peer's next hello comes after it
	self := l.addr
	if !self.Addr().IsValid() || self.Addr().IsUnspecified() {
		self = netip.AddrPortFrom(localAddrPort(c).Addr(), l.addr.Port())
	}
	hello := &wire.Hello{Network: l.network, Version: wire.Version, Address: self.String()}
	if _, err := c.Write(append(hello.Encode(), '\n')); err != nil {
		return
	}
	switch {
	case h.Network != l.network:
		l.cfg.Logf("%s: refused: other network %x, this node is on %x", ip, h.Network, l.network)
		return
	case h.Version != wire.Version:
		l.cfg.Logf("%s: refused: protocol version %d, this node speaks %d", ip, h.Version, wire.Version)
		return
	}
	peer = true
	l.stats.connected.Add(1)
	defer l.stats.connected.Add(-1)
	l.record(ip, helloAddr{h.Address, seq}, self)
	l.readLines(ctx, c, br, ip, lim)
}

// readLines passes the peer's lines on until it leaves, idles, sends a
// line over the cap, or is cut off.
func (l *Listener) readLines(ctx context.Context, c net.Conn, br *bufio.Reader, ip netip.Addr, lim *limiter) {
	for n := 1; ; n++ {
		c.SetReadDeadline(time.Now().Add(l.cfg.IdleTimeout))
		line, err := readLine(br, l.maxLine)
		if err != nil {
			switch {
			case ctx.Err() != nil:
			case errors.Is(err, errTooLong):
				l.reject(ip, n, rule.Errorf(rule.TooLarge, "line over %d bytes, connection closed", l.maxLine))
			case errors.Is(err, os.ErrDeadlineExceeded):
				l.cfg.Logf("%s: closed: idle for %s", ip, human(l.cfg.IdleTimeout))
			}
			return
		}
		l.stats.bytes.Add(uint64(len(line)) + 1)
		if err := lim.wait(ctx, len(line)); err != nil {
			return // cut off (or stopping): not one more line, even of those read already
		}
		if len(line) == 0 {
			continue // keep-alive
		}
		// In a full mesh most lines are echoes of one already passed on:
		// the very same bytes decoded well then, so drop them before
		// decoding again.
		if l.seen.Has(line) {
			l.stats.duplicates.Add(1)
			continue
		}
		rec, err := wire.Decode(line, l.cfg.Params)
		if err == nil && rec.From.IsValid() {
			err = rule.Errorf(rule.BadJSON, "a peer's line carries a sender tag")
		}
		if err != nil {
			l.reject(ip, n, err)
			continue
		}
		if !l.seen.Add(rec.Raw) {
			l.stats.duplicates.Add(1)
			continue
		}
		b := wire.Tag(ip, rec.Raw)
		select {
		case l.out <- outLineOf{ip, append(b, '\n')}:
		case <-ctx.Done():
			return
		}
		if rec.Block != nil {
			l.stats.linesBlock.Add(1)
		} else {
			l.stats.linesTx.Add(1)
		}
	}
}

// reject logs a refused line and counts it against the peer at once,
// so that a peer is cut off at its threshold-th bad line, not at what a
// poll of rejects.log finds later. The line of a peer cut off already is
// neither logged nor counted: its connections are closing.
func (l *Listener) reject(ip netip.Addr, n int, err error) {
	counted, cut := l.bans.Count(ip, l.cfg.Now())
	if !counted {
		return
	}
	l.stats.badLines.Add(1)
	l.cfg.Logf("%s: line %d dropped: %v", ip, n, err)
	if l.cfg.Chain != "" {
		// Counted as this listener's own before it is written, so that
		// the tail, reading it back, knows it was struck already.
		key := tailEntry{ip, rejectCode(err)}
		l.ownMu.Lock()
		l.own[key]++
		l.ownMu.Unlock()
		if werr := logReject(chaindir.Dir(l.cfg.Chain), ip, n, err, l.cfg.Now()); werr != nil {
			l.ownMu.Lock()
			if l.own[key]--; l.own[key] <= 0 {
				delete(l.own, key)
			}
			l.ownMu.Unlock()
			l.logEvery("rejects", time.Minute, "%s: %v", chaindir.RejectsFile, werr)
		}
	}
	l.cut(cut)
}

func (l *Listener) strike(ip netip.Addr) { l.cut(l.bans.Strike(ip, l.cfg.Now())) }

func (l *Listener) orphan(ip netip.Addr) { l.cut(l.bans.Orphan(ip, l.cfg.Now())) }

// cut closes the connections of a peer that a strike cut off.
func (l *Listener) cut(c *Cut) {
	if c == nil {
		return
	}
	l.stats.cutOffs.Add(1)
	l.cfg.Logf("%s: cut off for %s: %d rejects", c.IP, human(c.For), c.Rejects)
	l.closeIP(c.IP)
}

// followRejects counts every reject of rejects.log against its sender,
// but those this listener logged and counted itself, and refreshes what
// the listener knows of its peers from the chain directory.
func (l *Listener) followRejects(ctx context.Context, t *rejectTail) {
	tick := time.NewTicker(l.cfg.RejectsPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		l.refreshPeers()
		es, restarted, err := t.poll()
		if err != nil {
			l.logEvery("rejects", time.Minute, "%s: %v", chaindir.RejectsFile, err)
		}
		if restarted {
			// Read from a start again: what the listener logged before
			// may be gone or read now; count from here as it comes.
			l.ownMu.Lock()
			clear(l.own)
			l.ownMu.Unlock()
		}
		for _, e := range es {
			l.ownMu.Lock()
			own := l.own[e] > 0
			if own {
				if l.own[e]--; l.own[e] == 0 {
					delete(l.own, e)
				}
			}
			l.ownMu.Unlock()
			switch {
			case own:
			case e.orphan():
				l.orphan(e.ip)
			default:
				l.strike(e.ip)
			}
		}
	}
}

// logEvery logs at most once per interval for each key, so that a flood
// of refusals is one line now and then.
func (l *Listener) logEvery(key string, every time.Duration, format string, args ...any) {
	now := time.Now()
	l.mu.Lock()
	if t, ok := l.logged[key]; ok && now.Sub(t) < every {
		l.mu.Unlock()
		return
	}
	if len(l.logged) > 1024 {
		for k, t := range l.logged {
			if now.Sub(t) >= time.Minute {
				delete(l.logged, k)
			}
		}
		if len(l.logged) > 4096 {
			l.mu.Unlock()
			return
		}
	}
	l.logged[key] = now
	l.mu.Unlock()
	l.cfg.Logf(format, args...)
}
