package web

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/rule"
)

// TestHeaders: /api/headers/START[?count=N] is the main chain's canonical
// headers from START, back to back, up to the tip; bad ranges are 400.
func TestHeaders(t *testing.T) {
	f := getFixture(t)
	_, ts, _ := newServer(t, Config{})
	want := func(from, to int) []byte {
		var b []byte
		for h := from; h <= to; h++ {
			hb := f.blocks[h].Bytes()
			b = append(b, hb[:]...)
		}
		return b
	}
	for _, c := range []struct {
		path     string
		from, to int
	}{
		{"/api/headers/1", 1, fixtureHeight},
		{"/api/headers/3?count=2", 3, 4},
		{"/api/headers/7?count=2000", 7, fixtureHeight},
		{"/api/headers/8?count=1", 8, 8},
		{"/api/headers/9", 9, 8},
		{"/api/headers/18446744073709551615", 9, 8},
	} {
		resp, body := get(t, "GET", ts.URL+c.path)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/octet-stream" {
			t.Errorf("%s: %d %s", c.path, resp.StatusCode, resp.Header.Get("Content-Type"))
			continue
		}
		if !bytes.Equal(body, want(c.from, c.to)) {
			t.Errorf("%s: %d bytes, not the headers of %d..%d", c.path, len(body), c.from, c.to)
		}
	}
	for _, p := range []string{"/api/headers/0", "/api/headers/-1", "/api/headers/01", "/api/headers/x",
		"/api/headers/1?count=0", "/api/headers/1?count=2001", "/api/headers/1?count=", "/api/headers/1?count=1e3"} {
		resp, body := get(t, "GET", ts.URL+p)
		if resp.StatusCode != 400 || !strings.Contains(string(body), `"code":"bad-number"`) {
			t.Errorf("%s: %d %s, want 400 bad-number", p, resp.StatusCode, body)
		}
	}
	// The answer decodes and chains: each header names the one before.
	_, body := get(t, "GET", ts.URL+"/api/headers/1")
	prev := f.p.Hash()
	for i := 0; i < len(body); i += block.HeaderSize {
		h, err := block.DecodeHeader(body[i : i+block.HeaderSize])
		if err != nil || h.PrevHash != prev {
			t.Fatalf("header %d: %v, does not follow the one before", i/block.HeaderSize+1, err)
		}
		prev = h.ComputeHash()
	}
}

// TestTxFate: /api/tx/ID/fate says confirmed (with its block and depth),
// pending, refused (rejects.log's reason and message, also for a refusal
// logged after the server started) or unknown.
func TestTxFate(t *testing.T) {
	f := getFixture(t)
	dir := copyFixture(t)
	_, ts, _ := newServer(t, Config{Chain: dir})
	fate := func(id []byte) map[string]any {
		t.Helper()
		resp, body := get(t, "GET", ts.URL+"/api/tx/"+hex.EncodeToString(id)+"/fate")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("fate of %x: %d %s", id, resp.StatusCode, body)
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		if m["txid"] != hex.EncodeToString(id) {
			t.Fatalf("fate of %x names %v", id, m["txid"])
		}
		return m
	}
	got := fate(f.mined.ID[:])
	if got["state"] != "confirmed" || got["block_height"] != 5.0 || got["confirmations"] != float64(fixtureHeight-5+1) ||
		got["block_hash"] != hex.EncodeToString(f.blocks[5].Hash[:]) {
		t.Errorf("mined transfer: %v", got)
	}
	if got := fate(f.pending.ID[:]); got["state"] != "pending" || got["returned"] != 0.0 || len(got) != 4 {
		t.Errorf("pending transfer: %v", got)
	}
	if got := fate(make([]byte, 16)); got["state"] != "refused" || got["reason"] != "bad-signature" || got["msg"] != "y" {
		t.Errorf("refused transfer (the last of its two lines): %v", got)
	}
	other := bytes.Repeat([]byte{0x5a}, 16)
	if got := fate(other); got["state"] != "unknown" || len(got) != 4 {
		t.Errorf("unknown transfer: %v", got)
	}
	if err := chaindir.Dir(dir).LogReject(chaindir.Reject{Time: 42, Reason: rule.InsufficientFunds, ID: other, Msg: "has 1, needs 2"}); err != nil {
		t.Fatal(err)
	}
	if got := fate(other); got["state"] != "refused" || got["reason"] != "insufficient-funds" || got["msg"] != "has 1, needs 2" || got["time"] != 42.0 {
		t.Errorf("refused after the server started: %v", got)
	}
	// A refused copy of a transfer that is in a block does not hide it.
	if err := chaindir.Dir(dir).LogReject(chaindir.Reject{Time: 43, Reason: rule.DuplicateID, ID: f.mined.ID[:], Msg: "dup"}); err != nil {
		t.Fatal(err)
	}
	if got := fate(f.mined.ID[:]); got["state"] != "confirmed" {
		t.Errorf("a confirmed transfer refused again reads %v", got)
	}
	for _, p := range []string{"/api/tx/0011/fate", "/api/tx/" + strings.Repeat("A", 32) + "/fate",
		"/api/tx/" + hex.EncodeToString(f.blocks[5].Hash[:]) + "/fate"} {
		resp, body := get(t, "GET", ts.URL+p)
		if resp.StatusCode != 400 || !strings.Contains(string(body), `"code":"bad-hex"`) {
			t.Errorf("%s: %d %s", p, resp.StatusCode, body)
		}
	}
}
