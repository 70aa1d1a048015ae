package web

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/rule"
)

// TestPoolFetch: /api/mempool/txs answers the pooled transfers of the ids
// asked for, as mempool.jsonl holds them, and nothing for an id the pool
// does not hold; a malformed or overlong list is a 400.
func TestPoolFetch(t *testing.T) {
	f := getFixture(t)
	_, ts, _ := newServer(t, Config{})
	pending := hex.EncodeToString(f.pending.ID[:])
	mined := hex.EncodeToString(f.mined.ID[:])
	resp, body := get(t, "GET", ts.URL+"/api/mempool/txs?ids="+mined+","+pending)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" || string(body) != string(f.pending.AppendJSON(nil))+"\n" {
		t.Fatalf("%d %s: %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	for _, q := range []string{"", "?ids=", "?ids=xyz", "?ids=" + pending + "&ids=" + pending, "?ids=" + strings.Repeat(pending+",", MaxPoolFetch) + pending} {
		if resp, body := get(t, "GET", ts.URL+"/api/mempool/txs"+q); resp.StatusCode != 400 {
			t.Errorf("%.60s: %d %s", q, resp.StatusCode, body)
		}
	}
}

// TestTxEvents: /api/tx/ID/events tells what the pool did with a
// transfer: returned (pending again after a reorganization) and dropped,
// with the counts; a transfer without events has none; the answer follows
// the file as it grows.
func TestTxEvents(t *testing.T) {
	f := getFixture(t)
	dir := copyFixture(t)
	_, ts, _ := newServer(t, Config{Chain: dir})
	id := hex.EncodeToString(f.mined.ID[:])
	url := ts.URL + "/api/tx/" + id + "/events"
	if resp, body := get(t, "GET", url); resp.StatusCode != 200 || string(body) != `{"events":[],"returned":0,"dropped":0}`+"\n" {
		t.Fatalf("no events: %d %s", resp.StatusCode, body)
	}
	d := chaindir.Dir(dir)
	line := f.mined.AppendJSON(nil)
	if err := d.LogPoolEvents([]chaindir.PoolEvent{
		{Time: 10, Event: chaindir.EventReturned, Block: [32]byte{0xab}, Tx: line},
		{Time: 11, Event: chaindir.EventDropped, Reason: rule.BadTxTime, Tx: f.pending.AppendJSON(nil)},
		{Time: 12, Event: chaindir.EventDropped, Reason: rule.InsufficientFunds, Tx: line},
	}); err != nil {
		t.Fatal(err)
	}
	h := hex.EncodeToString(f.mined.Hash[:])
	want := `{"events":[{"time":10,"event":"returned","block":"ab` + strings.Repeat("0", 62) + `","sender":"` + f.mined.Sender + `","hash":"` + h +
		`"},{"time":12,"event":"dropped","reason":"insufficient-funds","sender":"` + f.mined.Sender + `","hash":"` + h + `"}],"returned":1,"dropped":1}` + "\n"
	if resp, body := get(t, "GET", url); resp.StatusCode != 200 || string(body) != want {
		t.Fatalf("events: %d\n%s\nwant\n%s", resp.StatusCode, body, want)
	}
	if resp, _ := get(t, "GET", ts.URL+"/api/tx/zz/events"); resp.StatusCode != 400 {
		t.Errorf("a bad id: %d", resp.StatusCode)
	}
}
