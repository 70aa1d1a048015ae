package webclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Defaults of a zero Config field.
const (
	DefaultTimeout = 30 * time.Second
	DefaultMinRate = 1 << 20 // bytes per second
	// A download must keep at least DefaultProgressRate bytes a second
	// over the last DefaultProgressWindow of waiting, from
	// DefaultProgressGrace of waiting on (Chain). 16 KiB/s is a slow link
	// (a block of 1 MiB a minute); a node that drips less holds a sync for
	// at most a minute.
	DefaultProgressRate   = 16 << 10 // bytes per second
	DefaultProgressGrace  = 30 * time.Second
	DefaultProgressWindow = 30 * time.Second
)

// maxErrorAnswer caps how much of an answer other than 200 is read for
// the node's {"error","code"}; maxErrorText caps what of it an error
// repeats.
const (
	maxErrorAnswer = 4 << 10
	maxErrorText   = 200
)

// Config sets up a Client. A zero field takes its default.
type Config struct {
	// HTTP makes the requests; default NewHTTP(Timeout).
	HTTP *http.Client
	// Timeout is the deadline of each request but a download, and the
	// longest silence during a download; default DefaultTimeout.
	Timeout time.Duration
	// MinRate, in bytes per second, sets the deadline of a download: the
	// Timeout plus its byte cap at MinRate; default DefaultMinRate.
	MinRate int64
	// ProgressRate, ProgressGrace and ProgressWindow set the progress a
	// download must make (Chain); defaults DefaultProgressRate,
	// DefaultProgressGrace, DefaultProgressWindow.
	ProgressRate   int64
	ProgressGrace  time.Duration
	ProgressWindow time.Duration
}

// Client asks nodes' web apps. It is safe for concurrent use.
type Client struct {
	hc             *http.Client
	timeout        time.Duration
	minRate        int64
	progressRate   int64
	progressGrace  time.Duration
	progressWindow time.Duration
}

// New returns a Client set up by cfg.
func New(cfg Config) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MinRate <= 0 {
		cfg.MinRate = DefaultMinRate
	}
	if cfg.HTTP == nil {
		cfg.HTTP = NewHTTP(cfg.Timeout)
	}
	if cfg.ProgressRate <= 0 {
		cfg.ProgressRate = DefaultProgressRate
	}
	if cfg.ProgressGrace <= 0 {
		cfg.ProgressGrace = DefaultProgressGrace
	}
	if cfg.ProgressWindow <= 0 {
		cfg.ProgressWindow = DefaultProgressWindow
	}
	return &Client{hc: cfg.HTTP, timeout: cfg.Timeout, minRate: cfg.MinRate,
		progressRate: cfg.ProgressRate, progressGrace: cfg.ProgressGrace, progressWindow: cfg.ProgressWindow}
}

// NewHTTP returns the HTTP client a Client uses by default: no proxy, no
// redirects followed, no transparent gzip, connect and response-header
// timeouts of timeout and a 64 KiB response header cap. It sets no overall
// timeout: each request carries its own deadline.
func NewHTTP(timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:                  nil, // nodes are talked to directly
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

// ErrNoAnswer is wrapped by the error of a request that got no answer:
// the node could not be reached, or sent no response header in time.
var ErrNoAnswer = errors.New("no answer")

// noAnswer is a transport error; it reads as the error itself.
type noAnswer struct{ err error }

func (e *noAnswer) Error() string   { return e.err.Error() }
func (e *noAnswer) Unwrap() []error { return []error{e.err, ErrNoAnswer} }

// StatusError is an answer other than 200 OK.
type StatusError struct {
	Path       string // the request's path and query
	StatusCode int    // the HTTP status
	// Code and Msg are the node's own {"error","code"} when the answer
	// held one (cnj-serve's error shape), printable and cut short; else
	// empty.
	Code, Msg string
}

// Error is "PATH: CODE: MSG" for a node's own error (or "PATH: MSG" when
// MSG names its code already), else "PATH: answered STATUS".
func (e *StatusError) Error() string {
	switch {
	case e.Msg == "":
		s := strconv.Itoa(e.StatusCode)
		if t := http.StatusText(e.StatusCode); t != "" {
			s += " " + t
		}
		return e.Path + ": answered " + s
	case e.Code == "" || strings.Contains(e.Msg, e.Code):
		return e.Path + ": " + e.Msg
	}
	return e.Path + ": " + e.Code + ": " + e.Msg
}

// statusError reads the node's {"error","code"} from an answer other than
// 200, if it gave one. A peer's words are untrusted: only printable text,
// cut short, and only a code of lowercase letters, digits and dashes.
func statusError(path string, resp *http.Response) *StatusError {
	e := &StatusError{Path: path, StatusCode: resp.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorAnswer))
	var body struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	if json.Unmarshal(b, &body) != nil || body.Error == "" {
		return e
	}
	e.Msg = printable(body.Error)
	if isCode(body.Code) {
		e.Code = body.Code
	}
	return e
}

func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, s)
	if len(s) > maxErrorText {
		s = strings.ToValidUTF8(s[:maxErrorText], "") + "..."
	}
	return s
}

func isCode(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// Get fetches path (with its query) from the web app at addr within the
// Timeout and returns the body of a 200 answer, which must be at most
// limit bytes.
func (c *Client) Get(ctx context.Context, addr, path string, limit int64) ([]byte, error) {
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
func (c *Client) do(ctx context.Context, addr, path string, zstdOK bool) (*http.Response, error) {
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
			err = ue.Err // drop Go's `Get "http://...":` prefix: the caller names the node
		}
		return nil, fmt.Errorf("%s: %w", path, &noAnswer{timeoutErr(ctx, err, c.timeout)})
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, statusError(path, resp)
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
