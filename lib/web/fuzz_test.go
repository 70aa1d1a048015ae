package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzRequest sends any request target through the whole application: it
// never fails (500), never shows a secret, and serves nothing under /bin/
// but the two binaries, nothing under /man/ but the three pages.
func FuzzRequest(f *testing.F) {
	s, _, _ := newServer(f, Config{})
	h := s.Handler()
	for _, seed := range []string{"/", "/api/tip", "/bin/cnj-x", "/bin/../chain/key", "/man/cnj-x.1", "/man/../key", "/SHA256SUMS", "/api/chain?from=1&to=3", "/api/address/x/txs", "/search?q=1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, target string) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return // net/http answers 400 itself
		}
		r := &http.Request{Method: "GET", URL: u, RequestURI: target, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{}, Host: "x", RemoteAddr: "192.0.2.1:1234"}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case 200, 303, 206, 400, 404, 414:
		default:
			t.Fatalf("GET %q: status %d: %s", target, w.Code, w.Body.Bytes())
		}
		if strings.Contains(w.Body.String(), secret) {
			t.Fatalf("GET %q: a secret", target)
		}
		if w.Code == 200 && strings.HasPrefix(u.Path, "/bin/") && u.Path != "/bin/cnj-x" && u.Path != "/bin/cnj-y" {
			t.Fatalf("GET %q: served %s", target, u.Path)
		}
		if w.Code == 200 && strings.HasPrefix(u.Path, "/man/") && u.Path != "/man/cnj-x.1" && u.Path != "/man/cnj-y.1" && u.Path != "/man/cnj-format.5" {
			t.Fatalf("GET %q: served %s", target, u.Path)
		}
		if s.panics.Load() != 0 {
			t.Fatalf("GET %q: a handler panicked", target)
		}
	})
}
