package webclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
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

// ErrSlow is wrapped by the read error of a download that makes too
// little progress: no byte for the Timeout, or fewer bytes than the
// ProgressRate allows (see Chain).
var ErrSlow = errors.New("too slow")

// Chain opens /api/chain?from=FROM&to=TO, the node's main-chain block
// lines from height from to height to, zstd-compressed when the node
// agrees. Reading the body fails (ErrTooLong) past maxBytes decoded bytes;
// the whole download must end within the Timeout plus maxBytes at the
// MinRate, and it fails when no byte arrives for the Timeout. Besides, it
// must keep making progress, counted in the time spent waiting for the
// node (reads that block; not the time the caller takes between reads)
// and in the bytes that came over the network: from ProgressGrace of
// waiting on, at least ProgressRate bytes a second over the last
// ProgressWindow of waiting, or it fails with ErrSlow. So a node's time
// grows with what it actually sends, never with the size it claims: at
// most ProgressGrace + ProgressWindow + its bytes / ProgressRate of
// waiting. The caller closes the body.
func (c *Client) Chain(ctx context.Context, addr string, from, to uint64, maxBytes int64) (io.ReadCloser, error) {
	budget := c.timeout + time.Duration(min(float64(maxBytes)/float64(c.minRate), maxBudget.Seconds())*float64(time.Second))
	ctx, cancel := context.WithTimeout(ctx, budget)
	path := "/api/chain?from=" + strconv.FormatUint(from, 10) + "&to=" + strconv.FormatUint(to, 10)
	resp, err := c.do(ctx, addr, path, true)
	if err != nil {
		cancel()
		return nil, err
	}
	b := &body{path: path, resp: resp, cancel: cancel, ctx: ctx, idle: c.timeout, budget: budget,
		guard: &progress{rate: c.progressRate, grace: c.progressGrace, window: c.progressWindow}}
	b.timer = time.AfterFunc(c.timeout, func() { b.idled.Store(true); cancel() })
	b.stopGuard = b.guard.watch(cancel)
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
	// guard checks the progress; stopGuard ends its watch.
	guard     *progress
	stopGuard func()
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
		return fmt.Errorf("%s: no data for %s: %w", b.path, b.idle, ErrSlow)
	case b.guard.failed() != "":
		return fmt.Errorf("%s: %s: %w", b.path, b.guard.failed(), ErrSlow)
	case errors.Is(b.ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%s: not done within %s", b.path, b.budget.Round(time.Second))
	}
	return fmt.Errorf("%s: %w", b.path, err)
}

func (b *body) Close() error {
	b.timer.Stop()
	b.stopGuard()
	if b.zd != nil {
		b.zd.Close()
	}
	b.cancel()
	return b.resp.Body.Close()
}

// watched resets the idle timer on every byte that arrives.
type watched struct{ b *body }

func (w *watched) Read(p []byte) (int, error) {
	w.b.guard.begin()
	n, err := w.b.resp.Body.Read(p)
	w.b.guard.end(n)
	if n > 0 {
		w.b.timer.Reset(w.b.idle)
	}
	return n, err
}

// progressTick is how often a download's progress is checked.
const progressTick = 250 * time.Millisecond

// progress measures a download's bytes against the time spent waiting
// for them, and fails it when they fall below the rate (see Chain).
type progress struct {
	rate          int64 // bytes per second
	grace, window time.Duration

	mu      sync.Mutex
	waited  time.Duration // in reads that returned
	since   time.Time     // the read under way began, or zero
	total   int64         // bytes received
	marks   []mark        // (waited, total) at each tick, oldest first
	failure string        // why the download was failed
}

type mark struct {
	waited time.Duration
	total  int64
}

func (p *progress) begin() {
	p.mu.Lock()
	p.since = time.Now()
	p.mu.Unlock()
}

func (p *progress) end(n int) {
	p.mu.Lock()
	p.waited += time.Since(p.since)
	p.since = time.Time{}
	p.total += int64(n)
	p.mu.Unlock()
}

func (p *progress) failed() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failure
}

// watch checks the progress every progressTick and calls cancel when it
// fails; the function it returns ends the watch.
func (p *progress) watch(cancel func()) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(progressTick)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				if p.check(now) {
					cancel()
					return
				}
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done) }) }
}

// check marks the progress at now and tells whether it failed.
func (p *progress) check(now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.waited
	if !p.since.IsZero() {
		w += now.Sub(p.since)
	}
	p.marks = append(p.marks, mark{w, p.total})
	if w < p.grace {
		return false
	}
	// The bytes at the start of the window: those of the last mark at
	// least a window of waiting ago (none: the start).
	var start mark
	i := 0
	for ; i < len(p.marks) && p.marks[i].waited <= w-p.window; i++ {
		start = p.marks[i]
	}
	if i > 1 {
		p.marks = p.marks[i-1:]
	}
	span := min(p.window, w)
	if got, need := p.total-start.total, int64(span.Seconds()*float64(p.rate)); got < need {
		p.failure = fmt.Sprintf("%d bytes in the last %s of waiting, less than %s", got, roundDur(span), ratePhrase(p.rate))
		return true
	}
	return false
}

// roundDur rounds a duration for a message: to 100 ms below 10 s, else
// to the second.
func roundDur(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// ratePhrase writes a rate in bytes a second: "16 KiB/s".
func ratePhrase(r int64) string {
	if r >= 1<<10 && r%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB/s", r>>10)
	}
	return fmt.Sprintf("%d bytes/s", r)
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
