package web

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Error codes of the JSON error answers (besides the address rule codes).
const (
	codeBadHex       = "bad-hex"
	codeBadNumber    = "bad-number"
	codeBadPath      = "bad-path"
	codeBadRequest   = "bad-request"
	codeNotFound     = "not-found"
	codeMethod       = "method-not-allowed"
	codeURITooLong   = "uri-too-long"
	codeRateLimited  = "rate-limited"
	codeInternal     = "internal"
	codeUnavailable  = "unavailable"
	codeBusy         = "busy"
	codeIndexBehind  = "index-behind"
	allowedMethods   = "GET, HEAD"
	contentTypeJSON  = "application/json"
	contentTypeText  = "text/plain; charset=utf-8"
	contentTypeHTML  = "text/html; charset=utf-8"
	contentTypeLines = "application/x-ndjson"
)

// Header values, shared so that setting them allocates nothing; net/http
// never changes them.
var (
	hdrJSON    = []string{contentTypeJSON}
	hdrText    = []string{contentTypeText}
	hdrHTML    = []string{contentTypeHTML}
	hdrNosniff = []string{"nosniff"}
	hdrAllow   = []string{allowedMethods}
	hdrRetry   = []string{"1"}
	hdrNoStore = []string{"no-store"}
)

// guard wraps the routes in the checks of the package documentation, in
// order: method, target length, path, rate, then recover.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header()["Allow"] = hdrAllow
			s.refuse(w, r, http.StatusMethodNotAllowed, codeMethod, "only GET and HEAD are served")
			return
		}
		if len(r.RequestURI) > s.cfg.MaxURLBytes {
			s.refuse(w, r, http.StatusRequestURITooLong, codeURITooLong, "the request target is too long")
			return
		}
		if !cleanPath(r.URL.Path) {
			s.refuse(w, r, http.StatusBadRequest, codeBadPath, "malformed path")
			return
		}
		if s.limiter != nil && !s.limiter.allow(r.RemoteAddr) {
			s.limited.Add(1)
			w.Header()["Retry-After"] = hdrRetry
			s.refuse(w, r, http.StatusTooManyRequests, codeRateLimited, "too many requests: slow down")
			return
		}
		gw := guardPool.Get().(*guardWriter)
		gw.ResponseWriter, gw.wrote = w, false
		defer func() {
			p := recover()
			wrote := gw.wrote
			gw.ResponseWriter = nil
			guardPool.Put(gw)
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.panics.Add(1)
			s.log.Printf("panic serving %s %s: %v", r.Method, r.URL.Path, p)
			if wrote {
				panic(http.ErrAbortHandler) // the client sees a cut response, not a wrong one
			}
			writeError(w, http.StatusInternalServerError, codeInternal, "internal error")
		}()
		next.ServeHTTP(gw, r)
	})
}

// cleanPath reports whether p is an absolute, clean path (no empty, "." or
// ".." segment) of letters, digits and "-._~/". Decoded NUL, "%", "\",
// encoded slashes and dots all end up refused here or as ".." segments.
func cleanPath(p string) bool {
	if len(p) == 0 || p[0] != '/' {
		return false
	}
	seg := 0 // length of the current segment
	dots := 0
	for i := 1; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			if (seg == 0 && i != len(p)) || (seg > 0 && seg == dots && dots <= 2) {
				return false
			}
			if seg == 0 && i == len(p) && i > 1 {
				return false // a trailing slash
			}
			seg, dots = 0, 0
			continue
		}
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '~':
		case c == '.':
			dots++
		default:
			return false
		}
		seg++
	}
	return true
}

// guardWriter remembers whether the response has started, so that a panic
// is answered with 500 only when nothing was sent yet.
type guardWriter struct {
	http.ResponseWriter
	wrote bool
}

var guardPool = sync.Pool{New: func() any { return new(guardWriter) }}

func (g *guardWriter) WriteHeader(code int) {
	g.wrote = true
	g.ResponseWriter.WriteHeader(code)
}

func (g *guardWriter) Write(b []byte) (int, error) {
	g.wrote = true
	return g.ResponseWriter.Write(b)
}

// Flush and Unwrap let http.ResponseController reach the connection.
func (g *guardWriter) Flush() {
	g.wrote = true
	if f, ok := g.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (g *guardWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// writeError answers {"error":msg,"code":code}.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["X-Content-Type-Options"] = hdrNosniff
	h["Cache-Control"] = hdrNoStore
	delete(h, "Content-Encoding")
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}{msg, code})
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// extendWrite pushes the write deadline of a long response by (the
// WriteTimeout) ahead, but never past end.
func extendWrite(rc *http.ResponseController, by time.Duration, end time.Time) {
	d := time.Now().Add(by)
	if d.After(end) {
		d = end
	}
	_ = rc.SetWriteDeadline(d) // not supported by test recorders: nothing to extend
}
