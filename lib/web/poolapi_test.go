package web

import (
	"encoding/hex"
	"fmt"
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

// TestFateEvents: /api/tx/ID/fate tells what the pool did with a
// transfer: how many times a reorganization returned it (pending again)
// and each event, oldest first; a transfer dropped from the pool and
// nowhere else is "dropped" with the reason, unless a later refusal says
// otherwise; the answer follows the file as it grows.
func TestFateEvents(t *testing.T) {
	f := getFixture(t)
	dir := copyFixture(t)
	_, ts, _ := newServer(t, Config{Chain: dir})
	fate := func(id []byte) string {
		t.Helper()
		resp, body := get(t, "GET", ts.URL+"/api/tx/"+hex.EncodeToString(id)+"/fate")
		if resp.StatusCode != 200 {
			t.Fatalf("fate of %x: %d %s", id, resp.StatusCode, body)
		}
		return string(body)
	}
	id := hex.EncodeToString(f.mined.ID[:])
	if got := fate(f.mined.ID[:]); !strings.HasSuffix(got, `,"returned":0,"events":[]}`+"\n") {
		t.Fatalf("no events: %s", got)
	}
	// gone: a transfer of its own id that no block or pool holds.
	gone := *f.mined
	gone.ID = [16]byte{0x77}
	d := chaindir.Dir(dir)
	line := f.mined.AppendJSON(nil)
	if err := d.LogPoolEvents([]chaindir.PoolEvent{
		{Time: 10, Event: chaindir.EventReturned, Block: [32]byte{0xab}, Tx: line},
		{Time: 11, Event: chaindir.EventDropped, Reason: rule.BadTxTime, Tx: f.pending.AppendJSON(nil)},
		{Time: 12, Event: chaindir.EventDropped, Reason: rule.InsufficientFunds, Tx: line},
		{Time: 13, Event: chaindir.EventDropped, Reason: rule.Evicted, Tx: gone.AppendJSON(nil)},
	}); err != nil {
		t.Fatal(err)
	}
	h := hex.EncodeToString(f.mined.Hash[:])
	want := `"state":"confirmed","block_height":5,"block_hash":"` + hex.EncodeToString(f.blocks[5].Hash[:]) + `","confirmations":` + fmt.Sprint(fixtureHeight-5+1) +
		`,"returned":1,"events":[{"time":10,"event":"returned","block":"ab` + strings.Repeat("0", 62) + `","sender":"` + f.mined.Sender + `","hash":"` + h +
		`"},{"time":12,"event":"dropped","reason":"insufficient-funds","sender":"` + f.mined.Sender + `","hash":"` + h + `"}]}` + "\n"
	if got := fate(f.mined.ID[:]); got != `{"txid":"`+id+`",`+want {
		t.Fatalf("events:\n%s\nwant\n%s", got, want)
	}
	gh := hex.EncodeToString(gone.Hash[:])
	wantGone := `{"txid":"77` + strings.Repeat("0", 30) + `","state":"dropped","reason":"evicted","time":13,"returned":0,"events":[{"time":13,"event":"dropped","reason":"evicted","sender":"` + gone.Sender + `","hash":"` + gh + `"}]}` + "\n"
	if got := fate(gone.ID[:]); got != wantGone {
		t.Errorf("dropped:\n%s\nwant\n%s", got, wantGone)
	}
	// A later refusal of the same id is its fate now.
	if err := d.LogReject(chaindir.Reject{Time: 14, Reason: rule.InsufficientFunds, ID: gone.ID[:], Msg: "has 1, needs 2"}); err != nil {
		t.Fatal(err)
	}
	if got := fate(gone.ID[:]); !strings.Contains(got, `"state":"refused","reason":"insufficient-funds"`) || !strings.Contains(got, `"returned":0,"events":[{"time":13,`) {
		t.Errorf("refused after the drop: %s", got)
	}
}
