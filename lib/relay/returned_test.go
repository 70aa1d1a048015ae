package relay

import (
	"context"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/rule"
)

// TestSendReturned: with Returned, Send sends every transfer the chain
// directory's writer returns to the pool from then on, to every peer,
// though it sent that line before (here to a only, the line having come
// from b); a dropped transfer, and one returned before Send started, are
// not sent.
func TestSendReturned(t *testing.T) {
	p := devnet(t)
	a := listen(t, p, "127.0.0.1", nil)
	b := listen(t, p, "127.0.0.2", nil)
	dir := chaindir.Dir(t.TempDir())
	lines := txLines(p, 3)
	returned := func(i int) chaindir.PoolEvent {
		return chaindir.PoolEvent{Time: 1, Event: chaindir.EventReturned, Block: [32]byte{1}, Tx: lines[i]}
	}
	if err := dir.LogPoolEvents([]chaindir.PoolEvent{returned(2)}); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	log := &logBuf{}
	done := make(chan error, 1)
	go func() {
		done <- sendLowered(context.Background(), SendConfig{Params: p, To: []string{a.Addr().String(), b.Addr().String()},
			Chain: string(dir), Returned: true, ReturnedPoll: 10 * time.Millisecond, Logf: log.logf, Bind: netip.MustParseAddr("127.0.0.3")}, pr)
	}()
	pw.Write([]byte("127.0.0.2 " + string(lines[0]) + "\n"))
	waitFor(t, "the line at a", func() bool { return len(a.out.lines()) == 1 })
	if err := dir.LogPoolEvents([]chaindir.PoolEvent{
		{Time: 2, Event: chaindir.EventDropped, Reason: rule.BadTxTime, Tx: lines[1]},
		returned(0),
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the returned line at b", func() bool { return len(b.out.lines()) == 1 })
	time.Sleep(100 * time.Millisecond) // what else it would send
	pw.Close()
	if err := <-done; err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if got := b.out.lines(); len(got) != 1 || got[0] != "127.0.0.3 "+string(lines[0]) {
		t.Errorf("b got %q, want the returned transfer only", got)
	}
	if got := a.out.lines(); len(got) != 1 {
		t.Errorf("a got %d lines, want 1", len(got))
	}
}
