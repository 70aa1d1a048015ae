package chaindir

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/lib/rule"
)

// poolTx is a transfer line as mempool.jsonl holds it, with id i.
func poolTx(i int) []byte {
	return fmt.Appendf(nil, `{"type":"tx","id":"%032x","sender":"cnjsender%d","pubkey":"%064x","receiver":"cnjreceiver","amount":1,"fee":1,"timestamp":1,"hash":"%064x","signature":"%0128x"}`, i, i, i, i, i)
}

func returnedEvent(i int) PoolEvent {
	return PoolEvent{Time: int64(1000 + i), Event: EventReturned, Block: [32]byte{byte(i), 0xbb}, Tx: poolTx(i)}
}

func droppedEvent(i int, why rule.Code) PoolEvent {
	return PoolEvent{Time: int64(1000 + i), Event: EventDropped, Reason: why, Tx: poolTx(i)}
}

// TestPoolEventsRoundTrip: what LogPoolEvents writes, ReadPoolEvents reads
// back with the transfer's id, sender and hash; lines that are not events
// are skipped.
func TestPoolEventsRoundTrip(t *testing.T) {
	d := Dir(t.TempDir())
	if evs, st, err := d.ReadPoolEvents(); err != nil || evs != nil || st != (Stamp{}) {
		t.Fatalf("a missing file: %v, %v, %v", evs, st, err)
	}
	want := []PoolEvent{returnedEvent(1), droppedEvent(2, rule.BadTxTime)}
	if err := d.LogPoolEvents(want); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(d.File(MempoolEventsFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("{\"time\":1,\"event\":\"mined\",\"tx\":{}}\nnot json\n{\"time\":3,\"event\":\"dropped\"") // a torn line last
	f.Close()
	got, _, err := d.ReadPoolEvents()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("read %d events, want 2: %+v", len(got), got)
	}
	for i, e := range got {
		w := want[i]
		if e.Time != w.Time || e.Event != w.Event || e.Block != w.Block || e.Reason != w.Reason || !bytes.Equal(e.Tx, w.Tx) {
			t.Errorf("event %d: %+v, want %+v", i, e, w)
		}
		if e.ID != [16]byte{15: byte(i + 1)} || e.Sender != fmt.Sprintf("cnjsender%d", i+1) || e.Hash != [32]byte{31: byte(i + 1)} {
			t.Errorf("event %d: id %x, sender %s, hash %x", i, e.ID, e.Sender, e.Hash)
		}
	}
	line, _ := os.ReadFile(d.File(MempoolEventsFile))
	if first := string(bytes.SplitN(line, []byte("\n"), 2)[0]); first != `{"time":1001,"event":"returned","block":"01bb000000000000000000000000000000000000000000000000000000000000","tx":`+string(poolTx(1))+`}` {
		t.Errorf("line: %s", first)
	}
	if err := d.LogPoolEvents([]PoolEvent{{Event: EventReturned}}); err == nil {
		t.Error("an event without a transfer was written")
	}
}

// TestPoolEventsBound: the file never grows past MaxPoolEvents; what it
// keeps are the newest events, the last written among them.
func TestPoolEventsBound(t *testing.T) {
	d := Dir(t.TempDir())
	n := 0
	for range 100 {
		var evs []PoolEvent
		for range 100 {
			n++
			evs = append(evs, returnedEvent(n))
		}
		if err := d.LogPoolEvents(evs); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(d.File(MempoolEventsFile)); err != nil || fi.Size() > MaxPoolEvents {
			t.Fatalf("after %d events: %v, %v", n, fi.Size(), err)
		}
	}
	got, _, err := d.ReadPoolEvents()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 100 || len(got) == n {
		t.Fatalf("kept %d of %d events", len(got), n)
	}
	for i, e := range got {
		if e.Time != int64(1000+n-len(got)+i+1) {
			t.Fatalf("event %d of those kept is from %d: not the newest in order", i, e.Time)
		}
	}
}

// TestPoolEventTail: a tail starts at the end, returns what is appended
// once, and across the writer's rewrite goes on after the last line it
// read.
func TestPoolEventTail(t *testing.T) {
	d := Dir(t.TempDir())
	empty := d.TailPoolEvents() // no file yet: everything is new
	if err := d.LogPoolEvents([]PoolEvent{returnedEvent(1)}); err != nil {
		t.Fatal(err)
	}
	tl := d.TailPoolEvents()
	times := func(tl *PoolEventTail) string {
		t.Helper()
		evs, _, err := tl.Read()
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, e := range evs {
			s = append(s, fmt.Sprint(e.Time-1000))
		}
		return strings.Join(s, ",")
	}
	if got := times(empty); got != "1" {
		t.Errorf("a tail begun before the file: %q", got)
	}
	if got := times(tl); got != "" {
		t.Errorf("a tail begun at the end read %q", got)
	}
	if err := d.LogPoolEvents([]PoolEvent{returnedEvent(2), droppedEvent(3, rule.Evicted)}); err != nil {
		t.Fatal(err)
	}
	if got := times(tl); got != "2,3" {
		t.Errorf("appended: %q", got)
	}
	if got := times(tl); got != "" {
		t.Errorf("read twice: %q", got)
	}
	// Fill the file until the writer rewrites it, reading all along; then
	// one more write, and the rewrite.
	var want []string
	for i := 4; ; i++ {
		if i > 2*MaxPoolEvents/len(poolTx(i)) {
			t.Fatalf("%d events and the file was never rewritten", i)
		}
		before, _ := os.Stat(d.File(MempoolEventsFile))
		evs := []PoolEvent{returnedEvent(i)}
		if before.Size() < MaxPoolEvents-64<<10 {
			for range 100 { // quickly near the bound
				i++
				evs = append(evs, returnedEvent(i))
			}
		}
		if err := d.LogPoolEvents(evs); err != nil {
			t.Fatal(err)
		}
		after, _ := os.Stat(d.File(MempoolEventsFile))
		if !os.SameFile(before, after) {
			want = append(want, fmt.Sprint(i))
			break
		}
		if got := times(tl); !strings.HasSuffix(got, fmt.Sprint(i)) || strings.Count(got, ",") != len(evs)-1 {
			t.Fatalf("event %d: read %q", i, got)
		}
	}
	if got := times(tl); got != strings.Join(want, ",") {
		t.Errorf("across the rewrite: read %q, want %q", got, strings.Join(want, ","))
	}
}
