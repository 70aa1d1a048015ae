package webclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
)

// maxZstdWindow is the largest window a download may make the zstd
// decoder allocate (the encoder's default is 8 MiB), so that a hostile
// frame cannot ask for gigabytes.
const maxZstdWindow = 32 << 20

// maxBudget caps the deadline of one download, whatever its byte cap.
const maxBudget = 48 * time.Hour

// ErrTooLong is wrapped by the read error of a download that goes on past
// its byte cap.
var ErrTooLong = errors.New("body longer than the blocks asked for can be")

// Chain opens /api/chain?from=FROM&to=TO, the node's main-chain block
// lines from height from to height to, zstd-compressed when the node
// agrees. Reading the body fails (ErrTooLong) past maxBytes decoded bytes;
// the whole download must end within the Timeout plus maxBytes at the
// MinRate, and it fails when no byte arrives for the Timeout. The caller
// closes the body.
func (c *Client) Chain(ctx context.Context, addr string, from, to uint64, maxBytes int64) (io.ReadCloser, error) {
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
	b.r = &capped{r: r, left: maxBytes}
	return b, nil
}

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
	case errors.Is(err, ErrTooLong):
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

// capped passes at most left more bytes, then fails with ErrTooLong if
// more follow (a body of exactly the cap ends with io.EOF as usual).
type capped struct {
	r    io.Reader
	left int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			return 0, ErrTooLong
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
