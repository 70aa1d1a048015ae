package explore_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/coniunctum/cnj/internal/explore"
	"github.com/coniunctum/cnj/lib/block"
)

// answer is a recorded answer of a node's web app.
type answer struct {
	status int
	body   string
	header map[string]string
}

// recorded serves answers by path and keeps the paths asked for.
type recorded struct {
	srv     *httptest.Server
	mu      sync.Mutex
	answers map[string]answer
	asked   []string
}

func newRecorded(t *testing.T, answers map[string]answer) *recorded {
	rec := &recorded{answers: answers}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.asked = append(rec.asked, r.URL.EscapedPath())
		rec.mu.Unlock()
		a, ok := rec.answers[r.URL.EscapedPath()]
		if !ok {
			a = answer{404, `{"error":"no such page","code":"not-found"}` + "\n", nil}
		}
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (rec *recorded) remote(t *testing.T) *explore.Remote {
	t.Helper()
	r, err := explore.NewRemote(rec.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (rec *recorded) paths() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.asked...)
}

const (
	recHash = "000f859233b34a63ad7472801cacbe61170c44c2b0c476fbd19993c1a350eb74"
	recID   = "5e6e1d0c3b2a49f8a7c6d5e4f3a2b1c0"
	recAddr = "dcnj1332a1dc4765ba687d2cad109c8d6251402f1e458879f65b6"
	recTip  = `{"height":6,"hash":"` + recHash + `","work":"7007"}`
	recBlk  = `{"type":"block","index":5,"hash":"` + recHash + `"}`
	// recGenesis is the devnet genesis of cnj-format(5)'s test vectors.
	recGenesis = `{"type":"genesis","network":"devnet","address_prefix":"dcnj","timestamp":1795000000,"salt":"636e6a2d666f726d61742d352d766563","spacing":2,"retarget_window":20,"initial_target":"000fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff","reward":5000000000,"halving_interval":1000,"maturity":3,"min_fee":1000,"max_block_bytes":1048576}`
)

func TestRemoteAnswers(t *testing.T) {
	json := map[string]string{"Content-Type": "application/json"}
	rec := newRecorded(t, map[string]answer{
		"/api/tip":                       {200, recTip + "\n", json},
		"/api/genesis":                   {200, recGenesis + "\n", json},
		"/api/block-height/5":            {200, recHash, map[string]string{"Content-Type": "text/plain"}},
		"/api/block/" + recHash + "/raw": {200, recBlk + "\n", json},
	})
	r := rec.remote(t)
	tests := []struct {
		name  string
		call  func(io.Writer) error
		want  string
		paths []string
	}{
		{"tip", r.Tip, recTip + "\n", []string{"/api/tip"}},
		{"genesis", r.Genesis, recGenesis + "\n", []string{"/api/genesis"}},
		{"block by hash", func(w io.Writer) error { return r.Block(recHash, w) }, recBlk + "\n",
			[]string{"/api/block/" + recHash + "/raw"}},
		{"block by index", func(w io.Writer) error { return r.Block("5", w) }, recBlk + "\n",
			[]string{"/api/block-height/5", "/api/block/" + recHash + "/raw"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rec.paths())
			var out bytes.Buffer
			if err := tt.call(&out); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Fatalf("printed %q, want %q", out.String(), tt.want)
			}
			if got := rec.paths()[before:]; strings.Join(got, " ") != strings.Join(tt.paths, " ") {
				t.Fatalf("asked for %q, want %q", got, tt.paths)
			}
		})
	}
}

func TestRemoteErrors(t *testing.T) {
	json := map[string]string{"Content-Type": "application/json"}
	rec := newRecorded(t, map[string]answer{
		"/api/block-height/9":              {404, `{"error":"no block at height 9","code":"not-found"}` + "\n", json},
		"/api/tx/" + recID:                 {404, `{"error":"` + recID + `: no such transaction on the main chain or in the mempool","code":"not-found"}` + "\n", json},
		"/api/address/cnj1y":               {400, `{"error":"cnj1y: wrong-network: address is for main, this chain is devnet","code":"wrong-network"}` + "\n", json},
		"/api/address/cnj1x":               {400, `{"error":"bad-address: cnj1x is not an address","code":"bad-address"}` + "\n", json},
		"/api/tip":                         {503, `{"error":"the chain directory is not available","code":"unavailable"}` + "\n", json},
		"/api/genesis":                     {500, "<html>oops</html>", map[string]string{"Content-Type": "text/html"}},
		"/api/block/" + recHash:            {200, "<html>a page, not a line</html>\n", map[string]string{"Content-Type": "text/html"}},
		"/api/address/" + recAddr:          {302, "", map[string]string{"Location": "/api/tip"}},
		"/api/address/" + recAddr + "/txs": {200, `{"height":1}` + "\n", json},
	})
	r := rec.remote(t)
	host := strings.TrimPrefix(rec.srv.URL, "http://")
	src := "source node " + host + ": "
	tests := []struct {
		name string
		call func(io.Writer) error
		want string // the whole error line
	}{
		// The node, the path, and the node's own error with its code.
		{"node's not-found", func(w io.Writer) error { return r.Block("9", w) }, src + "/api/block-height/9: not-found: no block at height 9"},
		{"node's not-found of a tx", func(w io.Writer) error { return r.Tx(recID, w) },
			src + "/api/tx/" + recID + ": not-found: " + recID + ": no such transaction on the main chain or in the mempool"},
		// A message that starts with its code keeps one copy of it.
		{"node's rule code", func(w io.Writer) error { return r.Balance("cnj1x", w) }, src + "/api/address/cnj1x: bad-address: cnj1x is not an address"},
		{"node's rule code after the address", func(w io.Writer) error { return r.Balance("cnj1y", w) },
			src + "/api/address/cnj1y: cnj1y: wrong-network: address is for main, this chain is devnet"},
		{"node unavailable", r.Tip, src + "/api/tip: unavailable: the chain directory is not available"},
		{"an answer that is no error line", r.Genesis, src + "/api/genesis: answered 500 Internal Server Error"},
		{"a page for a line", func(w io.Writer) error { return r.Block(recHash, w) }, ""},
		// Redirects are not followed: a source node answers in place.
		{"redirect", func(w io.Writer) error { return r.Balance(recAddr, w) }, src + "/api/address/" + recAddr + ": answered 302 Found"},
		{"history not an array", func(w io.Writer) error { return r.History(recAddr, w) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := tt.call(&out)
			if err == nil || out.Len() != 0 {
				t.Fatalf("error %v, printed %q", err, out.Bytes())
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			if tt.want != "" && err.Error() != tt.want {
				t.Fatalf("error %q, want %q", err, tt.want)
			}
			if tt.want == "" && !strings.HasPrefix(err.Error(), "source node "+host+": ") {
				t.Fatalf("error %q does not name the source node", err)
			}
		})
	}
	// Malformed references are refused before anything is asked.
	before := len(rec.paths())
	for _, ref := range []string{"abc", "-1", "", strings.ToUpper(recHash)[:63]} {
		if err := r.Block(ref, io.Discard); err == nil {
			t.Errorf("Block(%q) asked the node", ref)
		}
	}
	for _, id := range []string{strings.ToUpper(recID), recID[:31], ""} {
		if err := r.Tx(id, io.Discard); !errors.Is(err, explore.ErrBadRef) {
			t.Errorf("Tx(%q) = %v, want ErrBadRef", id, err)
		}
	}
	if got := rec.paths()[before:]; len(got) != 0 {
		t.Fatalf("malformed references asked for %q", got)
	}
}

// TestRemoteDown: a node that does not answer is one line naming it.
func TestRemoteDown(t *testing.T) {
	rec := newRecorded(t, nil)
	r := rec.remote(t)
	rec.srv.Close()
	var out bytes.Buffer
	err := r.Tip(&out)
	host := strings.TrimPrefix(rec.srv.URL, "http://")
	if err == nil || !strings.HasPrefix(err.Error(), "source node "+host+": ") ||
		!strings.HasSuffix(err.Error(), "is it running?") || strings.Contains(err.Error(), "\n") || out.Len() != 0 {
		t.Fatalf("error %q, printed %q", err, out.Bytes())
	}
}

func TestNewRemote(t *testing.T) {
	tests := []struct{ source, base string }{
		{"127.0.0.2", "http://127.0.0.2:56230"},
		{"127.0.0.2:8080", "http://127.0.0.2:8080"},
		{"http://127.0.0.2:8080/", "http://127.0.0.2:8080"},
		{"Node.Example", "http://node.example:56230"},
		{"[::1]:80", "http://[::1]:80"},
	}
	for _, tt := range tests {
		r, err := explore.NewRemote(tt.source)
		if err != nil || "http://"+r.Addr() != tt.base {
			t.Errorf("NewRemote(%q) = %v, %v; want %s", tt.source, r, err, tt.base)
		}
	}
	for _, bad := range []string{"", "127.0.0.2:0", "127.0.0.2:65536", "https://127.0.0.2", "host/path", "a b"} {
		if r, err := explore.NewRemote(bad); err == nil || !strings.HasPrefix(err.Error(), "--remote: ") {
			t.Errorf("NewRemote(%q) = %v, %v; want a --remote error", bad, r, err)
		}
	}
}

// TestRemoteMatchesLocal: asked through a node's web app, cnj-chain prints
// the lines it prints from the chain directory itself.
func TestRemoteMatchesLocal(t *testing.T) {
	c := newChain(t)
	n := open(t, c.dir)
	r := serve(t, c.dir)
	type query struct {
		name          string
		local, remote func(io.Writer) error
	}
	var qs []query
	for _, ref := range []string{"1", "5", hexOf(c.blocks[6].Hash[:]), hexOf(c.side.Hash[:])} {
		qs = append(qs, query{"block " + ref,
			func(w io.Writer) error { return explore.Block(n, ref, w) },
			func(w io.Writer) error { return r.Block(ref, w) }})
	}
	rewardID := block.Leaf(c.blocks[6].Reward.Canonical())
	for _, id := range []string{hexOf(c.mined.ID[:]), hexOf(c.pending.ID[:]), hexOf(rewardID[:])} {
		qs = append(qs, query{"tx " + id,
			func(w io.Writer) error { return explore.Tx(lookup(t, n), id, w) },
			func(w io.Writer) error { return r.Tx(id, w) }})
	}
	for _, a := range []string{c.alice.addr, c.bob.addr, c.carol.addr, c.dave.addr} {
		qs = append(qs, query{"balance " + a,
			func(w io.Writer) error { return explore.Balance(n, a, w) },
			func(w io.Writer) error { return r.Balance(a, w) }})
		qs = append(qs, query{"history " + a,
			func(w io.Writer) error { return explore.History(lookup(t, n), a, w) },
			func(w io.Writer) error { return r.History(a, w) }})
	}
	for _, q := range qs {
		t.Run(q.name, func(t *testing.T) {
			var local, remote bytes.Buffer
			if err := q.local(&local); err != nil {
				t.Fatal(err)
			}
			if err := q.remote(&remote); err != nil {
				t.Fatal(err)
			}
			if local.String() != remote.String() {
				t.Fatalf("remote:\n%s\nlocal:\n%s", remote.Bytes(), local.Bytes())
			}
		})
	}
	var out bytes.Buffer
	if err := r.Genesis(&out); err != nil || out.String() != string(c.p.JSON())+"\n" {
		t.Fatalf("genesis: %v, %q", err, out.Bytes())
	}
	// An unknown block is the node's not-found, in one line.
	if err := r.Block("7", io.Discard); err == nil || !strings.Contains(err.Error(), ": not-found: ") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("block 7: %v", err)
	}
}
