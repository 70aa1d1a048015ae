package chainsync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/coniunctum/cnj/lib/chainhash"
	"github.com/coniunctum/cnj/lib/jsonl"
	"github.com/coniunctum/cnj/lib/params"
)

// Answer size caps of the small requests.
const (
	maxTipAnswer   = 4 << 10  // {"height","hash","work"} and a few more fields
	maxHashAnswer  = 128      // 64 hex digits and a newline
	maxPeersAnswer = 64 << 10 // a JSON array of HOST:PORT
	maxWorkDigits  = 80       // cumulative work in hex: 2^256 per block at most
)

// zstd decoding limits: the window a download may use (the encoder's
// default is 8 MiB), so that a hostile frame cannot ask for gigabytes.
const maxZstdWindow = 32 << 20

// maxBudget caps the deadline of one download, whatever its byte cap.
const maxBudget = 48 * time.Hour

// Tip is a chain's last block as a peer's /api/tip reports it, or as the
// local chain has it.
type Tip struct {
	Height uint64
	Hash   [32]byte
	Work   *big.Int // cumulative work of the chain up to the tip
}

func (t Tip) String() string { return fmt.Sprintf("height %d (%x)", t.Height, t.Hash[:8]) }

// NewClient returns the HTTP client Sync uses by default: no proxy, no
// redirects followed, no transparent gzip, connect and response-header
// timeouts of timeout and a 64 KiB response header cap. It sets no overall
// timeout: each request carries its own deadline.
func NewClient(timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:                  nil, // peers are nodes, talked to directly
		DialContext:            (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: 64 << 10,
		DisableCompression:     true,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        30 * time.Second,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirect is an answer like any other: refused
		},
	}
}

// client asks one peer's web app.
type client struct {
	hc      *http.Client
	timeout time.Duration
	minRate int64
}

// get fetches path from the web app at addr with the per-request timeout
// and returns at most limit bytes of a 200 answer.
func (c *client) get(ctx context.Context, addr, path string, limit int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.do(ctx, addr, path, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, timeoutErr(ctx, err, c.timeout))
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: answer longer than %d bytes", path, limit)
	}
	return b, nil
}

// do sends GET path and checks for a 200 answer.
func (c *client) do(ctx context.Context, addr, path string, zstdOK bool) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return nil, err
	}
	if zstdOK {
		req.Header.Set("Accept-Encoding", "zstd")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // drop Go's `Get "http://...":` prefix: the peer is named already
		}
		return nil, fmt.Errorf("%s: %w", path, timeoutErr(ctx, err, c.timeout))
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: answered %s", path, resp.Status)
	}
	return resp, nil
}

// timeoutErr names a deadline that ran out instead of Go's wording. The
// request's context and the transport's own timeouts (dial, response
// headers) are set to the same d, so either may fire first.
func timeoutErr(ctx context.Context, err error, d time.Duration) error {
	var ne net.Error
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("no answer within %s", d)
	}
	return err
}

// tip reads /api/tip: {"height":N,"hash":HEX64,"work":HEX}. Other fields
// (cnj-chain tip's timestamp, target, mempool) are allowed and ignored.
func (c *client) tip(ctx context.Context, addr string) (Tip, error) {
	const path = "/api/tip"
	b, err := c.get(ctx, addr, path, maxTipAnswer)
	if err != nil {
		return Tip{}, err
	}
	v, err := jsonl.Parse(bytes.TrimSuffix(b, []byte("\n")))
	if err != nil {
		return Tip{}, fmt.Errorf("%s: %w", path, err)
	}
	o, err := v.Object()
	if err != nil {
		return Tip{}, fmt.Errorf("%s: %w", path, err)
	}
	var t Tip
	if t.Height, err = o.Uint("height"); err == nil {
		if err = o.HexTo("hash", t.Hash[:]); err == nil {
			var w string
			if w, err = o.String("work"); err == nil {
				t.Work, err = parseWork(w)
			}
		}
	}
	if err != nil {
		return Tip{}, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// parseWork reads cumulative work as cnj-chain prints it: lowercase hex
// without leading zeros.
func parseWork(s string) (*big.Int, error) {
	if s == "" || len(s) > maxWorkDigits || len(s) > 1 && s[0] == '0' {
		return nil, fmt.Errorf(`"work": %q is not hex without leading zeros`, s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return nil, fmt.Errorf(`"work": %q is not lowercase hex`, s)
		}
	}
	w, _ := new(big.Int).SetString(s, 16)
	return w, nil
}

// blockHash reads /api/block-height/H: the hash of the peer's main-chain
// block at height h, as text.
func (c *client) blockHash(ctx context.Context, addr string, h uint64) ([32]byte, error) {
	path := "/api/block-height/" + strconv.FormatUint(h, 10)
	var hash [32]byte
	b, err := c.get(ctx, addr, path, maxHashAnswer)
	if err != nil {
		return hash, err
	}
	hash, err = chainhash.ParseHash(string(bytes.TrimSuffix(b, []byte("\n"))))
	if err != nil {
		return hash, fmt.Errorf("%s: answer is not 64 lowercase hex digits", path)
	}
	return hash, nil
}

// genesis reads /api/genesis: the network's genesis line.
func (c *client) genesis(ctx context.Context, addr string) (*params.Params, error) {
	const path = "/api/genesis"
	b, err := c.get(ctx, addr, path, params.MaxGenesisLine+1)
	if err != nil {
		return nil, err
	}
	p, err := params.Parse(bytes.TrimSuffix(b, []byte("\n")))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// peers reads /api/peers: a JSON array of HOST:PORT strings.
func (c *client) peers(ctx context.Context, addr string) ([]string, error) {
	const path = "/api/peers"
	b, err := c.get(ctx, addr, path, maxPeersAnswer)
	if err != nil {
		return nil, err
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("%s: not a JSON array of strings: %v", path, err)
	}
	return list, nil
}

// chain opens /api/chain?from=FROM&to=TO, zstd-compressed when the peer
// agrees. The body is cut (errTooLong) past maxBytes decoded bytes, the
// whole download must end within the timeout plus maxBytes at minRate, and
// it fails when no byte arrives for the timeout.
func (c *client) chain(ctx context.Context, addr string, from, to uint64, maxBytes int64) (io.ReadCloser, error) {
	budget := c.timeout + time.Duration(min(float64(maxBytes)/float64(c.minRate), maxBudget.Seconds())*float64(time.Second))
	ctx, cancel := context.WithTimeout(ctx, budget)
	path := "/api/chain?from=" + strconv.FormatUint(from, 10) + "&to=" + strconv.FormatUint(to, 10)
	resp, err := c.do(ctx, addr, path, true)
	if err != nil {
		cancel()
		return nil, err
	}
	b := &body{path: path, resp: resp, cancel: cancel, ctx: ctx, idle: c.timeout, budget: budget}
	b.timer = time.AfterFunc(c.timeout, func() { b.idled.Store(true); cancel() })
	var r io.Reader = &watched{b}
	switch enc := resp.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "zstd":
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(2), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			b.Close()
			return nil, err
		}
		b.zd = d
		r = d
	default:
		b.Close()
		return nil, fmt.Errorf("%s: unknown Content-Encoding %q", path, enc)
	}
	b.r = &capped{r: r, left: maxBytes, limit: maxBytes}
	return b, nil
}

// errTooLong cuts a download longer than its height range allows.
var errTooLong = errors.New("body longer than the blocks asked for can be")

// body is a download: the response, its decoder, its caps and timers.
type body struct {
	path   string
	resp   *http.Response
	r      io.Reader
	zd     *zstd.Decoder
	ctx    context.Context
	cancel context.CancelFunc
	timer  *time.Timer
	idle   time.Duration
	budget time.Duration
	idled  atomic.Bool
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = b.explain(err)
	}
	return n, err
}

// explain names why reading stopped: a timer or the cap, not "context
// canceled".
func (b *body) explain(err error) error {
	switch {
	case errors.Is(err, errTooLong):
		return fmt.Errorf("%s: %w", b.path, err)
	case b.idled.Load():
		return fmt.Errorf("%s: no data for %s", b.path, b.idle)
	case errors.Is(b.ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%s: not done within %s", b.path, b.budget.Round(time.Second))
	}
	return fmt.Errorf("%s: %w", b.path, err)
}

func (b *body) Close() error {
	b.timer.Stop()
	if b.zd != nil {
		b.zd.Close()
	}
	b.cancel()
	return b.resp.Body.Close()
}

// watched resets the idle timer on every byte that arrives.
type watched struct{ b *body }

func (w *watched) Read(p []byte) (int, error) {
	n, err := w.b.resp.Body.Read(p)
	if n > 0 {
		w.b.timer.Reset(w.b.idle)
	}
	return n, err
}

// capped passes at most limit bytes, then fails with errTooLong if more
// follow (a body of exactly limit bytes ends with io.EOF as usual).
type capped struct {
	r     io.Reader
	left  int64
	limit int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			return 0, errTooLong
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
