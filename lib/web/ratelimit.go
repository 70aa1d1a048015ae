package web

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxClients bounds the clients the limiter remembers. Beyond it, clients
// whose bucket is full again (idle long enough to be as good as new) are
// forgotten; if that frees nothing, everyone is.
const maxClients = 10_000

// ipLimiter is a token bucket per client IP (per /64 for IPv6).
type ipLimiter struct {
	r     rate.Limit
	burst int
	idle  time.Duration // after this long unused a bucket is full again

	mu      sync.Mutex
	clients map[netip.Addr]*client
}

type client struct {
	lim  *rate.Limiter
	last time.Time
}

func newIPLimiter(perSec float64, burst int) *ipLimiter {
	return &ipLimiter{
		r:       rate.Limit(perSec),
		burst:   burst,
		idle:    time.Duration(float64(burst)/perSec*float64(time.Second)) + time.Second,
		clients: make(map[netip.Addr]*client),
	}
}

// allow reports whether the client at remote (the request's RemoteAddr,
// IP:PORT) may make one more request now.
func (l *ipLimiter) allow(remote string) bool {
	ip := clientKey(remote)
	if !ip.IsValid() {
		return true // not an IP connection (a test, a unix socket): no client to count
	}
	now := time.Now()
	l.mu.Lock()
	c := l.clients[ip]
	if c == nil {
		if len(l.clients) >= maxClients {
			l.sweep(now)
		}
		c = &client{lim: rate.NewLimiter(l.r, l.burst)}
		l.clients[ip] = c
	}
	c.last = now
	ok := c.lim.AllowN(now, 1)
	l.mu.Unlock()
	return ok
}

func (l *ipLimiter) sweep(now time.Time) {
	for ip, c := range l.clients {
		if now.Sub(c.last) > l.idle {
			delete(l.clients, ip)
		}
	}
	if len(l.clients) >= maxClients {
		clear(l.clients)
	}
}
