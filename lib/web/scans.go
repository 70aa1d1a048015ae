package web

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// busyError refuses a request that found no turn to download the chain.
type busyError struct{ msg string }

func (e *busyError) Error() string { return e.msg }

// DefaultDownloadWait is how long a download waits for one of its
// client's turns.
const DefaultDownloadWait = 5 * time.Second

// DownloadsPerClient is how many chain downloads (/api/chain) one client
// (an IP address, a /64 for IPv6) may run at once. A whole download costs
// seconds of CPU (reading the segments, compressing), and a client may hold
// Config.MaxConnsPerIP connections; a syncing node needs one download per peer.
// There is no limit over all clients: one client's downloads cannot keep
// another's waiting.
const DownloadsPerClient = 2

// clientTurns counts the downloads each client is running.
type clientTurns struct {
	mu    sync.Mutex
	held  map[netip.Addr]int
	freed chan struct{} // closed, and replaced, when a turn is given back
}

func newClientTurns() *clientTurns {
	return &clientTurns{held: make(map[netip.Addr]int), freed: make(chan struct{})}
}

// downloadTurn waits up to DownloadWait for one of the client's
// DownloadsPerClient turns and returns the function that gives it back. A
// request that is not from an IP address (a test, a unix socket) needs
// none.
func (s *Server) downloadTurn(ctx context.Context, remote string) (func(), error) {
	ip := clientKey(remote)
	if !ip.IsValid() {
		return func() {}, nil
	}
	c := s.downloads
	t := time.NewTimer(s.cfg.DownloadWait)
	defer t.Stop()
	for {
		c.mu.Lock()
		if c.held[ip] < DownloadsPerClient {
			c.held[ip]++
			c.mu.Unlock()
			return func() {
				c.mu.Lock()
				if c.held[ip]--; c.held[ip] <= 0 {
					delete(c.held, ip)
				}
				close(c.freed)
				c.freed = make(chan struct{})
				c.mu.Unlock()
			}, nil
		}
		freed := c.freed
		c.mu.Unlock()
		select {
		case <-freed:
			continue
		case <-t.C:
		case <-ctx.Done():
		}
		s.busy.Add(1)
		return nil, &busyError{msg: fmt.Sprintf("busy: this client already runs %d downloads of the chain; try again shortly", DownloadsPerClient)}
	}
}
