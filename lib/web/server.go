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

	"github.com/coniunctum/cnj/lib/chaindir"
)

// Limits of every server: Config fields left zero take these values.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 10 * time.Second
	// DefaultWriteTimeout bounds writing a response; a streamed download
	// (the chain, a binary) extends it for each piece it writes, up to
	// DefaultDownloadTimeout in all.
	DefaultWriteTimeout    = 30 * time.Second
	DefaultIdleTimeout     = 60 * time.Second
	DefaultDownloadTimeout = 30 * time.Minute
	// DefaultMaxHeaderBytes bounds the request line and headers (431
	// beyond).
	DefaultMaxHeaderBytes = 16 << 10
	// DefaultMaxURLBytes bounds the request target, path and query (414
	// beyond).
	DefaultMaxURLBytes = 2048
	// DefaultRefreshEvery is how often the server follows the chain
	// directory.
	DefaultRefreshEvery = 100 * time.Millisecond
	// DefaultShutdownGrace is how long Serve waits for requests under way
	// when its context ends.
	DefaultShutdownGrace = 5 * time.Second
)

// Config says what a Server serves.
type Config struct {
	// Chain is the chain directory.
	Chain string
	// BinDir is where /bin/cnj-* and the installer's list come from; ""
	// serves no binaries.
	BinDir string
	// ManDir is where /man/cnj-*.N come from, for the installer: pages
	// in its manN subdirectories or directly in it; "" serves no pages.
	ManDir string
	// Rate is the sustained number of requests per second a client IP may
	// make, Burst how many at once; Rate <= 0 means no limit.
	Rate  float64
	Burst int
	// DownloadWait is how long a chain download waits for one of its
	// client's turns before a 503 (busy); <= 0 means DefaultDownloadWait.
	DownloadWait time.Duration
	// Log receives one line per problem (a panic, a failed refresh); nil
	// is silent.
	Log *log.Logger

	// The limits of the server and of Serve's connections, and the age of
	// a relay stats file that /metrics leaves out; zero takes the Default
	// constant of the same name.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	DownloadTimeout   time.Duration
	MaxHeaderBytes    int
	MaxURLBytes       int
	RefreshEvery      time.Duration
	ShutdownGrace     time.Duration
	MaxConns          int
	MaxConnsPerIP     int
	RelayStale        time.Duration

	// scanBytes bounds the block lines read under one hold of the read
	// lock; zero is defaultScanBytes. Tests lower it.
	scanBytes int
	// maxLag bounds what a lookup reads above the transfer index
	// (explore.Lookup.MaxLag); zero is defaultMaxLag. Tests lower it.
	maxLag int64
}

// withDefaults returns cfg with the zero limits set to their defaults.
func (cfg Config) withDefaults() Config {
	orDefault(&cfg.DownloadWait, DefaultDownloadWait)
	orDefault(&cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	orDefault(&cfg.ReadTimeout, DefaultReadTimeout)
	orDefault(&cfg.WriteTimeout, DefaultWriteTimeout)
	orDefault(&cfg.IdleTimeout, DefaultIdleTimeout)
	orDefault(&cfg.DownloadTimeout, DefaultDownloadTimeout)
	orDefault(&cfg.MaxHeaderBytes, DefaultMaxHeaderBytes)
	orDefault(&cfg.MaxURLBytes, DefaultMaxURLBytes)
	orDefault(&cfg.RefreshEvery, DefaultRefreshEvery)
	orDefault(&cfg.ShutdownGrace, DefaultShutdownGrace)
	orDefault(&cfg.MaxConns, DefaultMaxConns)
	orDefault(&cfg.MaxConnsPerIP, DefaultMaxConnsPerIP)
	orDefault(&cfg.RelayStale, DefaultRelayStale)
	orDefault(&cfg.scanBytes, defaultScanBytes)
	if cfg.maxLag <= 0 {
		cfg.maxLag = defaultMaxLag
	}
	return cfg
}

// orDefault sets *v to def when it is zero or less.
func orDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Server is the web application on one chain directory.
type Server struct {
	cfg     Config
	log     *log.Logger
	st      *chainState
	limiter *ipLimiter
	rejects *rejectCounter
	// refusals are the transfers of rejects.log, for /api/tx/ID/fate.
	refusals *refusals
	bin      *binDir
	man      *manDir
	sums     sums // of the toolkit, for /SHA256SUMS
	handler  http.Handler

	// Counters for /metrics.
	limited atomic.Uint64
	panics  atomic.Uint64
	busy    atomic.Uint64 // requests refused for want of a turn to download the chain

	downloads *clientTurns // chain downloads running, per client
	fees      *feeCache    // recent blocks' fees
	poolHist  *poolHistory // the mempool's recent sizes, for its chart

	net   netName  // the network, on every page
	limit [32]byte // the network's highest target, difficulty 1

	pool    poolIndex  // /api/mempool/txs
	poolEvs poolEvents // what the pool did with each transfer, for /api/tx/ID/fate

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

// New opens the chain directory and returns a Server on it. It starts
// following the directory (every cfg.RefreshEvery) until Close.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, log: cfg.Log, stop: make(chan struct{}), done: make(chan struct{}),
		downloads: newClientTurns(), fees: newFeeCache()}
	if s.log == nil {
		s.log = log.New(io.Discard, "", 0)
	}
	st, err := openState(cfg.Chain, s.log)
	if err != nil {
		return nil, err
	}
	st.scanBytes = cfg.scanBytes
	s.st = st
	if n := st.rlock(); n != nil {
		p := n.Params()
		g := p.Hash()
		s.net = netName{Name: p.Network, Short: hexOf(g[:6]), Genesis: hexOf(g[:])}
		s.limit = p.InitialTarget
		st.runlock()
	}
	s.poolHist = &poolHistory{}
	s.poolHist.sample(st.snap.Load(), time.Now())
	s.rejects = newRejectCounter(chaindir.Dir(cfg.Chain))
	s.refusals = newRefusals(chaindir.Dir(cfg.Chain))
	if cfg.BinDir != "" {
		b, err := openBinDir(cfg.BinDir)
		if err != nil {
			st.close()
			return nil, err
		}
		s.bin = b
	}
	if cfg.ManDir != "" {
		m, err := openManDir(cfg.ManDir)
		if err != nil {
			if s.bin != nil {
				s.bin.close()
			}
			st.close()
			return nil, err
		}
		s.man = m
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
	t := time.NewTicker(s.cfg.RefreshEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.st.refresh()
			s.poolHist.sample(s.st.snap.Load(), now)
		}
	}
}

// Handler returns the application: every request goes through the guards
// of the package documentation.
func (s *Server) Handler() http.Handler { return s.handler }

// HTTPServer returns an http.Server for the application on addr with the
// timeouts and header limit of the Server's Config.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          s.log,
	}
}

// Serve answers requests on ln, with the connection limits MaxConns and
// MaxConnsPerIP of the Config, until ctx ends, then lets the requests under
// way finish (up to ShutdownGrace) and returns nil; or returns the error
// that stopped it.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := s.HTTPServer(ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(newLimitListener(ln, s.cfg.MaxConns, s.cfg.MaxConnsPerIP)) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
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
	if s.man != nil {
		s.man.close()
	}
	return s.st.close()
}
