package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
)

// raw sends request bytes as they are (no client cleans the path) and
// reads the response.
func raw(t *testing.T, addr, request string) (*http.Response, []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%.80q: %v", request, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func rawGet(t *testing.T, addr, target string) (*http.Response, []byte) {
	t.Helper()
	return raw(t, addr, "GET "+target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
}

// TestTraversal tries to read files outside the published data: the key
// files of the fixture, its chain files, and files of the system. Nothing
// may answer 200 but the one binary that is served; nothing may show a
// secret.
func TestTraversal(t *testing.T) {
	_, ts, _ := newServer(t, Config{})
	addr := ts.Listener.Addr().String()
	targets := []string{
		"/bin/../chain/state",
		"/bin/../chain/key",
		"/bin/../key",
		"/bin/%2e%2e/chain/key",
		"/bin/%2E%2E/%2e%2e/key",
		"/bin/.%2e/key",
		"/bin/%2e%2e%2fkey",
		"/bin/..%2f..%2fkey",
		"/bin/..%2F..%2Fchain%2Fkey",
		"/bin/cnj-x/../../key",
		"/bin/cnj-x/../cnj-key",
		"/bin/cnj-x%2f..%2f..%2fkey",
		"/bin/cnj-x/%2e%2e/%2e%2e/key",
		"/bin//etc/passwd",
		"/bin/%2fetc%2fpasswd",
		"/bin/%2Fetc%2Fpasswd",
		"//etc/passwd",
		"/bin/" + "%252e%252e/key",
		"/bin/cnj-x%00",
		"/bin/cnj-x%00.key",
		"/bin/cnj-key%00",
		"/bin/..%5c..%5ckey",
		"/bin/..\\..\\key",
		"/bin/cnj-key",
		"/bin/cnj-x.key",
		"/bin/cnj-link",
		"/bin/cnj-rel",
		"/bin/cnj-sub",
		"/bin/cnj-sub/cnj-",
		"/bin/other",
		"/bin/.cnj-hidden",
		"/bin/",
		"/bin",
		"/bin/.",
		"/bin/..",
		"/key",
		"/chain/key",
		"/genesis.json",
		"/rejects.log",
		"/peers.seen",
		"/blocks/000000.jsonl",
		"/api/block/..%2f..%2fkey",
		"/api/address/..%2fkey/txs",
		"/api/../bin/cnj-key",
		"/./bin/cnj-key",
		"http://x/bin/../key",
		"http://x/../../key",
		"/etc/passwd",
		"/proc/self/environ",
		"*",
		"key",
		"../key",
	}
	for _, target := range targets {
		resp, body := rawGet(t, addr, target)
		t.Logf("%-32s %d %.60s", target, resp.StatusCode, body)
		if resp.StatusCode == 200 || resp.StatusCode/100 == 3 {
			t.Errorf("GET %s: %d, want a refusal", target, resp.StatusCode)
		}
		if strings.Contains(string(body), secret) || strings.Contains(string(body), "root:") {
			t.Errorf("GET %s: the body shows a secret: %q", target, body)
		}
	}
	// The binary that is served, and only its bytes.
	resp, body := rawGet(t, addr, "/bin/cnj-x")
	if resp.StatusCode != 200 || string(body) != "#!/bin/sh\necho cnj-x\n" {
		t.Errorf("GET /bin/cnj-x: %d %q", resp.StatusCode, body)
	}
}

// TestCleanPath is the path rule of the guard.
func TestCleanPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/api/tip": true, "/bin/cnj-x": true, "/a.b/c~d_e-f": true, "/...": true,
		"": false, "api": false, "//": false, "/a//b": false, "/a/": false, "/.": false, "/..": false,
		"/a/./b": false, "/a/../b": false, "/a/..": false, "/a\x00": false, "/a b": false, "/a%2e": false,
		"/a\\b": false, "/é": false, "/a?b": false, "/a#b": false, "/a:b": false, "*": false,
	} {
		if got := cleanPath(p); got != want {
			t.Errorf("cleanPath(%q) = %v, want %v", p, got, want)
		}
	}
}

// TestLimits: header size (431, net/http's own), URL length (414).
func TestLimits(t *testing.T) {
	s, _, _ := newServer(t, Config{})
	addr := serveReal(t, s)

	big := strings.Repeat("a", s.cfg.MaxHeaderBytes+8192)
	resp, _ := raw(t, addr, "GET /api/tip HTTP/1.1\r\nHost: x\r\nX-Big: "+big+"\r\nConnection: close\r\n\r\n")
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("oversized header: %d, want 431", resp.StatusCode)
	}
	many := strings.Repeat("X-A: b\r\n", s.cfg.MaxHeaderBytes/8+1024)
	resp, _ = raw(t, addr, "GET /api/tip HTTP/1.1\r\nHost: x\r\n"+many+"Connection: close\r\n\r\n")
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("too many headers: %d, want 431", resp.StatusCode)
	}

	for _, target := range []string{
		"/api/address/" + strings.Repeat("a", s.cfg.MaxURLBytes),
		"/api/tip?x=" + strings.Repeat("a", s.cfg.MaxURLBytes),
	} {
		resp, body := rawGet(t, addr, target)
		if resp.StatusCode != http.StatusRequestURITooLong {
			t.Errorf("URL of %d bytes: %d, want 414", len(target), resp.StatusCode)
		}
		checkError(t, "long URL", resp, body, "uri-too-long")
	}
	resp, _ = rawGet(t, addr, "/api/tip?x="+strings.Repeat("a", s.cfg.MaxURLBytes-len("/api/tip?x=")))
	if resp.StatusCode != 200 {
		t.Errorf("URL of exactly MaxURLBytes: %d, want 200", resp.StatusCode)
	}
}

// serveReal serves s with the http.Server of HTTPServer (the timeouts and
// limits of its Config) on a loopback port, and returns the address.
func serveReal(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := s.HTTPServer(ln.Addr().String())
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String()
}

// TestSlowloris: a client that trickles its headers is cut off by
// ReadHeaderTimeout; one that sends nothing after connecting too; one that
// stalls its body by ReadTimeout; the server keeps answering others.
func TestSlowloris(t *testing.T) {
	s, _, _ := newServer(t, Config{ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 600 * time.Millisecond})
	addr := serveReal(t, s)

	trickle := func(name string, first string, next func(i int) string) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		if _, err := io.WriteString(c, first); err != nil {
			t.Fatal(err)
		}
		closed := make(chan time.Duration, 1)
		go func() {
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			io.Copy(io.Discard, c) // returns when the server closes
			closed <- time.Since(start)
		}()
		for i := 0; ; i++ {
			select {
			case d := <-closed:
				if d < 250*time.Millisecond || d > 3*time.Second {
					t.Errorf("%s: closed after %v", name, d)
				}
				return
			case <-time.After(50 * time.Millisecond):
				if next != nil {
					io.WriteString(c, next(i)) // fails once closed: that is the point
				}
			}
		}
	}
	trickle("headers trickled", "GET /api/tip HTTP/1.1\r\nHost: x\r\n", func(i int) string { return fmt.Sprintf("X-%d: y\r\n", i) })
	trickle("a byte at a time", "G", func(int) string { return "E" })
	trickle("silent", "", nil)
	trickle("stalled body", "GET /api/tip HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc", nil)

	// Meanwhile others are served.
	resp, _ := rawGet(t, addr, "/api/tip")
	if resp.StatusCode != 200 {
		t.Errorf("after the slow clients: %d", resp.StatusCode)
	}
}

// TestRateLimit: a client over its rate gets 429 with Retry-After; others
// do not; the count shows in /metrics.
func TestRateLimit(t *testing.T) {
	s, ts, _ := newServer(t, Config{Rate: 1, Burst: 3})
	for i := 0; i < 3; i++ {
		if resp, _ := get(t, "GET", ts.URL+"/api/tip"); resp.StatusCode != 200 {
			t.Fatalf("request %d of the burst: %d", i+1, resp.StatusCode)
		}
	}
	resp, body := get(t, "GET", ts.URL+"/api/tip")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over the rate: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	checkError(t, "over the rate", resp, body, "rate-limited")
	if s.limited.Load() == 0 {
		t.Error("the 429 was not counted")
	}
	time.Sleep(1100 * time.Millisecond)
	if resp, _ := get(t, "GET", ts.URL+"/api/tip"); resp.StatusCode != 200 {
		t.Errorf("a second later: %d", resp.StatusCode)
	}

	l := newIPLimiter(1, 2)
	for _, c := range []struct {
		remote string
		want   bool
	}{
		{"10.0.0.1:1", true}, {"10.0.0.1:2", true}, {"10.0.0.1:3", false}, // one IP, any port
		{"10.0.0.2:1", true}, {"[::ffff:10.0.0.2]:1", true}, {"10.0.0.2:1", false}, // v4-mapped is v4
		{"[2001:db8::1]:1", true}, {"[2001:db8::2]:1", true}, {"[2001:db8::3]:1", false}, // one /64
		{"[2001:db8:0:1::1]:1", true},
		{"@unix", true},
	} {
		if got := l.allow(c.remote); got != c.want {
			t.Errorf("allow(%s) = %v, want %v", c.remote, got, c.want)
		}
	}
}

// TestLimiterBounded: the limiter forgets clients beyond maxClients.
func TestLimiterBounded(t *testing.T) {
	l := newIPLimiter(1000, 1)
	for i := 0; i < maxClients+100; i++ {
		l.allow(fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255))
	}
	if n := len(l.clients); n > maxClients {
		t.Errorf("%d clients remembered, at most %d", n, maxClients)
	}
}

// TestPanic: a handler that panics is answered with 500, a panic after the
// answer started cuts the connection, and the server goes on.
func TestPanic(t *testing.T) {
	s, _, logs := newServer(t, Config{})
	routes := s.routes()
	h := s.guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/boom":
			panic("boom")
		case "/late-boom":
			w.Write([]byte("partial"))
			w.(http.Flusher).Flush()
			panic("late boom")
		case "/abort":
			panic(http.ErrAbortHandler)
		}
		routes.ServeHTTP(w, r)
	}))
	ts := httptest.NewServer(h)
	defer ts.Close()

	resp, body := get(t, "GET", ts.URL+"/boom")
	if resp.StatusCode != 500 {
		t.Errorf("panic: %d, want 500", resp.StatusCode)
	}
	checkError(t, "panic", resp, body, "internal")
	if strings.Contains(string(body), "boom") {
		t.Errorf("the panic's value reached the client: %q", body)
	}
	if resp, _ := get(t, "GET", ts.URL+"/api/tip"); resp.StatusCode != 200 {
		t.Errorf("after the panic: %d", resp.StatusCode)
	}
	r, err := http.Get(ts.URL + "/late-boom")
	if err == nil {
		_, err = io.ReadAll(r.Body)
		r.Body.Close()
	}
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a panic after the answer started: %v, want the connection cut (unexpected EOF)", err)
	}
	if _, err := http.Get(ts.URL + "/abort"); err == nil {
		t.Error("ErrAbortHandler: no error, want the connection cut")
	}
	if resp, _ := get(t, "GET", ts.URL+"/api/tip"); resp.StatusCode != 200 {
		t.Errorf("after the panics: %d", resp.StatusCode)
	}
	if n := s.panics.Load(); n != 2 {
		t.Errorf("%d panics counted, want 2 (ErrAbortHandler is not one)", n)
	}
	if l := logs.String(); !strings.Contains(l, "panic serving GET /boom: boom") || !strings.Contains(l, "late boom") {
		t.Errorf("log: %q", l)
	}
	_, body = get(t, "GET", ts.URL+"/metrics")
	if !strings.Contains(string(body), "\ncnj_http_panics_total 2\n") {
		t.Errorf("/metrics does not count the panics:\n%s", body)
	}
}

// TestConnLimit: Serve closes connections beyond MaxConnsPerIP at once and
// takes new ones when others close; it stops cleanly when its context ends.
func TestConnLimit(t *testing.T) {
	s, _, _ := newServer(t, Config{MaxConnsPerIP: 3})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	addr := ln.Addr().String()

	// open dials and reports whether the server keeps the connection
	// (nothing read within 300 ms) or closes it.
	open := func() (net.Conn, bool) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, err = c.Read(make([]byte, 1))
		var ne net.Error
		kept := errors.As(err, &ne) && ne.Timeout()
		c.SetReadDeadline(time.Time{})
		return c, kept
	}
	var conns []net.Conn
	for i := 0; i < 3; i++ {
		c, kept := open()
		if !kept {
			t.Fatalf("connection %d was closed", i+1)
		}
		conns = append(conns, c)
	}
	if c, kept := open(); kept {
		c.Close()
		t.Fatal("a fourth connection from one IP was kept")
	}
	conns[0].Close()
	time.Sleep(100 * time.Millisecond)
	c, kept := open()
	if !kept {
		t.Fatal("no connection taken after one closed")
	}
	// It still answers on a kept connection.
	fmt.Fprintf(c, "GET /api/tip HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("on a kept connection: %v %v", resp, err)
	}
	c.Close()
	for _, c := range conns[1:] {
		c.Close()
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not stop")
	}
}

// TestWithoutIndex: lookups answer from the index up to where it agrees
// with the chain and from the blocks above it. A directory whose index is
// missing (none made yet) answers the same from the blocks alone, while
// they are few (Config.maxLag); beyond, 503 index-behind with
// Retry-After, and the rest of the app is not held up.
func TestWithoutIndex(t *testing.T) {
	f := getFixture(t)
	dir := copyFixture(t)
	if err := os.Remove(chaindir.Dir(dir).File(chaindir.TxIndexFile)); err != nil {
		t.Fatal(err)
	}
	_, withIndex, _ := newServer(t, Config{})
	_, noIndex, _ := newServer(t, Config{Chain: dir})
	_, behind, _ := newServer(t, Config{Chain: dir, maxLag: 1000})
	id := hex.EncodeToString(f.mined.ID[:])
	reward := block.Leaf(f.blocks[7].Reward.Canonical())
	for _, path := range []string{
		"/api/tx/" + id,
		"/api/tx/" + hex.EncodeToString(reward[:]) + "/merkle-proof",
		"/api/address/" + f.alice.addr,
		"/api/address/" + f.bob.addr + "/txs",
		"/api/address/" + f.bob.addr + "/txs/chain/" + hex.EncodeToString(f.blocks[6].Txs[1].ID[:]),
		"/tx/" + id,
		"/address/" + f.alice.addr,
	} {
		resp1, want := get(t, "GET", withIndex.URL+path)
		resp2, got := get(t, "GET", noIndex.URL+path)
		// The pages name the server they were asked in their commands.
		got = bytes.ReplaceAll(got, []byte(strings.TrimPrefix(noIndex.URL, "http://")), []byte(strings.TrimPrefix(withIndex.URL, "http://")))
		if resp1.StatusCode != 200 || resp2.StatusCode != 200 || !bytes.Equal(got, want) {
			t.Errorf("%s without the index: %d %.300s\nwith it: %d %.300s", path, resp2.StatusCode, got, resp1.StatusCode, want)
		}
		resp, body := get(t, "GET", behind.URL+path)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s far behind: %d, Retry-After %q", path, resp.StatusCode, resp.Header.Get("Retry-After"))
		} else if strings.HasPrefix(path, "/api/") {
			checkError(t, path, resp, body, "index-behind")
		}
	}
	if resp, _ := get(t, "GET", behind.URL+"/api/block/"+hex.EncodeToString(f.blocks[6].Hash[:])+"/txs"); resp.StatusCode != 200 {
		t.Errorf("a block's transactions without the index: %d", resp.StatusCode)
	}
}
