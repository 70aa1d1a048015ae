package web

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/blockstore"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/wire"
)

// chainLines is what /api/chain must send for heights from..to.
func chainLines(f *fixture, from, to int) []byte {
	var b bytes.Buffer
	for h := from; h <= to && h < len(f.lines); h++ {
		b.Write(f.lines[h])
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func unzstd(t *testing.T, b []byte) []byte {
	t.Helper()
	d, err := zstd.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	out, err := io.ReadAll(d)
	if err != nil {
		t.Fatalf("the zstd body does not decompress: %v", err)
	}
	return out
}

// TestDownload: /api/chain sends the main chain's block lines, plain or
// zstd, the same bytes either way, read a piece at a time.
func TestDownload(t *testing.T) {
	f := getFixture(t)
	// A few blocks a piece: the body is written in pieces.
	_, ts, logs := newServer(t, Config{scanBytes: 1500})

	for _, c := range []struct {
		query    string
		from, to int
	}{
		{"from=1", 1, fixtureHeight},
		{"", 1, fixtureHeight},
		{"from=3", 3, fixtureHeight},
		{"from=3&to=5", 3, 5},
		{"from=8&to=8", 8, 8},
		{"from=2&to=99", 2, fixtureHeight},
		{"from=9", 9, 8},
		{"from=18446744073709551615", 9, 8},
	} {
		url := ts.URL + "/api/chain?" + c.query
		want := chainLines(f, c.from, c.to)
		resp, plain := get(t, "GET", url)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" || resp.Header.Get("Content-Encoding") != "" {
			t.Fatalf("GET %s: %d %q %q", url, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Encoding"))
		}
		if !bytes.Equal(plain, want) {
			t.Errorf("GET %s:\n got %d bytes %.200q\nwant %d bytes %.200q", url, len(plain), plain, len(want), want)
		}
		for _, ae := range []string{"zstd", "gzip, zstd", "br;q=1.0, ZSTD;q=0.5", "zstd;q=1"} {
			resp, z := get(t, "GET", url, "Accept-Encoding", ae)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "zstd" || resp.Header.Get("Vary") != "Accept-Encoding" {
				t.Fatalf("GET %s (Accept-Encoding: %s): %d, Content-Encoding %q, Vary %q", url, ae, resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
			}
			if got := unzstd(t, z); !bytes.Equal(got, plain) {
				t.Errorf("GET %s (zstd): %d bytes, the plain body has %d", url, len(got), len(plain))
			}
		}
	}
	// Every line is a block that parses, on the chain, in order.
	_, body := get(t, "GET", ts.URL+"/api/chain?from=1")
	n, err := node.Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	for i, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
		b, err := block.Parse(line)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if nd := n.Chain().AtHeight(uint64(i + 1)); nd == nil || nd.Hash != b.Hash {
			t.Errorf("line %d is not the main chain's block %d", i+1, i+1)
		}
	}

	for _, ae := range []string{"", "gzip", "zstd;q=0", "zstd; q=0.000", "xzstd", "zstdx"} {
		resp, _ := get(t, "GET", ts.URL+"/api/chain?from=1", "Accept-Encoding", ae)
		if resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q", ae, resp.Header.Get("Content-Encoding"))
		}
	}
	for _, c := range []struct{ query, code string }{
		{"from=0", "bad-request"},
		{"from=x", "bad-number"},
		{"from=01", "bad-number"},
		{"from=-1", "bad-number"},
		{"from=", "bad-number"},
		{"from=1&from=2", "bad-number"},
		{"from=1&to=x", "bad-number"},
		{"from=5&to=4", "bad-request"},
		{"to=0", "bad-request"},
	} {
		resp, body := get(t, "GET", ts.URL+"/api/chain?"+c.query)
		if resp.StatusCode != 400 {
			t.Errorf("?%s: %d, want 400", c.query, resp.StatusCode)
		}
		checkError(t, "?"+c.query, resp, body, c.code)
	}
	if l := logs.String(); l != "" {
		t.Errorf("the server logged:\n%s", l)
	}
}

// TestDownloadSealed: a zstd download passes a sealed segment that holds
// only main-chain blocks on as it is stored, one zstd frame among those
// the server compresses, and a sealed segment holding a side branch's block
// is read block by block; either way the body decodes to the same lines
// as the plain one, whatever the range.
func TestDownloadSealed(t *testing.T) {
	dir := copyFixture(t)
	f := getFixture(t)
	// Two or three blocks a segment.
	n, err := node.OpenWith(dir, node.Options{Store: blockstore.Options{SegmentSize: 1200}})
	if err != nil {
		t.Fatal(err)
	}
	lines := append([][]byte(nil), f.lines...)
	ts := n.Chain().Tip().Timestamp
	var side *block.Block
	for h := fixtureHeight + 1; h <= 20; h++ {
		ts += 2
		b := mineOn(n, f.miner.addr, ts, nil)
		ls := []*wire.Line{{Raw: b.JSON(), Block: b}}
		if h == 14 {
			// A block of bob's at the same height: kept on a side branch,
			// in the same segment as the main chain's.
			side = mineOn(n, f.bob.addr, ts, nil)
			ls = append(ls, &wire.Line{Raw: side.JSON(), Block: side})
		}
		if err := submit(n, ls...); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, ls[0].Raw)
	}
	if n.Chain().Node(side.Hash) == nil {
		t.Fatal("the side block was not stored")
	}
	sideSeg := n.Chain().Node(side.Hash).Loc.Segment
	n.Close()
	frames, _ := filepath.Glob(filepath.Join(dir, "blocks", "*.jsonl.zst"))
	if len(frames) < 4 {
		t.Fatalf("%d sealed segments, want at least 4", len(frames))
	}
	_, srv, logs := newServer(t, Config{Chain: dir})
	want := func(from, to int) []byte {
		var b bytes.Buffer
		for h := from; h <= to && h < len(lines); h++ {
			b.Write(lines[h])
			b.WriteByte('\n')
		}
		return b.Bytes()
	}
	var passed, sideSent bool
	for _, c := range [][2]int{{1, 20}, {1, 8}, {2, 20}, {9, 20}, {9, 13}, {12, 19}, {20, 20}} {
		url := fmt.Sprintf("%s/api/chain?from=%d&to=%d", srv.URL, c[0], c[1])
		_, plain := get(t, "GET", url)
		if !bytes.Equal(plain, want(c[0], c[1])) {
			t.Fatalf("GET %s: the plain body is not the main chain's lines", url)
		}
		_, z := get(t, "GET", url, "Accept-Encoding", "zstd")
		if got := unzstd(t, z); !bytes.Equal(got, plain) {
			t.Fatalf("GET %s (zstd): %d bytes, the plain body has %d", url, len(got), len(plain))
		}
		for _, name := range frames {
			frame, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(z, frame) {
				passed = true
				if name == filepath.Join(dir, "blocks", fmt.Sprintf("%06d.jsonl.zst", sideSeg)) {
					sideSent = true
				}
			}
		}
	}
	if !passed {
		t.Error("no sealed segment was passed on as stored")
	}
	if sideSent {
		t.Error("the segment holding a side block was sent whole")
	}
	if l := logs.String(); l != "" {
		t.Errorf("the server logged:\n%s", l)
	}
}

// TestDownloadFollows: the download is the chain at the time of the
// request, and later requests see what other processes add.
func TestDownloadFollows(t *testing.T) {
	dir := copyFixture(t)
	f := getFixture(t)
	_, ts, _ := newServer(t, Config{Chain: dir})
	n, err := node.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	_, line, err := addBlock(n, f.bob.addr, n.Chain().Tip().Timestamp+2, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, h := get(t, "GET", ts.URL+"/api/blocks/tip/height")
		if string(h) == "9" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not follow the new block: height %s", h)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, body := get(t, "GET", ts.URL+"/api/chain?from=8")
	if want := string(f.lines[8]) + "\n" + string(line) + "\n"; string(body) != want {
		t.Errorf("after a new block: %q", body)
	}
	if _, body := get(t, "GET", ts.URL+"/api/address/"+f.bob.addr); !strings.Contains(string(body), `"immature":5000000000,`) {
		t.Errorf("bob's reward is not in his balance: %s", body)
	}
}

// TestUnavailable: while the directory cannot be read the API answers 503,
// and it comes back by itself.
func TestUnavailable(t *testing.T) {
	dir := copyFixture(t)
	s, ts, _ := newServer(t, Config{Chain: dir})
	s.st.mu.Lock()
	n := s.st.n
	s.st.n = nil
	s.st.mu.Unlock()
	n.Close()
	for _, p := range []string{"/api/address/" + getFixture(t).alice.addr, "/api/block-height/1", "/api/chain?from=1", "/api/peers", "/api/blocks"} {
		resp, body := get(t, "GET", ts.URL+p)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s: %d, want 503", p, resp.StatusCode)
		}
		checkError(t, p, resp, body, "unavailable")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, _ := get(t, "GET", ts.URL+"/api/block-height/1")
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAcceptsZstd is the Accept-Encoding rule.
func TestAcceptsZstd(t *testing.T) {
	for h, want := range map[string]bool{
		"zstd": true, "ZStd": true, "gzip, zstd": true, "zstd;q=0.1": true, " zstd ; q=1": true, "br, zstd;q=0.001": true,
		"": false, "gzip": false, "zstd;q=0": false, "zstd;q=0.0": false, "zstd; q=0.000": false, "zstdx": false, "x-zstd": false, "*": false,
	} {
		if got := acceptsZstd([]string{h}); got != want {
			t.Errorf("acceptsZstd(%q) = %v, want %v", h, got, want)
		}
	}
	if acceptsZstd(nil) {
		t.Error("acceptsZstd(nil)")
	}
}

// TestConcurrent: queries of every kind run while another process adds
// blocks and transfers and the server follows it (run with -race).
func TestConcurrent(t *testing.T) {
	dir := copyFixture(t)
	f := getFixture(t)
	_, ts, logs := newServer(t, Config{Chain: dir, RefreshEvery: 5 * time.Millisecond, scanBytes: 2000})
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		n, err := node.Open(dir)
		if err != nil {
			done <- err
			return
		}
		// Close before reporting: it writes the state file, which must be
		// done before the test's temporary directory is removed.
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- n.Close()
				return
			default:
			}
			tip := n.Chain().Tip()
			var txs []*tx.Tx
			if i%2 == 0 {
				txs = append(txs, transfer(f.p, f.alice, f.bob.addr, 1000, tip.Timestamp+2))
			}
			if _, _, err := addBlock(n, f.miner.addr, tip.Timestamp+2, txs); err != nil {
				n.Close()
				done <- err
				return
			}
		}
	}()
	paths := []string{
		"/api/address/" + f.alice.addr, "/api/address/" + f.bob.addr + "/txs", "/api/chain?from=1",
		"/api/tx/" + hex.EncodeToString(f.mined.ID[:]), "/api/blocks", "/api/blocks/tip/height", "/api/mempool",
		"/metrics", "/", "/address/" + f.bob.addr, "/api/block-height/3",
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; i < 40; i++ {
				p := paths[(g+i)%len(paths)]
				resp, err := http.Get(ts.URL + p)
				if err != nil {
					t.Errorf("GET %s: %v", p, err)
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 {
					t.Errorf("GET %s: %d %v %.100s", p, resp.StatusCode, err, body)
				}
				if strings.HasPrefix(p, "/api/chain") {
					// Whole lines, consecutive heights from 1.
					for j, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
						b, err := block.Parse(line)
						if err != nil || b.Index != uint64(j+1) {
							t.Errorf("/api/chain line %d: %v", j+1, err)
							break
						}
					}
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if l := logs.String(); l != "" {
		t.Errorf("the server logged:\n%s", l)
	}
}

// TestDownloadTurns: one client runs at most DownloadsPerClient downloads
// at once; one more waits for a turn and is refused 503 busy when none
// comes in time. HEAD and other clients are not held up, and a turn given
// back in time is taken.
func TestDownloadTurns(t *testing.T) {
	s, ts, _ := newServer(t, Config{DownloadWait: 100 * time.Millisecond})
	ctx := context.Background()
	var held []func()
	for range DownloadsPerClient {
		r, err := s.downloadTurn(ctx, "127.0.0.1:1")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, r)
	}
	resp, body := get(t, "GET", ts.URL+"/api/chain?from=1")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a download too many: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	checkError(t, "a download too many", resp, body, "busy")
	if resp, _ := get(t, "HEAD", ts.URL+"/api/chain?from=1"); resp.StatusCode != 200 {
		t.Errorf("HEAD while the client's turns are taken: %d", resp.StatusCode)
	}
	other, err := s.downloadTurn(ctx, "127.0.0.2:1")
	if err != nil {
		t.Fatalf("another client: %v", err)
	}
	other()
	go func() {
		time.Sleep(30 * time.Millisecond)
		held[0]()
	}()
	resp, body = get(t, "GET", ts.URL+"/api/chain?from=1")
	if resp.StatusCode != 200 || bytes.Count(body, []byte("\n")) != len(getFixture(t).lines)-1 {
		t.Fatalf("a turn given back in time: %d, %d lines", resp.StatusCode, bytes.Count(body, []byte("\n")))
	}
	held[1]()
	s.downloads.mu.Lock()
	defer s.downloads.mu.Unlock()
	if len(s.downloads.held) != 0 {
		t.Errorf("turns still counted: %v", s.downloads.held)
	}
}
