package webclient_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chainhash"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/webclient"
)

// Deadlines: a test that waits for an answer gives the server all the time
// a slow machine needs (the default 30 s); a test that must hit a deadline
// sets a short one, which a slow machine only hits sooner.
const short = 100 * time.Millisecond

const (
	hash5 = "00000e5a0000000000000000000000000000000000000000000000000000abcd"
	tip5  = `{"height":5,"hash":"` + hash5 + `","timestamp":1700000000,"target":"000fff","work":"5005","mempool":2}`
	id1   = "00112233445566778899aabbccddeeff"
)

// node serves fixed answers by escaped path (with query), and 404
// {"error","code"} for any other.
type node struct {
	answers map[string]string
}

func (n *node) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		p += "?" + r.URL.RawQuery
	}
	a, ok := n.answers[p]
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"no such page","code":"not-found"}`+"\n")
		return
	}
	io.WriteString(w, a)
}

// serve starts h and returns the HOST:PORT of its web app.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// hang answers nothing until the client gives up (or the test ends).
func hang(t *testing.T) http.HandlerFunc {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) }) // runs before the server's Close
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}
}

func client(timeout time.Duration) *webclient.Client {
	return webclient.New(webclient.Config{Timeout: timeout})
}

func mustContain(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one containing %q", err, want)
	}
}

func TestTip(t *testing.T) {
	addr := serve(t, &node{answers: map[string]string{"/api/tip": tip5 + "\n"}})
	c := client(0)
	tip, err := c.Tip(t.Context(), addr)
	if err != nil {
		t.Fatal(err)
	}
	if tip.Height != 5 || tip.Hash.String() != hash5 || tip.Work.Text(16) != "5005" {
		t.Fatalf("tip %v, work %v", tip, tip.Work)
	}
	line, err := c.TipLine(t.Context(), addr)
	if err != nil || string(line) != tip5+"\n" {
		t.Fatalf("TipLine = %q, %v", line, err)
	}
}

func TestTipRefused(t *testing.T) {
	for _, c := range []struct {
		name, answer, want string
		code               rule.Code
	}{
		{"garbage", "garbage", "/api/tip: bad-json", rule.BadJSON},
		{"uppercase hash", strings.Replace(tip5, hash5, strings.ToUpper(hash5), 1), "/api/tip: bad-hex", rule.BadHex},
		{"short hash", strings.Replace(tip5, hash5, hash5[:63], 1), "/api/tip: bad-hex", rule.BadHex},
		{"no work", `{"height":5,"hash":"` + hash5 + `"}`, "/api/tip: missing-field", rule.MissingField},
		{"work with a leading zero", strings.Replace(tip5, `"5005"`, `"05005"`, 1), "not hex without leading zeros", ""},
		{"negative height", strings.Replace(tip5, `:5,`, `:-5,`, 1), "/api/tip: bad-number", rule.BadNumber},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr := serve(t, &node{answers: map[string]string{"/api/tip": c.answer}})
			_, err := client(0).Tip(t.Context(), addr)
			mustContain(t, err, c.want)
			if c.code != "" && !rule.Is(err, c.code) {
				t.Fatalf("error %v, want code %s", err, c.code)
			}
			if _, err := client(0).TipLine(t.Context(), addr); err == nil {
				t.Fatal("TipLine took what Tip refuses")
			}
		})
	}
}

func TestBlockHash(t *testing.T) {
	addr := serve(t, &node{answers: map[string]string{
		"/api/block-height/5": hash5 + "\n",
		"/api/block-height/6": strings.ToUpper(hash5),
		"/api/block-height/7": hash5[:63],
	}})
	h, err := client(0).BlockHash(t.Context(), addr, 5)
	if err != nil || h.String() != hash5 {
		t.Fatalf("BlockHash = %v, %v", h, err)
	}
	for _, height := range []uint64{6, 7} {
		h, err := client(0).BlockHash(t.Context(), addr, height)
		mustContain(t, err, "answer is not 64 lowercase hex digits")
		if h != (chainhash.Hash{}) {
			t.Fatalf("hash %v with error %v", h, err)
		}
	}
}

func TestGenesis(t *testing.T) {
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: 1700000000})
	if err != nil {
		t.Fatal(err)
	}
	line := string(p.JSON()) + "\n"
	addr := serve(t, &node{answers: map[string]string{"/api/genesis": line}})
	c := client(0)
	g, err := c.Genesis(t.Context(), addr)
	if err != nil || g.Hash() != p.Hash() {
		t.Fatalf("Genesis = %v, %v", g, err)
	}
	got, err := c.GenesisLine(t.Context(), addr)
	if err != nil || string(got) != line {
		t.Fatalf("GenesisLine = %q, %v", got, err)
	}

	bad := serve(t, &node{answers: map[string]string{"/api/genesis": strings.Replace(line, `"type":"genesis"`, `"type":"genesis","x":1`, 1)}})
	if _, err := c.Genesis(t.Context(), bad); !rule.Is(err, rule.UnknownField) || !strings.HasPrefix(err.Error(), "/api/genesis: ") {
		t.Fatalf("Genesis of a bad line = %v, want /api/genesis: unknown-field", err)
	}
	if _, err := c.GenesisLine(t.Context(), bad); !rule.Is(err, rule.UnknownField) {
		t.Fatalf("GenesisLine of a bad line = %v, want unknown-field", err)
	}
}

func TestPeers(t *testing.T) {
	addr := serve(t, &node{answers: map[string]string{"/api/peers": `["127.0.0.2:5050","x"]` + "\n"}})
	list, err := client(0).Peers(t.Context(), addr)
	if err != nil || strings.Join(list, " ") != "127.0.0.2:5050 x" {
		t.Fatalf("Peers = %q, %v", list, err)
	}
	bad := serve(t, &node{answers: map[string]string{"/api/peers": `["a",1]`}})
	_, err = client(0).Peers(t.Context(), bad)
	mustContain(t, err, "/api/peers: not a JSON array of strings")
}

// transfer is a transfer line's object with id i (not signed: the client
// reads its form, it does not judge it).
func transfer(i int) *tx.Tx {
	t := &tx.Tx{Sender: addrA, Receiver: addrB, Amount: uint64(1 + i), Fee: 1000, Timestamp: 1700000000}
	t.ID[0], t.ID[15] = byte(i>>8), byte(i)
	return t
}

// Two devnet addresses.
var (
	addrA = keys.Address("dcnj", make(ed25519.PublicKey, ed25519.PublicKeySize))
	addrB = keys.Address("dcnj", append(make(ed25519.PublicKey, ed25519.PublicKeySize-1), 1))
)

// txObject is Esplora's transaction object of a transfer, in block h (0:
// the mempool), as cnj-serve writes it (cnj-serve(1)).
func txObject(t *tx.Tx, h int) string {
	status := `{"confirmed":false}`
	if h > 0 {
		status = fmt.Sprintf(`{"confirmed":true,"block_height":%d,"block_hash":"%s","block_time":1700000000}`, h, hash5)
	}
	return fmt.Sprintf(`{"txid":"%x","vin":[{"is_coinbase":false,"prevout":{"scriptpubkey_address":"%s","value":%d}}],`+
		`"vout":[{"scriptpubkey_address":"%s","value":%d}],"size":%d,"fee":%d,"status":%s,"tx":%s}`,
		t.ID, t.Sender, t.Amount+t.Fee, t.Receiver, t.Amount, len(t.AppendJSON(nil)), t.Fee, status, t.AppendJSON(nil))
}

// TestExplorerCalls: what cnj-chain --remote asks, at the web app's
// paths, read from Esplora's objects: the transaction (cnj's "tx" field,
// decoded strictly and held to the object's txid), the balance (cnj's
// fields), an address's history page by page, the tip's height.
func TestExplorerCalls(t *testing.T) {
	block := `{"type":"block","index":5,"hash":"` + hash5 + `"}`
	reward := tx.Reward{Receiver: addrA, Amount: 5000, Index: 5}
	leaf := block0Leaf(&reward)
	var txs []*tx.Tx
	for i := range 30 {
		txs = append(txs, transfer(i))
	}
	page := func(ts []*tx.Tx) string {
		var objs []string
		for i := len(ts) - 1; i >= 0; i-- {
			objs = append(objs, txObject(ts[i], 5))
		}
		return "[" + strings.Join(objs, ",") + "]\n"
	}
	n := &node{answers: map[string]string{
		"/api/block/" + hash5 + "/raw":                        block + "\n",
		"/api/tx/" + id1:                                      txObject(transfer(0x0e), 5) + "\n",
		"/api/tx/" + hex.EncodeToString(transfer(0x0e).ID[:]): txObject(transfer(0x0e), 5) + "\n",
		"/api/tx/" + hex.EncodeToString(transfer(1).ID[:]):    txObject(transfer(1), 0) + "\n",
		"/api/tx/" + hex.EncodeToString(leaf): `{"txid":"` + hex.EncodeToString(leaf) + `","vin":[{"is_coinbase":true,"prevout":null}],"vout":[],` +
			`"status":{"confirmed":true,"block_height":5,"block_hash":"` + hash5 + `","block_time":1},"tx":` + string(reward.AppendJSON(nil)) + "}\n",
		"/api/blocks/tip/height":           "7",
		"/api/address/a%2Fb%20c":           `{"address":"a/b c","chain_stats":{},"confirmed":1,"immature":2,"pending":-3,"height":7}` + "\n",
		"/api/address/a%2Fb%20c/txs/chain": page(txs[5:]),
		"/api/address/a%2Fb%20c/txs/chain/" + hex.EncodeToString(txs[5].ID[:]): page(txs[:5]),
		"/api/address/a%2Fb%20c/txs/mempool":                                   "[" + txObject(transfer(31), 0) + "," + txObject(transfer(30), 0) + "]",
	}}
	addr := serve(t, n)
	c := client(0)
	hash, _ := chainhash.ParseHash(hash5)
	id, _ := chainhash.ParseID(id1)

	if got, err := c.BlockLine(t.Context(), addr, hash); err != nil || string(got) != block+"\n" {
		t.Errorf("BlockLine = %q, %v", got, err)
	}
	at, err := c.Tx(t.Context(), addr, transfer(0x0e).ID[:])
	if err != nil || !at.Confirmed || at.Height != 5 || at.Block != hash || *at.Transfer != *transfer(0x0e) || at.Reward != nil {
		t.Errorf("Tx = %+v, %v", at, err)
	}
	if _, err := c.Tx(t.Context(), addr, id[:]); err == nil || !strings.Contains(err.Error(), "answered another transaction") {
		t.Errorf("Tx answered with another transaction: %v", err)
	}
	if at, err := c.Tx(t.Context(), addr, transfer(1).ID[:]); err != nil || at.Confirmed || at.Transfer == nil {
		t.Errorf("Tx in the mempool = %+v, %v", at, err)
	}
	if at, err := c.Tx(t.Context(), addr, leaf); err != nil || at.Reward == nil || *at.Reward != reward || at.Transfer != nil {
		t.Errorf("Tx of a reward = %+v, %v", at, err)
	}
	if h, err := c.TipHeight(t.Context(), addr); err != nil || h != 7 {
		t.Errorf("TipHeight = %d, %v", h, err)
	}
	if b, err := c.Balance(t.Context(), addr, "a/b c"); err != nil || b != (webclient.Balance{Confirmed: 1, Immature: 2, Pending: -3, Height: 7}) {
		t.Errorf("Balance = %+v, %v", b, err)
	}
	confirmed, pending, err := c.History(t.Context(), addr, "a/b c")
	if err != nil || len(confirmed) != 30 || len(pending) != 2 {
		t.Fatalf("History: %d confirmed, %d pending, %v", len(confirmed), len(pending), err)
	}
	for i, at := range confirmed {
		if *at.Transfer != *txs[i] {
			t.Fatalf("confirmed %d is transfer %x", i, at.Transfer.ID)
		}
	}
	if *pending[0].Transfer != *transfer(30) || *pending[1].Transfer != *transfer(31) {
		t.Fatal("pending transfers not oldest first")
	}
}

// TestExplorerRefusals: answers that are not what they should be are
// refused, naming the path.
func TestExplorerRefusals(t *testing.T) {
	good := transfer(2)
	other := transfer(3)
	id := hex.EncodeToString(good.ID[:])
	obj := txObject(good, 5)
	n := &node{answers: map[string]string{
		"/api/tx/" + id: strings.Replace(obj, `"txid":"`+id, `"txid":"`+hex.EncodeToString(other.ID[:]), 1),
		"/api/tx/" + hex.EncodeToString(other.ID[:]):       strings.Replace(txObject(other, 5), `"vin":[`, `"vin":[{"is_coinbase":false},`, 1),
		"/api/tx/" + hex.EncodeToString(transfer(4).ID[:]): strings.Replace(txObject(transfer(4), 5), `"type":"tx"`, `"type":"tx","extra":1`, 1),
		"/api/blocks/tip/height":                           "07",
		"/api/address/x":                                   `{"address":"y","confirmed":1,"immature":2,"pending":-3,"height":7}`,
		"/api/address/z":                                   `{"address":"z","confirmed":1,"pending":-3,"height":7}`,
		"/api/address/w/txs/chain":                         `[1]`,
	}}
	addr := serve(t, n)
	c := client(0)
	_, err := c.Tx(t.Context(), addr, good.ID[:])
	mustContain(t, err, "/api/tx/"+id+": txid")
	_, err = c.Tx(t.Context(), addr, other.ID[:])
	mustContain(t, err, "2 inputs, not one")
	_, err = c.Tx(t.Context(), addr, transfer(4).ID[:])
	mustContain(t, err, "/api/tx/"+hex.EncodeToString(transfer(4).ID[:])+": tx: ")
	_, err = c.TipHeight(t.Context(), addr)
	mustContain(t, err, "/api/blocks/tip/height: answer is not a height")
	_, err = c.Balance(t.Context(), addr, "x")
	mustContain(t, err, "/api/address/x: not the address's balance")
	_, err = c.Balance(t.Context(), addr, "z")
	mustContain(t, err, "/api/address/z: not the address's balance")
	_, _, err = c.History(t.Context(), addr, "w")
	mustContain(t, err, "/api/address/w/txs/chain: not an array of transactions")
}

// block0Leaf is a reward's txid: its merkle leaf.
func block0Leaf(r *tx.Reward) []byte {
	l := block.Leaf(r.Canonical())
	return l[:]
}

func TestChain(t *testing.T) {
	body := "line 1\nline 2\n"
	n := &node{answers: map[string]string{"/api/chain?from=3&to=4": body}}
	addr := serve(t, n)
	got := readChain(t, client(0), addr, 3, 4, int64(len(body)))
	if got != body {
		t.Fatalf("body %q", got)
	}
}

func readChain(t *testing.T, c *webclient.Client, addr string, from, to uint64, max int64) string {
	t.Helper()
	r, err := c.Chain(t.Context(), addr, from, to, max)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestChainZstd(t *testing.T) {
	body := strings.Repeat("a block line\n", 1000)
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "zstd" {
			t.Errorf("Accept-Encoding %q", r.Header.Get("Accept-Encoding"))
		}
		w.Header().Set("Content-Encoding", "zstd")
		zw, _ := zstd.NewWriter(w)
		io.WriteString(zw, body)
		zw.Close()
	}))
	if got := readChain(t, client(0), addr, 1, 1000, int64(len(body))); got != body {
		t.Fatalf("decoded %d bytes, want %d", len(got), len(body))
	}

	// The cap counts decoded bytes: one past it is cut.
	r, err := client(0).Chain(t.Context(), addr, 1, 1000, int64(len(body))-1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = io.ReadAll(r)
	if !errors.Is(err, webclient.ErrTooLong) {
		t.Fatalf("read %v, want ErrTooLong", err)
	}

	other := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "br")
		io.WriteString(w, "x")
	}))
	_, err = client(0).Chain(t.Context(), other, 1, 2, 10)
	mustContain(t, err, `/api/chain?from=1&to=2: unknown Content-Encoding "br"`)
}

// TestCaps: an answer of exactly its cap is read; one byte more is refused.
func TestCaps(t *testing.T) {
	const limit = 1000
	addr := serve(t, &node{answers: map[string]string{
		"/at":   strings.Repeat("x", limit),
		"/past": strings.Repeat("x", limit+1),
	}})
	c := client(0)
	b, err := c.Get(t.Context(), addr, "/at", limit)
	if err != nil || len(b) != limit {
		t.Fatalf("Get at the cap = %d bytes, %v", len(b), err)
	}
	_, err = c.Get(t.Context(), addr, "/past", limit)
	mustContain(t, err, "/past: answer longer than 1000 bytes")

	chain := serve(t, &node{answers: map[string]string{
		"/api/chain?from=1&to=1": strings.Repeat("x", limit),
		"/api/chain?from=1&to=2": strings.Repeat("x", limit+1),
	}})
	if got := readChain(t, c, chain, 1, 1, limit); len(got) != limit {
		t.Fatalf("download at the cap: %d bytes", len(got))
	}
	r, err := c.Chain(t.Context(), chain, 1, 2, limit)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if !errors.Is(err, webclient.ErrTooLong) || len(got) != limit {
		t.Fatalf("download one past the cap: %d bytes, %v", len(got), err)
	}
	mustContain(t, err, "/api/chain?from=1&to=2: body longer than the blocks asked for can be")
}

// endless writes until the client hangs up.
func endless(w http.ResponseWriter, r *http.Request) {
	chunk := bytes.Repeat([]byte("x"), 4096)
	for {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

func TestEndlessBodyCut(t *testing.T) {
	addr := serve(t, http.HandlerFunc(endless))
	c := client(0)
	_, err := c.Get(t.Context(), addr, "/api/peers", 1<<20)
	mustContain(t, err, "/api/peers: answer longer than 1048576 bytes")

	r, err := c.Chain(t.Context(), addr, 1, 2, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n, err := io.Copy(io.Discard, r)
	if !errors.Is(err, webclient.ErrTooLong) || n != 1<<20 {
		t.Fatalf("read %d bytes, %v; want the cap and ErrTooLong", n, err)
	}
}

func TestNodeError(t *testing.T) {
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/block/" + hash5 + "/raw":
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":"`+hash5+`: no such block","code":"not-found"}`+"\n")
		case "/api/address/x":
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"x: bad-address: no '1' separator after the prefix","code":"bad-address"}`)
		case "/api/tip":
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "<html>busy</html>")
		case "/api/peers":
			w.WriteHeader(http.StatusTeapot)
			io.WriteString(w, `{"error":"\u001b[31mred\u001b[0m `+strings.Repeat("z", 300)+`","code":"Not A Code"}`)
		}
	}))
	c := client(0)
	hash, _ := chainhash.ParseHash(hash5)
	_, err := c.BlockLine(t.Context(), addr, hash)
	var se *webclient.StatusError
	if !errors.As(err, &se) || se.StatusCode != 404 || se.Code != "not-found" || se.Msg != hash5+": no such block" {
		t.Fatalf("error %#v, want the node's own", err)
	}
	if want := "/api/block/" + hash5 + "/raw: not-found: " + hash5 + ": no such block"; err.Error() != want {
		t.Fatalf("error %q\nwant %q", err, want)
	}
	if errors.Is(err, webclient.ErrNoAnswer) {
		t.Fatal("an answer counted as none")
	}

	_, err = c.Balance(t.Context(), addr, "x")
	if want := "/api/address/x: x: bad-address: no '1' separator after the prefix"; err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant %q (the code once)", err, want)
	}

	_, err = c.Tip(t.Context(), addr)
	if err == nil || err.Error() != "/api/tip: answered 503 Service Unavailable" {
		t.Fatalf("error %v, want the status", err)
	}

	// A peer's words are untrusted: no control characters reach a terminal,
	// a long message is cut, a code that is not one is dropped.
	_, err = c.Peers(t.Context(), addr)
	if !errors.As(err, &se) || se.Code != "" || strings.ContainsRune(se.Msg, 0x1b) || len(se.Msg) > 210 || !strings.HasPrefix(se.Msg, "?[31mred?[0m zzz") {
		t.Fatalf("error %q (code %q)", err, se.Code)
	}
}

func TestRedirectRefused(t *testing.T) {
	var followed atomic.Bool
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			followed.Store(true)
			io.WriteString(w, tip5)
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	_, err := client(0).Tip(t.Context(), addr)
	if err == nil || err.Error() != "/api/tip: answered 302 Found" || followed.Load() {
		t.Fatalf("error %v, followed %v", err, followed.Load())
	}
	_, err = client(0).Chain(t.Context(), addr, 1, 2, 100)
	mustContain(t, err, "/api/chain?from=1&to=2: answered 302 Found")
}

// TestNoAnswer: a node that never answers hits the deadline, and one that
// is not there is refused at once; both are ErrNoAnswer.
func TestNoAnswer(t *testing.T) {
	addr := serve(t, hang(t))
	c := client(short)
	_, err := c.Tip(t.Context(), addr)
	if !errors.Is(err, webclient.ErrNoAnswer) || err.Error() != "/api/tip: no answer within 100ms" {
		t.Fatalf("Tip = %v", err)
	}
	_, err = c.Chain(t.Context(), addr, 1, 2, 100)
	if !errors.Is(err, webclient.ErrNoAnswer) || !strings.Contains(err.Error(), "no answer within 100ms") {
		t.Fatalf("Chain = %v", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	_, err = client(0).Genesis(t.Context(), closed)
	if !errors.Is(err, webclient.ErrNoAnswer) || !strings.Contains(err.Error(), "refused") || !strings.HasPrefix(err.Error(), "/api/genesis: ") {
		t.Fatalf("Genesis = %v", err)
	}
}

// TestSlowBody: a download whose body does not come hits the silence
// deadline; one that keeps trickling hits the download's deadline; one
// that trickles for longer than the silence deadline, but never falls
// silent for that long, is read whole. A small answer that stops coming
// hits its deadline too. The deadlines are 1 s, not shorter, so that a
// slow machine still gets the header in time.
func TestSlowBody(t *testing.T) {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wait, bytes := 10*time.Millisecond, -1 // a byte every 10 ms, forever
		switch r.URL.Query().Get("from") {
		case "1":
			wait = time.Hour // the header, then nothing
		case "3":
			wait, bytes = 20*time.Millisecond, 120 // 2.4 s in all
		}
		w.(http.Flusher).Flush()
		for i := 0; i != bytes; i++ {
			select {
			case <-time.After(wait):
			case <-r.Context().Done():
				return
			case <-done:
				return
			}
			if _, err := io.WriteString(w, "x"); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}))
	read := func(cfg webclient.Config, from uint64, max int64) (int, error) {
		r, err := webclient.New(cfg).Chain(t.Context(), addr, from, from+1, max)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		return len(b), err
	}

	// Silent: 1 s of silence ends it, long before the budget (1 s plus 3
	// MiB at 1 MiB/s).
	_, err := read(webclient.Config{Timeout: time.Second, MinRate: 1 << 20}, 1, 3<<20)
	mustContain(t, err, "/api/chain?from=1&to=2: no data for 1s")

	// Trickling: a byte every 10 ms keeps the 1 s silence deadline from
	// firing (even at a tenth of the speed), but the whole download must
	// end within 1 s plus 100 bytes at a huge rate.
	_, err = read(webclient.Config{Timeout: time.Second, MinRate: 1 << 40}, 2, 100)
	mustContain(t, err, "/api/chain?from=2&to=3: not done within 1s")

	// Slow but steady: every byte resets the silence deadline.
	n, err := read(webclient.Config{Timeout: time.Second, MinRate: 1}, 3, 1000)
	if err != nil || n != 120 {
		t.Fatalf("read %d bytes, %v; want all 120", n, err)
	}

	// A small answer must be whole within the Timeout, body included.
	_, err = webclient.New(webclient.Config{Timeout: time.Second}).Get(t.Context(), addr, "/api/peers?from=2", 1<<20)
	mustContain(t, err, "/api/peers?from=2: no answer within 1s")
}

// TestHugeHeader: a response header is capped at 64 KiB.
func TestHugeHeader(t *testing.T) {
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Junk", strings.Repeat("x", 65<<10))
		io.WriteString(w, tip5)
	}))
	_, err := client(0).Tip(t.Context(), addr)
	if !errors.Is(err, webclient.ErrNoAnswer) || !strings.Contains(err.Error(), "header") {
		t.Fatalf("Tip = %v", err)
	}
}

// TestGetCancelled: the caller's context ends a request too.
func TestGetCancelled(t *testing.T) {
	addr := serve(t, hang(t))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := client(0).Get(ctx, addr, "/api/tip", 10)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v, want context.Canceled", err)
	}
}

// TestProgress: a download that drips fails with ErrSlow once its rate over
// the window falls below ProgressRate, long before its other deadlines;
// one that comes fast enough is read whole; the rate counts the time spent
// waiting for the node, not the time the reader takes between reads.
func TestProgress(t *testing.T) {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	big := strings.Repeat("y", 256<<10)
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush()
		switch r.URL.Query().Get("from") {
		case "1", "4": // a byte every 50 ms: 20 bytes a second, forever
			if r.URL.Query().Get("from") == "4" { // after 2 MiB at once
				for range 8 {
					io.WriteString(w, big)
				}
			}
			for {
				select {
				case <-time.After(50 * time.Millisecond):
				case <-r.Context().Done():
					return
				case <-done:
					return
				}
				if _, err := io.WriteString(w, "x"); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		case "2": // 32 KiB every 20 ms, 0.8 s in all: 1.6 MiB/s
			for range 40 {
				time.Sleep(20 * time.Millisecond)
				io.WriteString(w, big[:32<<10])
				w.(http.Flusher).Flush()
			}
		case "3": // 256 KiB at once
			io.WriteString(w, big)
		}
	}))
	cfg := webclient.Config{Timeout: 10 * time.Second, ProgressRate: 256 << 10, ProgressGrace: 300 * time.Millisecond, ProgressWindow: 300 * time.Millisecond}
	open := func(from uint64) io.ReadCloser {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second) // ends a run with the check broken
		t.Cleanup(cancel)
		r, err := webclient.New(cfg).Chain(ctx, addr, from, from+1, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
	start := time.Now()
	_, err := io.ReadAll(open(1))
	if !errors.Is(err, webclient.ErrSlow) || !strings.Contains(err.Error(), "/api/chain?from=1&to=2: ") ||
		!strings.Contains(err.Error(), "less than 256 KiB/s") {
		t.Fatalf("dripping: %v, want too slow", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the drip failed after %v, past its window", d)
	}
	// The window: 2 MiB at once, then a drip, fails within a window of
	// the drip, not once the drip brought the average under the rate.
	start = time.Now()
	_, err = io.ReadAll(open(4))
	if !errors.Is(err, webclient.ErrSlow) || !strings.Contains(err.Error(), "in the last 300ms of waiting, less than 256 KiB/s") {
		t.Fatalf("a burst, then a drip: %v, want too slow in the last window", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the drip after a burst failed after %v, past its window", d)
	}
	if b, err := io.ReadAll(open(2)); err != nil || len(b) != 40*32<<10 {
		t.Fatalf("a steady download: %d bytes, %v", len(b), err)
	}
	// A reader slower than the rate, from a node that sent all at once:
	// 16 KiB every 100 ms is 160 KiB/s of the reader's time, but no time
	// waiting for the node.
	r, got := open(3), 0
	buf := make([]byte, 16<<10)
	for {
		n, err := io.ReadFull(r, buf)
		got += n
		if err != nil {
			if err != io.EOF && err != io.ErrUnexpectedEOF {
				t.Fatalf("a slow reader: %v after %d bytes", err, got)
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got != len(big) {
		t.Fatalf("a slow reader got %d bytes", got)
	}
}
