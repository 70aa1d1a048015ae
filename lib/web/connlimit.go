package web

import (
	"net"
	"net/netip"
	"sync"
)

// Connection limits of Serve (Config.MaxConns, Config.MaxConnsPerIP when
// zero): beyond them a new connection is closed at once, before anything
// is read from it, so that a client holding many slow or idle connections
// cannot use up the server.
const (
	DefaultMaxConns      = 1024
	DefaultMaxConnsPerIP = 64
)

// limitListener closes connections beyond maxConns in all or maxPerIP
// from one client IP (one /64 for IPv6).
type limitListener struct {
	net.Listener
	maxConns, maxPerIP int
	mu                 sync.Mutex
	total              int
	perIP              map[netip.Addr]int
}

func newLimitListener(ln net.Listener, maxConns, maxPerIP int) *limitListener {
	return &limitListener{Listener: ln, maxConns: maxConns, maxPerIP: maxPerIP, perIP: make(map[netip.Addr]int)}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := clientKey(c.RemoteAddr().String())
		l.mu.Lock()
		ok := l.total < l.maxConns && l.perIP[ip] < l.maxPerIP
		if ok {
			l.total++
			l.perIP[ip]++
		}
		l.mu.Unlock()
		if !ok {
			c.Close()
			continue
		}
		return &limitConn{Conn: c, l: l, ip: ip}, nil
	}
}

func (l *limitListener) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.perIP[ip]--; l.perIP[ip] <= 0 {
		delete(l.perIP, ip)
	}
}

type limitConn struct {
	net.Conn
	l    *limitListener
	ip   netip.Addr
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.ip) })
	return err
}

// clientKey is the client a remote IP:PORT counts as: its IP, or its /64
// for IPv6; the zero Addr when remote is not an IP address.
func clientKey(remote string) netip.Addr {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Addr{}
	}
	ip := ap.Addr().Unmap()
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			ip = p.Addr() // one host usually has a whole /64
		}
	}
	return ip
}
