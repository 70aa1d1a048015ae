package testscripts

// A split network heals with nothing lost (issue 12): four real nodes on
// 127.0.0.160 to 127.0.0.163, wired as scripts/cnj-node wires them
// (network_test.go), split in two, a payment and unequal mining on each
// side, then healed as an operator would: every peers file names every
// node, and cron fires cnj-sync once on each.

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/chaindir"
)

// healDeadline bounds the heal: from the full-mesh peers files to one tip
// with both payments confirmed everywhere. Generous: a slow machine
// takes a few seconds; the line reports the time taken.
const healDeadline = 90 * time.Second

// TestNetworkHeal: nodes 1,2 | 3,4; a payment through node 1 (to Bob) and
// one through node 3 (to Dave); node 1 mines 2 blocks, node 3 mines 5.
// Healed, with one cron round of cnj-sync (the winning side first, so
// that its syncs find nothing to take: Bob's payment is still in the
// losing side's blocks), the losing side reorganizes, Bob's payment goes
// back into its pools and cnj-relay send --returned announces it: the
// winning side's pools hold it without syncing again, node 3 mines it,
// and every node ends on one tip with both payments confirmed and
// cnj-chain check clean. Then a node restarted with an empty pool holds
// its peers' pending transfer after one cnj-sync.
func TestNetworkHeal(t *testing.T) {
	n := netNew(t, "127.0.0.160", "127.0.0.161", "127.0.0.162", "127.0.0.163")
	n.start(true)
	n.meshed(n.nodes...)
	n1, n2, n3, n4 := n.nodes[0], n.nodes[1], n.nodes[2], n.nodes[3]
	A, B := []*netNode{n1, n2}, []*netNode{n3, n4}
	n.mine(n1, netFund, 0)
	n.sameTip(netFund, n.nodes...)

	// The split: each side's peers files name its own side only; the
	// relays restart with them (a sender keeps a link it already has).
	for _, nd := range n.nodes {
		n.stop(nd)
	}
	for _, side := range [][]*netNode{A, B} {
		for _, nd := range side {
			n.setPeers(nd, side...)
		}
	}
	n.start(true)
	n.meshed(A...)
	n.meshed(B...)
	payBob := n.pay(n1)
	n.inMempools(payBob, A...)
	payDave := n.pay(n3)
	n.inMempools(payDave, B...)
	n.mine(n1, 2, 0)
	n.sameTip(netFund+2, A...)
	n.mine(n3, 5, 0)
	n.sameTip(netFund+5, B...)
	n.served(netFund+2, A...)
	n.served(netFund+5, B...)
	idBob, idDave := netTxID(t, payBob), netTxID(t, payDave)
	for _, nd := range B {
		if nd.inMempool(payBob) {
			t.Fatalf("%s holds Bob's payment before the heal: no partition", nd.ip)
		}
	}

	// The heal.
	start := time.Now()
	deadline := start.Add(healDeadline)
	for _, nd := range n.nodes {
		n.setPeers(nd, n.nodes...)
	}
	// Every sender connected to the other side, as an operator's nodes
	// are by the time cron fires (a sender reads its peers file every
	// second; its stats file says how many peers it is connected to):
	// meshed alone passes before a sender has even tried.
	if !healWait(deadline, func() bool {
		for _, nd := range n.nodes {
			if healConnected(t, nd) != len(n.nodes)-1 {
				return false
			}
		}
		return true
	}) {
		t.Fatalf("the senders never connected to the other side")
	}
	for _, nd := range []*netNode{n3, n4, n1, n2} {
		n.cronSync(nd)
	}
	// Bob's payment reaches the winning side by announcement alone.
	announced := healWait(deadline, func() bool { return n3.inMempool(payBob) && n4.inMempool(payBob) })
	if announced {
		n.mine(n3, 1, 0)
	}
	healed := announced && healWait(deadline, func() bool {
		t0 := n.tip(n1)
		for _, nd := range n.nodes {
			if tp := n.tip(nd); tp.Hash != t0.Hash || n.confirmed(nd, idBob) == 0 || n.confirmed(nd, idDave) == 0 {
				return false
			}
		}
		return true
	})
	took := time.Since(start)
	lost := 0
	for _, id := range []string{idBob, idDave} {
		for _, nd := range n.nodes {
			if n.confirmed(nd, id) == 0 {
				lost++
				break
			}
		}
	}
	tips := map[string]bool{}
	for _, nd := range n.nodes {
		tips[n.tip(nd).Hash] = true
	}
	after := fmt.Sprintf("%.1f s", took.Seconds())
	if len(tips) != 1 {
		after = fmt.Sprintf("never (%d tips after %.0f s)", len(tips), took.Seconds())
	}
	summary := fmt.Sprintf("heal: %d nodes, one tip after %s, payments lost %d/2", len(n.nodes), after, lost)
	t.Log(summary)
	if out := os.Getenv("CNJ_HEAL_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(summary+"\n"), 0o644); err != nil {
			t.Error(err)
		}
	}
	if !announced {
		t.Fatalf("Bob's payment, returned to the pools of %s, never reached the pools of %s", netIPs(A), netIPs(B))
	}
	if !healed {
		t.Fatalf("not healed after %v: %d tips, %d payments not confirmed everywhere", healDeadline, len(tips), lost)
	}
	for _, nd := range n.nodes {
		if out := netMust(t, n.work, "cnj-chain", "--chain", nd.dir, "check"); !strings.Contains(out, fmt.Sprintf(`"height":%d,`, netFund+6)) {
			t.Errorf("%s: cnj-chain check: %s", nd.ip, out)
		}
		if nd.inMempool(payBob) || nd.inMempool(payDave) {
			t.Errorf("%s: a confirmed payment is still pending", nd.ip)
		}
	}
	// The wallet holder's source tells what happened to Bob's payment:
	// confirmed, un-confirmed once (now confirmed again).
	if ev := healFate(t, n1, idBob); !strings.Contains(ev, `"state":"confirmed"`) || !strings.Contains(ev, `"returned":1,`) {
		t.Errorf("%s /api/tx/%s/fate: %s", n1.ip, idBob, ev)
	}

	// A node restarted with an empty pool: a payment every pool holds;
	// node 4 stops, loses its pool, starts again; one cnj-sync later it
	// holds the payment (its peers' relays will not send it again).
	payCarol := n.pay(n2)
	n.inMempools(payCarol, n.nodes...)
	n.stop(n4)
	for _, f := range []string{"mempool.jsonl", "mempool.bin"} {
		if err := os.Remove(filepath.Join(n4.dir, f)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	n.start(true, n4)
	if n4.inMempool(payCarol) || n.tip(n4).Mempool != 0 {
		t.Fatalf("%s restarted with a pool: %+v", n4.ip, n.tip(n4))
	}
	// No wait for the relays to reconnect: the peers' senders back off
	// from the stopped node (up to 30 s), and the payment must come by the
	// sync's fetch of their pools, not by their relays.
	n.cronSync(n4)
	if !n4.inMempool(payCarol) {
		t.Errorf("%s, restarted with an empty pool, lacks its peers' pending payment after one cnj-sync", n4.ip)
	}
	n.noRejects(n.nodes...)
}

// cronSync runs cnj-sync on nd as its cron line does (-q: quiet unless
// something is wrong) and fails on any output.
func (n *netNet) cronSync(nd *netNode) {
	n.tb.Helper()
	_, errOut, code := netRun(n.tb, n.work, "cnj-sync", "-q", "--self", nd.relayAddr(), "--chain", nd.dir)
	if code != 0 || errOut != "" {
		n.tb.Fatalf("cnj-sync on %s exited %d:\n%s", nd.ip, code, errOut)
	}
}

// healWait polls cond until it holds (true) or the deadline passes.
func healWait(deadline time.Time, cond func() bool) bool {
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(netPollEvery)
	}
	return true
}

// healConnected is how many peers the relay's sender of nd is connected
// to, as its stats file says (the only cnj-relay send running on nd), or
// -1 before it wrote one.
func healConnected(t *testing.T, nd *netNode) int {
	t.Helper()
	d := chaindir.Dir(nd.dir)
	files, err := d.ListRelayStats()
	if err != nil {
		t.Fatal(err)
	}
	connected, newest := -1, int64(0)
	for _, f := range files {
		if f.Kind != chaindir.RelaySend || f.Tmp {
			continue
		}
		// The newest file: one a stopped relay left would be older.
		if st, err := d.ReadRelayStats(f); err == nil && st.Time >= newest {
			connected, newest = int(st.Connected), st.Time
		}
	}
	return connected
}

// healFate is a node's /api/tx/ID/fate answer.
func healFate(t *testing.T, nd *netNode, id string) string {
	t.Helper()
	resp, err := http.Get("http://" + nd.ip + ":56230/api/tx/" + id + "/fate")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /api/tx/%s/fate on %s: %d %s %v", id, nd.ip, resp.StatusCode, b, err)
	}
	return string(b)
}
