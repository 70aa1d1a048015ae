package web

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Limits of every server. They are variables so that tests can lower them;
// a program sets them, if at all, before New.
var (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 10 * time.Second
	// WriteTimeout bounds writing a response; a streamed download (the
	// chain, a binary) extends it for each piece it writes, up to
	// DownloadTimeout in all.
	WriteTimeout    = 30 * time.Second
	IdleTimeout     = 60 * time.Second
	DownloadTimeout = 30 * time.Minute
	// MaxHeaderBytes bounds the request line and headers (431 beyond).
	MaxHeaderBytes = 16 << 10
	// MaxURLBytes bounds the request target, path and query (414 beyond).
	MaxURLBytes = 2048
	// RefreshEvery is how often the server follows the chain directory.
	RefreshEvery = 100 * time.Millisecond
	// ShutdownGrace is how long Serve waits for requests under way when its
	// context ends.
	ShutdownGrace = 5 * time.Second
)

// Config says what a Server serves.
type Config struct {
	// Chain is the chain directory.
	Chain string
	// BinDir is where /bin/cnj-* and the installer's list come from; ""
	// serves no binaries.
	BinDir string
	// Rate is the sustained number of requests per second a client IP may
	// make, Burst how many at once; Rate <= 0 means no limit.
	Rate  float64
	Burst int
	// MaxScans is how many requests may read the whole chain at once
	// (transfer lookups, address histories); <= 0 means DefaultMaxScans.
	// ScanWait is how long a request waits for its turn before a 503;
	// <= 0 means DefaultScanWait.
	MaxScans int
	ScanWait time.Duration
	// Log receives one line per problem (a panic, a failed refresh); nil
	// is silent.
	Log *log.Logger
}

// Server is the web application on one chain directory.
type Server struct {
	cfg     Config
	log     *log.Logger
	st      *chainState
	limiter *ipLimiter
	rejects *rejectCounter
	bin     *binDir
	handler http.Handler

	// Counters for /metrics.
	limited atomic.Uint64
	panics  atomic.Uint64
	busy    atomic.Uint64 // requests refused for want of a turn to read the chain

	scans     chan struct{} // one token per read of the whole chain running
	downloads *clientTurns  // chain downloads running, per client

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

// New opens the chain directory and returns a Server on it. It starts
// following the directory (every RefreshEvery) until Close.
func New(cfg Config) (*Server, error) {
	if cfg.MaxScans <= 0 {
		cfg.MaxScans = DefaultMaxScans()
	}
	if cfg.ScanWait <= 0 {
		cfg.ScanWait = DefaultScanWait
	}
	s := &Server{cfg: cfg, log: cfg.Log, stop: make(chan struct{}), done: make(chan struct{}),
		scans: make(chan struct{}, cfg.MaxScans), downloads: newClientTurns()}
	if s.log == nil {
		s.log = log.New(io.Discard, "", 0)
	}
	st, err := openState(cfg.Chain, s.log)
	if err != nil {
		return nil, err
	}
	s.st = st
	s.rejects = newRejectCounter(st.root)
	if cfg.BinDir != "" {
		b, err := openBinDir(cfg.BinDir)
		if err != nil {
			st.close()
			return nil, err
		}
		s.bin = b
	}
	if cfg.Rate > 0 {
		s.limiter = newIPLimiter(cfg.Rate, max(cfg.Burst, 1))
	}
	s.handler = s.guard(s.routes())
	go s.follow()
	return s, nil
}

// follow refreshes the chain state until Close.
func (s *Server) follow() {
	defer close(s.done)
	t := time.NewTicker(RefreshEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.st.refresh()
		}
	}
}

// Handler returns the application: every request goes through the guards
// of the package documentation.
func (s *Server) Handler() http.Handler { return s.handler }

// HTTPServer returns an http.Server for the application on addr with the
// package's timeouts and header limit.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          s.log,
	}
}

// Serve answers requests on ln, with the connection limits MaxConns and
// MaxConnsPerIP, until ctx ends, then lets the requests under way finish
// (up to ShutdownGrace) and returns nil; or returns the error that stopped
// it.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := s.HTTPServer(ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(newLimitListener(ln)) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close stops following the directory and releases it. Requests still
// under way get 503.
func (s *Server) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
	if s.bin != nil {
		s.bin.close()
	}
	return s.st.close()
}
