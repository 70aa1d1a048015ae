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
	"sync"
	"time"

	"github.com/coniunctum/cnj/lib/wire"
)

// peer is one outgoing connection of Send: its queue, and the goroutine
// that connects, writes the queue and reconnects.
type peer struct {
	s    *sender
	addr string     // HOST:PORT
	ip   netip.Addr // addr's IP when it is one

	stop     chan struct{}
	stopOnce sync.Once
	wake     chan struct{}

	mu       sync.Mutex
	q        []outLine
	qBytes   int
	writing  int      // lines taken from q, being written
	conn     net.Conn // while connected (hello exchanged)
	remoteIP netip.Addr
	tried    bool      // a connection attempt ended
	lastErr  error     // why the last attempt or connection ended
	dropped  error     // why the connection was closed by the sender
	progress time.Time // connected, or last wrote a batch

	skipped    int // lines not sent since skipLogged
	skipLogged time.Time
}

// errRefused marks a peer that answered but is of no use (another network
// or protocol version): it is retried after the longest backoff.
type errRefused struct{ msg string }

func (e *errRefused) Error() string { return "refused: " + e.msg }

// errSelf is a peer that is this node.
var errSelf = errors.New("that is this node's own address")

func newPeer(s *sender, addr string) *peer {
	p := &peer{s: s, addr: addr, stop: make(chan struct{}), wake: make(chan struct{}, 1)}
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		p.ip = ap.Addr().Unmap()
	}
	return p
}

func (p *peer) close() { p.stopOnce.Do(func() { close(p.stop) }) }

// remote is the peer's IP: of the connection when there is one.
func (p *peer) remote() netip.Addr {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.remoteIP.IsValid() {
		return p.remoteIP
	}
	return p.ip
}

// enqueue adds a line to the queue. When the queue is full, a connected
// peer that took nothing for StallTimeout (of the config) does not read:
// it is dropped (and reconnected later) with its queue; a peer that
// reads, or is not connected, misses the line.
func (p *peer) enqueue(l outLine) {
	b := l.b
	p.mu.Lock()
	if len(p.q) >= p.s.cfg.Queue || p.qBytes+len(b) > p.s.cfg.QueueBytes {
		c := p.conn
		p.s.st.queueFull.Add(1)
		switch {
		case c != nil && p.dropped == nil && time.Since(p.progress) > p.s.cfg.StallTimeout:
			p.dropped = fmt.Errorf("dropped: not reading (%d lines, %d bytes queued, nothing taken for %s)", len(p.q)+p.writing, p.qBytes, human(p.s.cfg.StallTimeout))
			p.s.st.queueFull.Add(uint64(len(p.q)))
			p.s.st.notReading.Add(1)
			p.q, p.qBytes = nil, 0
			c.Close()
		case c != nil:
			p.skipped++
			if time.Since(p.skipLogged) > 10*time.Second {
				p.s.logf("%s: falling behind: %d lines not sent", p.addr, p.skipped)
				p.skipLogged, p.skipped = time.Now(), 0
			}
		}
		p.mu.Unlock()
		return
	}
	p.q = append(p.q, l)
	p.qBytes += len(b)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// take moves the queue into a batch to write.
func (p *peer) take() []outLine {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.q
	p.writing += len(b)
	p.q, p.qBytes = nil, 0
	return b
}

func (p *peer) written(n int) {
	p.mu.Lock()
	p.writing -= n
	p.progress = time.Now()
	p.mu.Unlock()
}

// busy reports whether the peer still has lines to write and a chance to
// write them: it is connected, or not yet tried.
func (p *peer) busy() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.q) == 0 && p.writing == 0 {
		return false
	}
	return p.conn != nil || !p.tried
}

// left returns the lines not written and the last error.
func (p *peer) left() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.q) + p.writing, p.lastErr
}

// sleep waits d, and reports false if the peer is to stop.
func (p *peer) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.stop:
		return false
	}
}

func (p *peer) stopped() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

// run connects, writes, and reconnects with backoff until the peer is
// stopped.
func (p *peer) run() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-p.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	cfg := &p.s.cfg
	backoff := cfg.BackoffMin
	var logged string // the connection error last logged
	for !p.stopped() {
		c, err := p.connect(ctx)
		if err != nil {
			if p.stopped() {
				return
			}
			p.mu.Lock()
			p.tried, p.lastErr = true, err
			p.mu.Unlock()
			if err == errSelf {
				p.s.logf("%s: %v: left", p.addr, err)
				p.s.forget(p)
				return
			}
			if err.Error() != logged {
				p.s.logf("%s: cannot connect: %v", p.addr, err)
				logged = err.Error()
			}
			wait := backoff
			var re *errRefused
			if errors.As(err, &re) {
				wait = cfg.BackoffMax
			}
			backoff = min(2*backoff, cfg.BackoffMax)
			if !p.sleep(wait) {
				return
			}
			continue
		}
		if logged != "" {
			p.s.logf("%s: connected", p.addr)
		}
		logged = ""
		start := time.Now()
		p.s.st.connected.Add(1)
		err = p.serve(c)
		p.s.st.connected.Add(-1)
		c.Close()
		p.mu.Lock()
		if p.dropped != nil {
			err = p.dropped
		}
		p.conn, p.dropped, p.tried, p.lastErr = nil, nil, true, err
		p.mu.Unlock()
		if p.stopped() {
			return
		}
		p.s.logf("%s: disconnected: %v", p.addr, err)
		logged = "disconnected"
		if time.Since(start) > 10*cfg.BackoffMax/30 {
			backoff = cfg.BackoffMin
		}
		if !p.sleep(backoff) {
			return
		}
		backoff = min(2*backoff, cfg.BackoffMax)
	}
}

// connect dials the peer from the bind address and exchanges hellos.
func (p *peer) connect(ctx context.Context) (net.Conn, error) {
	cfg := &p.s.cfg
	d := net.Dialer{Timeout: cfg.DialTimeout}
	if cfg.Bind.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: cfg.Bind.AsSlice()}
	}
	c, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, unwrapOp(err)
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(cfg.SendBuffer)
	}
	// Stopping the peer ends the handshake at once.
	unhook := context.AfterFunc(ctx, func() { c.Close() })
	defer unhook()
	self := cfg.Self
	if !self.IsValid() {
		// Not a node (a wallet): a hello naming no address, which no
		// listener records.
		self = netip.AddrPortFrom(netip.IPv4Unspecified(), DefaultPort)
	}
	c.SetDeadline(time.Now().Add(cfg.HandshakeTimeout))
	hello := &wire.Hello{Network: p.s.network, Version: wire.Version, Address: self.String()}
	if _, err := c.Write(append(hello.Encode(), '\n')); err != nil {
		c.Close()
		return nil, unwrapOp(err)
	}
	line, err := readLine(bufio.NewReaderSize(c, wire.MaxHelloLine+1), wire.MaxHelloLine)
	if err != nil {
		c.Close()
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, fmt.Errorf("no hello within %s", human(cfg.HandshakeTimeout))
		case errors.Is(err, io.EOF):
			return nil, errors.New("closed before its hello (refused, or cut off)")
		}
		return nil, unwrapOp(err)
	}
	h, err := wire.DecodeHello(line)
	switch {
	case err != nil:
		c.Close()
		return nil, &errRefused{"bad hello: " + err.Error()}
	case h.Network != p.s.network:
		c.Close()
		return nil, &errRefused{fmt.Sprintf("other network %x, this node is on %x", h.Network, p.s.network)}
	case h.Version != wire.Version:
		c.Close()
		return nil, &errRefused{fmt.Sprintf("protocol version %d, this node speaks %d", h.Version, wire.Version)}
	case p.s.self != "" && h.Address == p.s.self:
		c.Close()
		return nil, errSelf
	}
	c.SetDeadline(time.Time{})
	p.mu.Lock()
	p.conn, p.remoteIP, p.progress = c, remoteIP(c), time.Now()
	p.mu.Unlock()
	return c, nil
}

// unwrapOp drops the "dial tcp A->B:" prefix of a net.OpError: the log
// line names the peer already.
func unwrapOp(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

// serve writes the queue to the connection until it fails or the peer is
// stopped; after the hellos the listener sends nothing, so reading only
// tells when it closes.
func (p *peer) serve(c net.Conn) error {
	closed := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, c)
		if err == nil {
			err = errors.New("closed by the peer")
		}
		closed <- unwrapOp(err)
	}()
	cfg := &p.s.cfg
	w := bufio.NewWriterSize(c, 64<<10)
	ka := time.NewTimer(cfg.KeepAlive)
	defer ka.Stop()
	for {
		select {
		case <-p.stop:
			return errors.New("stopped")
		case err := <-closed:
			return err
		case <-ka.C:
			c.SetWriteDeadline(time.Now().Add(cfg.WriteTimeout))
			w.WriteByte('\n')
			if err := w.Flush(); err != nil {
				return p.writeErr(err)
			}
			p.s.st.bytes.Add(1)
			ka.Reset(cfg.KeepAlive)
			continue
		case <-p.wake:
		}
		batch := p.take()
		if len(batch) == 0 {
			continue
		}
		c.SetWriteDeadline(time.Now().Add(cfg.WriteTimeout))
		blocks, n := 0, 0
		for _, l := range batch {
			w.Write(l.b)
			n += len(l.b)
			if l.block {
				blocks++
			}
		}
		err := w.Flush()
		if err != nil {
			// The batch is lost for this peer, not counted as left over.
			p.written(len(batch))
			return p.writeErr(err)
		}
		p.written(len(batch))
		p.s.st.linesTx.Add(uint64(len(batch) - blocks))
		p.s.st.linesBlock.Add(uint64(blocks))
		p.s.st.bytes.Add(uint64(n))
		ka.Reset(cfg.KeepAlive)
	}
}

// writeErr is the error of a failed write; a write that timed out drops
// the peer for not reading.
func (p *peer) writeErr(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		p.s.st.notReading.Add(1)
		return fmt.Errorf("dropped: not reading (a write took over %s)", human(p.s.cfg.WriteTimeout))
	}
	return unwrapOp(err)
}
