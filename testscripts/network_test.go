package testscripts

// Whole nodes as real processes on 127.0.0.100 to 127.0.0.139, wired as
// scripts/cnj-node wires them:
//
//	cnj-relay listen --listen IP:5050 --chain D | cnj-verify --chain D |
//	    cnj-relay send --bind IP --peers D/peers --chain D
//	cnj-serve --listen IP:56230 --chain D
//	cnj-mine --address A --blocks N --threads 1 --chain D |
//	    cnj-relay send --bind IP --peers D/peers --chain D
//
// Every node of a test starts from one shared devnet genesis (a chain
// directory holding only genesis.json) and a peers file naming the others.
// The wallet sends as cnj-wallet did when it was a script: cnj-sign |
// cnj-relay send --to NODE, unbound. Each test has its own addresses; every wait polls
// with a deadline; every pipeline runs in its own process group, stopped
// in Cleanup.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/miner"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
)

// netFund is the number of blocks after which the first block's reward
// can be spent by the next block (devnet maturity).
const netFund = 3

// netPollEvery is how often the tests look at the nodes' state through
// processes (cnj-chain); the benchmark looks at files far more often.
const netPollEvery = 50 * time.Millisecond

// netNode is one node: its address, its chain directory and its running
// parts.
type netNode struct {
	ip    string
	dir   string // absolute
	relay *proc  // listen | verify | send
	serve *proc
}

func (nd *netNode) relayAddr() string { return nd.ip + ":5050" }

// netNet is the network of one test: a work directory holding the shared
// genesis (directory "genesis"), a funded wallet's key and the nodes.
type netNet struct {
	tb     testing.TB
	work   string
	p      *params.Params
	nodes  []*netNode
	wallet string // the address the miners pay and the wallet spends from
	payee  string // an address that receives the payments
	pays   int
}

// netEnv is the environment of every process: the fresh binaries first
// on PATH, a cheap scrypt for key files, no CNJ_ setting of the caller.
func netEnv() []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "CNJ_") && !strings.HasPrefix(e, "PATH=") {
			env = append(env, e)
		}
	}
	return append(env, "PATH="+BinDir()+string(os.PathListSeparator)+os.Getenv("PATH"), "CNJ_SCRYPT_WORK_FACTOR=10")
}

// netRun runs one command to its end in dir and returns its output and
// exit status.
func netRun(tb testing.TB, dir string, args ...string) (stdout, stderr string, code int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(BinDir(), args[0]), args[1:]...)
	cmd.Dir = dir
	cmd.Env = netEnv()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		tb.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	return o.String(), e.String(), cmd.ProcessState.ExitCode()
}

// netMust runs a command that must succeed and returns its stdout.
func netMust(tb testing.TB, dir string, args ...string) string {
	tb.Helper()
	out, errOut, code := netRun(tb, dir, args...)
	if code != 0 {
		tb.Fatalf("%s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func netEventually(tb testing.TB, what string, d, every time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(every)
	}
}

// netAnswers waits up to 10 s for url to answer 200 (a web app that has
// just started).
func netAnswers(tb testing.TB, url string) {
	tb.Helper()
	netEventually(tb, url+" answers 200", 10*time.Second, 20*time.Millisecond, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// netNew makes the shared genesis, the wallet key and one chain directory
// per address, each holding the genesis and a peers file naming all the
// other nodes (a full mesh). Nothing runs yet.
func netNew(tb testing.TB, ips ...string) *netNet {
	tb.Helper()
	if BinDir() == "" {
		tb.Skip("the commands were not built (TestMain did not run)")
	}
	work := tb.TempDir()
	netMust(tb, work, "cnj-mine", "--genesis", "--network", "devnet", "--no-retarget", "--chain", "genesis")
	p, err := chaindir.Dir(filepath.Join(work, "genesis")).ReadGenesis()
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "pass"), []byte("network test passphrase\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	var kg struct{ Address string }
	out := netMust(tb, work, "cnj-keygen", "-o", "wallet.key", "--passphrase-file", "pass", "--chain", "genesis")
	if err := json.Unmarshal([]byte(out), &kg); err != nil || kg.Address == "" {
		tb.Fatalf("cnj-keygen printed %q (%v)", out, err)
	}
	payee := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x5a}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	n := &netNet{tb: tb, work: work, p: p, wallet: kg.Address, payee: keys.Address(p.AddressPrefix, payee)}
	genesis, err := os.ReadFile(filepath.Join(work, "genesis", "genesis.json"))
	if err != nil {
		tb.Fatal(err)
	}
	for _, ip := range ips {
		nd := &netNode{ip: ip, dir: filepath.Join(work, ip)}
		if err := os.Mkdir(nd.dir, 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(nd.dir, "genesis.json"), genesis, 0o644); err != nil {
			tb.Fatal(err)
		}
		n.nodes = append(n.nodes, nd)
	}
	for _, nd := range n.nodes {
		n.setPeers(nd, n.nodes...)
	}
	return n
}

// setPeers rewrites nd's peers file (atomically) to name peers but nd.
func (n *netNet) setPeers(nd *netNode, peers ...*netNode) {
	var b strings.Builder
	for _, o := range peers {
		if o != nd {
			b.WriteString(o.relayAddr() + "\n")
		}
	}
	tmp := filepath.Join(nd.dir, "peers.tmp")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		n.tb.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(nd.dir, "peers")); err != nil {
		n.tb.Fatal(err)
	}
}

// startRelay starts the validator pipeline of nd and waits for its
// listener.
func (n *netNet) startRelay(nd *netNode) {
	n.tb.Helper()
	nd.relay = startProc(n.tb, n.work, fmt.Sprintf(
		"cnj-relay listen --listen %s --chain '%s' | cnj-verify --chain '%s' | cnj-relay send --returned --bind %s --peers '%s/peers' --chain '%s'",
		nd.relayAddr(), nd.dir, nd.dir, nd.ip, nd.dir, nd.dir))
	p := nd.relay
	netEventually(n.tb, "cnj-relay listen on "+nd.relayAddr(), 10*time.Second, 10*time.Millisecond, func() bool {
		return p.err.count("cnj-relay: listening on "+nd.relayAddr()) == 1
	})
}

// served waits until the web app of every node given serves a tip at
// height (cnj-serve follows its directory every 100 ms).
func (n *netNet) served(height uint64, nodes ...*netNode) {
	n.tb.Helper()
	want := strconv.FormatUint(height, 10)
	netEventually(n.tb, "the web apps of "+netIPs(nodes)+" at height "+want, 10*time.Second, 20*time.Millisecond, func() bool {
		for _, nd := range nodes {
			resp, err := http.Get("http://" + nd.ip + ":56230/api/blocks/tip/height")
			if err != nil {
				return false
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.TrimSpace(string(b)) != want {
				return false
			}
		}
		return true
	})
}

// startServe starts nd's web app and waits for it.
func (n *netNet) startServe(nd *netNode) {
	n.tb.Helper()
	nd.serve = startProc(n.tb, n.work, fmt.Sprintf("exec cnj-serve --listen %s:56230 --chain '%s'", nd.ip, nd.dir))
	p := nd.serve
	netEventually(n.tb, "cnj-serve on "+nd.ip, 10*time.Second, 10*time.Millisecond, func() bool {
		return p.err.count("cnj-serve: serving") == 1
	})
}

// start starts the relay pipeline (and the web app when serve) of every
// node given, or of all.
func (n *netNet) start(serve bool, nodes ...*netNode) {
	n.tb.Helper()
	if len(nodes) == 0 {
		nodes = n.nodes
	}
	for _, nd := range nodes {
		n.startRelay(nd)
		if serve {
			n.startServe(nd)
		}
	}
}

// stop stops every running part of nd.
func (n *netNet) stop(nd *netNode) {
	n.tb.Helper()
	for _, p := range []**proc{&nd.relay, &nd.serve} {
		if *p != nil {
			(*p).stop(n.tb)
			*p = nil
		}
	}
}

// meshed waits until every running relay pipeline given is connected to
// each of its peers: each "cannot connect" its sender logged has been
// followed by a "connected".
func (n *netNet) meshed(nodes ...*netNode) {
	n.tb.Helper()
	netEventually(n.tb, "every sender connected to its peers", 20*time.Second, 20*time.Millisecond, func() bool {
		for _, nd := range nodes {
			for _, o := range nodes {
				if o == nd {
					continue
				}
				e := nd.relay.err
				if e.count(o.relayAddr()+": cannot connect") != e.count(o.relayAddr()+": connected") {
					return false
				}
			}
		}
		return true
	})
}

// mine runs the miner's pipeline on nd for blocks blocks and checks the
// exit status of its relay send.
func (n *netNet) mine(nd *netNode, blocks, wantExit int) {
	n.tb.Helper()
	m := startProc(n.tb, n.work, fmt.Sprintf(
		"cnj-mine --address %s --blocks %d --threads 1 --chain '%s' | cnj-relay send --bind %s --peers '%s/peers' --chain '%s'",
		n.wallet, blocks, nd.dir, nd.ip, nd.dir, nd.dir))
	if code := m.wait(n.tb, 30*time.Second); code != wantExit {
		n.tb.Fatalf("the miner's pipeline on %s exited %d, want %d\n%s", nd.ip, code, wantExit, m.err)
	}
	if m.err.count("cnj-mine:") != 0 {
		n.tb.Fatalf("cnj-mine on %s: %s", nd.ip, m.err)
	}
}

// pay signs a payment from the wallet with cnj-sign against via's chain
// and sends it to via as scripts/cnj-wallet does; it returns the signed
// line.
func (n *netNet) pay(via *netNode) []byte {
	n.tb.Helper()
	n.pays++
	file := fmt.Sprintf("pay-%d.json", n.pays)
	s := startProc(n.tb, n.work, fmt.Sprintf(
		"cnj-sign -k wallet.key --passphrase-file pass --chain '%s' --to %s --amount 1.5 | tee %s | cnj-relay send --to %s --genesis genesis/genesis.json",
		via.dir, n.payee, file, via.ip))
	if code := s.wait(n.tb, 30*time.Second); code != 0 || s.err.String() != "" {
		n.tb.Fatalf("cnj-sign | cnj-relay send to %s: exit %d\n%s", via.ip, code, s.err)
	}
	b, err := os.ReadFile(filepath.Join(n.work, file))
	if err != nil || bytes.Count(b, []byte("\n")) != 1 {
		n.tb.Fatalf("cnj-sign printed %q (%v)", b, err)
	}
	return bytes.TrimSuffix(b, []byte("\n"))
}

// netTip is cnj-chain tip's answer.
type netTip struct {
	Height  uint64 `json:"height"`
	Hash    string `json:"hash"`
	Work    string `json:"work"`
	Mempool int    `json:"mempool"`
}

func (n *netNet) tip(nd *netNode) netTip {
	n.tb.Helper()
	var t netTip
	out := netMust(n.tb, n.work, "cnj-chain", "--chain", nd.dir, "tip")
	if err := json.Unmarshal([]byte(out), &t); err != nil {
		n.tb.Fatalf("cnj-chain tip printed %q: %v", out, err)
	}
	return t
}

// sameTip waits until every node given has the tip height and the same
// hash, and returns that tip.
func (n *netNet) sameTip(height uint64, nodes ...*netNode) netTip {
	n.tb.Helper()
	var tips []netTip
	netEventually(n.tb, fmt.Sprintf("one tip at height %d on %s (last seen: %+v)", height, netIPs(nodes), &tips), 15*time.Second, netPollEvery, func() bool {
		tips = tips[:0]
		for _, nd := range nodes {
			tips = append(tips, n.tip(nd))
		}
		for _, t := range tips {
			if t.Height != height || t.Hash != tips[0].Hash {
				return false
			}
		}
		return true
	})
	return tips[0]
}

func netIPs(nodes []*netNode) string {
	var s []string
	for _, nd := range nodes {
		s = append(s, nd.ip)
	}
	return strings.Join(s, ",")
}

// inMempool reports whether line is a line of nd's mempool.jsonl.
func (nd *netNode) inMempool(line []byte) bool {
	b, _ := os.ReadFile(filepath.Join(nd.dir, "mempool.jsonl"))
	return bytes.HasPrefix(b, append(line, '\n')) || bytes.Contains(b, append(append([]byte("\n"), line...), '\n'))
}

// inMempools waits until line is in the mempool of every node given.
func (n *netNet) inMempools(line []byte, nodes ...*netNode) {
	n.tb.Helper()
	netEventually(n.tb, "the transfer in the mempools of "+netIPs(nodes), 15*time.Second, 10*time.Millisecond, func() bool {
		for _, nd := range nodes {
			if !nd.inMempool(line) {
				return false
			}
		}
		return true
	})
}

// netReject is a rejects.log line.
type netReject struct {
	From   string `json:"from"`
	Reason string `json:"reason"`
}

func (n *netNet) rejects(nd *netNode) []netReject {
	n.tb.Helper()
	b, err := os.ReadFile(filepath.Join(nd.dir, "rejects.log"))
	if err != nil && !os.IsNotExist(err) {
		n.tb.Fatal(err)
	}
	var rs []netReject
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var r netReject
		if err := json.Unmarshal(l, &r); err != nil {
			n.tb.Fatalf("%s/rejects.log: %q: %v", nd.ip, l, err)
		}
		rs = append(rs, r)
	}
	return rs
}

// noRejects checks that the nodes refused nothing: honest traffic only.
func (n *netNet) noRejects(nodes ...*netNode) {
	n.tb.Helper()
	for _, nd := range nodes {
		if rs := n.rejects(nd); len(rs) > 0 {
			b, _ := os.ReadFile(filepath.Join(nd.dir, "rejects.log"))
			n.tb.Errorf("%s refused honest traffic:\n%s", nd.ip, b)
		}
	}
}

// netTxID is the id of a transfer line.
func netTxID(tb testing.TB, line []byte) string {
	var v struct{ ID string }
	if err := json.Unmarshal(line, &v); err != nil || v.ID == "" {
		tb.Fatalf("not a transfer line: %q", line)
	}
	return v.ID
}

// confirmed reports the height of the block holding transfer id on nd's
// main chain, or 0 (pending or unknown).
func (n *netNet) confirmed(nd *netNode, id string) uint64 {
	n.tb.Helper()
	out, _, code := netRun(n.tb, n.work, "cnj-chain", "--chain", nd.dir, "tx", id)
	var v struct {
		Height  uint64 `json:"height"`
		Pending bool   `json:"pending"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.Pending {
		return 0
	}
	return v.Height
}

// TestNetworkTransfer: a payment sent to one node of a three-node full
// mesh reaches every mempool, and nothing is refused anywhere.
func TestNetworkTransfer(t *testing.T) {
	n := netNew(t, "127.0.0.110", "127.0.0.111", "127.0.0.112")
	n.start(false)
	n.meshed(n.nodes...)
	n.mine(n.nodes[0], netFund, 0)
	n.sameTip(netFund, n.nodes...)
	for i := range n.nodes {
		line := n.pay(n.nodes[i]) // to each node in turn
		n.inMempools(line, n.nodes...)
	}
	for _, nd := range n.nodes {
		if got := n.tip(nd).Mempool; got != len(n.nodes) {
			t.Errorf("%s: %d transfers in the mempool, want %d", nd.ip, got, len(n.nodes))
		}
	}
	n.noRejects(n.nodes...)
}

// TestNetworkBlock: a block mined on one node reaches every tip; so do the
// next ones, mined on another node, with the transfers they carry.
func TestNetworkBlock(t *testing.T) {
	n := netNew(t, "127.0.0.113", "127.0.0.114", "127.0.0.115")
	n.start(false)
	n.meshed(n.nodes...)
	a, b, c := n.nodes[0], n.nodes[1], n.nodes[2]
	n.mine(b, 1, 0)
	n.sameTip(1, n.nodes...)
	n.mine(c, netFund-1, 0)
	n.sameTip(netFund, n.nodes...)
	line := n.pay(a)
	n.inMempools(line, n.nodes...)
	n.mine(a, 1, 0)
	n.sameTip(netFund+1, n.nodes...)
	id := netTxID(t, line)
	for _, nd := range n.nodes {
		if h := n.confirmed(nd, id); h != netFund+1 {
			t.Errorf("%s: the transfer is at height %d, want %d", nd.ip, h, netFund+1)
		}
		if nd.inMempool(line) {
			t.Errorf("%s: the mined transfer is still in the mempool", nd.ip)
		}
	}
	n.noRejects(n.nodes...)
}

// TestNetworkCatchUp: a node that was down while blocks were mined catches
// up with cnj-sync from its peers file (as scripts/cnj-node does before
// starting the relay), and then follows the mesh again.
func TestNetworkCatchUp(t *testing.T) {
	n := netNew(t, "127.0.0.116", "127.0.0.117", "127.0.0.118")
	n.start(true)
	n.meshed(n.nodes...)
	a, b, c := n.nodes[0], n.nodes[1], n.nodes[2]
	n.mine(a, 2, 0)
	n.sameTip(2, n.nodes...)

	n.stop(c)
	// The miner's sender cannot deliver to the node that is down: it says
	// so and exits 1; the live peer got every block.
	n.mine(a, 3, 1)
	want := n.sameTip(5, a, b)
	if got := n.tip(c); got.Height != 2 {
		t.Fatalf("the stopped node is at height %d", got.Height)
	}

	n.served(5, a, b)
	peersBefore, _ := os.ReadFile(filepath.Join(c.dir, "peers"))
	_, errOut, code := netRun(t, n.work, "cnj-sync", "--self", c.relayAddr(), "--chain", c.dir, "--peers", filepath.Join(c.dir, "peers"))
	if code != 0 {
		t.Fatalf("cnj-sync exited %d:\n%s", code, errOut)
	}
	// The peers' /api/peers name this node too; --self keeps it out of
	// its own peers file, so nothing new is learned here.
	if !regexp.MustCompile(`^cnj-sync: height 5: 3 blocks from 127\.0\.0\.11[67]:56230\n$`).MatchString(errOut) {
		t.Errorf("cnj-sync said %q", errOut)
	}
	if after, _ := os.ReadFile(filepath.Join(c.dir, "peers")); string(after) != string(peersBefore) {
		t.Errorf("cnj-sync changed the peers file from %q to %q", peersBefore, after)
	}
	if got := n.tip(c); got.Hash != want.Hash {
		t.Fatalf("after cnj-sync: tip %+v, want %+v", got, want)
	}
	if out := netMust(t, n.work, "cnj-chain", "--chain", c.dir, "check"); !strings.Contains(out, `"height":5,`) {
		t.Errorf("cnj-chain check: %s", out)
	}

	// Back in the mesh: the blocks its peers kept for it are passed over
	// quietly, and a new block from either side reaches every tip.
	n.start(true, c)
	n.mine(b, 1, 0)
	n.sameTip(6, n.nodes...)
	n.mine(c, 1, 0)
	n.sameTip(7, n.nodes...)
	n.noRejects(n.nodes...)
}

// TestNetworkPartition: two halves mine apart, each confirming a payment;
// reconnected and synced both ways, every node ends on the branch with
// the most work, the losing half's payment is back in its mempools, and
// the next block mines it.
func TestNetworkPartition(t *testing.T) {
	n := netNew(t, "127.0.0.119", "127.0.0.120", "127.0.0.121", "127.0.0.122")
	n.start(true)
	n.meshed(n.nodes...)
	a1, a2, b1, b2 := n.nodes[0], n.nodes[1], n.nodes[2], n.nodes[3]
	A, B := []*netNode{a1, a2}, []*netNode{b1, b2}
	n.mine(a1, netFund, 0)
	n.sameTip(netFund, n.nodes...)

	// Partition: the relays stop, each half's peers files name only its
	// own half, the relays start again.
	for _, nd := range n.nodes {
		n.stop(nd)
	}
	for _, half := range [][]*netNode{A, B} {
		for _, nd := range half {
			n.setPeers(nd, half...)
		}
	}
	n.start(true)
	n.meshed(A...)
	n.meshed(B...)

	payB := n.pay(b1)
	n.inMempools(payB, B...)
	payA := n.pay(a2)
	n.inMempools(payA, A...)
	n.mine(b2, 1, 0) // B: one block, with payB
	tipB := n.sameTip(netFund+1, B...)
	n.mine(a1, 2, 0) // A: two blocks, the first with payA: more work
	tipA := n.sameTip(netFund+2, A...)
	for _, nd := range A {
		if nd.inMempool(payB) {
			t.Fatalf("%s saw the other half's payment: no partition", nd.ip)
		}
	}
	idA, idB := netTxID(t, payA), netTxID(t, payB)
	if h := n.confirmed(b1, idB); h != netFund+1 {
		t.Fatalf("payB at height %d on its half", h)
	}

	// Reconnect: full-mesh peers files, relays restarted; sync both ways,
	// the heavier half first (it must keep its branch), then the other.
	for _, nd := range n.nodes {
		n.stop(nd)
		n.setPeers(nd, n.nodes...)
	}
	n.start(true)
	n.meshed(n.nodes...)
	n.served(netFund+2, A...)
	n.served(netFund+1, B...)
	for _, nd := range []*netNode{a1, a2, b1, b2} {
		_, errOut, code := netRun(t, n.work, "cnj-sync", "--chain", nd.dir)
		if code != 0 {
			t.Fatalf("cnj-sync on %s exited %d:\n%s", nd.ip, code, errOut)
		}
		t.Logf("%s: %s", nd.ip, strings.TrimSpace(errOut))
	}
	if tip := n.sameTip(netFund+2, n.nodes...); tip.Hash != tipA.Hash || tip.Hash == tipB.Hash {
		t.Fatalf("the network ended on %s, want the heavier branch %s", tip.Hash, tipA.Hash)
	}
	for _, nd := range n.nodes {
		if h := n.confirmed(nd, idA); h != netFund+1 {
			t.Errorf("%s: payA at height %d, want %d", nd.ip, h, netFund+1)
		}
	}
	for _, nd := range B {
		if !nd.inMempool(payB) {
			t.Errorf("%s: the losing half's payment did not go back to the mempool", nd.ip)
		}
	}

	// The next block, mined in the losing half, carries payB to every tip.
	n.mine(b1, 1, 0)
	tip := n.sameTip(netFund+3, n.nodes...)
	for _, nd := range n.nodes {
		if h := n.confirmed(nd, idB); h != netFund+3 {
			t.Errorf("%s: payB at height %d, want %d (tip %s)", nd.ip, h, netFund+3, tip.Hash)
		}
		if nd.inMempool(payB) || nd.inMempool(payA) {
			t.Errorf("%s: a mined payment is still in the mempool", nd.ip)
		}
	}
	n.noRejects(n.nodes...)
}

// netBlockOn builds a block on parent paying miner twice the subsidy (a
// validator refuses it: bad-reward) with a proof whose hash meets the
// target when meets, or not when !meets (high-hash).
func netBlockOn(tb testing.TB, p *params.Params, parentLine []byte, miner string, meets bool) []byte {
	tb.Helper()
	parent, err := block.Parse(parentLine)
	if err != nil {
		tb.Fatal(err)
	}
	b := &block.Block{
		Header: block.Header{Index: parent.Index + 1, Timestamp: parent.Timestamp + 1, Miner: miner,
			PrevHash: parent.Hash, Target: parent.Target},
		Reward: tx.Reward{Receiver: miner, Amount: 2 * p.Subsidy(parent.Index+1), Index: parent.Index + 1},
	}
	b.MerkleRoot = block.MerkleRoot(p.Hash(), &b.Reward, nil)
	for b.Proof = 1; ; b.Proof++ {
		if b.Hash = b.ComputeHash(); (bytes.Compare(b.Hash[:], b.Target[:]) <= 0) == meets {
			return b.JSON()
		}
	}
}

// TestNetworkRogue: against a full validator pipeline, a rogue peer's
// garbage, oversized line, invalid transfers and invalid blocks are each
// refused and logged with its IP; rejects.log cuts it off; a slowloris is
// cut at the handshake timeout; honest payments and blocks keep flowing
// and no other node ever sees the rogue's lines.
func TestNetworkRogue(t *testing.T) {
	n := netNew(t, "127.0.0.123", "127.0.0.124", "127.0.0.125")
	const rogueIP, slowIP = "127.0.0.126", "127.0.0.127"
	n.start(false)
	n.meshed(n.nodes...)
	a := n.nodes[0]
	n.mine(a, netFund, 0)
	n.sameTip(netFund, n.nodes...)
	to := a.relayAddr()

	// The slowloris: connects and says nothing.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(slowIP)}}
	slow, err := d.Dial("tcp", to)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	slowAt := time.Now()

	// The rogue: a good hello, then ten lines a validator refuses, each
	// for another reason but the last three.
	tipLine := []byte(strings.TrimSpace(netMust(t, n.work, "cnj-chain", "--chain", a.dir, "block", strconv.Itoa(netFund))))
	honestTx := n.pay(n.nodes[1]) // honest traffic while the rogue works
	unfunded := txs(n.p, 0x7e, 5) // from an empty address
	badSig := unfunded[4]
	i := bytes.Index(badSig, []byte(`"signature":"`)) + len(`"signature":"`)
	if badSig[i] == '0' {
		badSig[i] = '1'
	} else {
		badSig[i] = '0'
	}
	badHash := regexp.MustCompile(`"proof":[0-9]+`).ReplaceAll(bytes.Clone(tipLine), []byte(`"proof":0`))
	oversized := bytes.Replace(bytes.Clone(unfunded[3]), []byte(`"tx",`), append([]byte(`"tx",`), bytes.Repeat([]byte(" "), params.MaxTxLine)...), 1)
	rogueLines := [][]byte{
		[]byte("\x00\xffgarbage"),
		oversized,
		[]byte(`{"type":"tx"}`),
		badSig,
		badHash,
		netBlockOn(t, n.p, tipLine, n.wallet, false),
		netBlockOn(t, n.p, tipLine, n.wallet, true),
		unfunded[0], unfunded[1], unfunded[2],
	}
	c, br, ok := rawPeer(t, rogueIP, to, n.p)
	if !ok {
		t.Fatal("the rogue's hello was not answered")
	}
	for _, l := range rogueLines {
		if _, err := c.Write(append(l, '\n')); err != nil {
			break // cut off already
		}
	}
	logs := a.relay.err
	eventually(t, "the rogue cut off", 10*time.Second, func() bool {
		return logs.count("cnj-relay: "+rogueIP+": cut off for 1m: 10 rejects") == 1
	})
	if !closedByPeer(c, br, 3*time.Second) {
		t.Fatal("the rogue's connection stayed open after the cut-off")
	}
	if _, _, ok := rawPeer(t, rogueIP, to, n.p); ok {
		t.Fatal("the rogue was answered during its cool-off")
	}

	// Honest traffic flows all the while.
	n.inMempools(honestTx, n.nodes...)
	n.mine(n.nodes[2], 1, 0)
	n.sameTip(netFund+1, n.nodes...)
	line := n.pay(a)
	n.inMempools(line, n.nodes...)

	// The slowloris is closed at the handshake timeout (5 s), logged.
	if !closedByPeer(slow, bufio.NewReader(slow), 10*time.Second) {
		t.Fatal("the slowloris connection stayed open")
	}
	if d := time.Since(slowAt); d < 4500*time.Millisecond || d > 8*time.Second {
		t.Errorf("the slowloris was closed after %v, want the 5 s handshake timeout", d)
	}
	eventually(t, "the slowloris logged", 5*time.Second, func() bool {
		return logs.count("cnj-relay: "+slowIP+": closed: no hello within 5s") == 1
	})

	// Every refusal is in rejects.log under the rogue's IP, with its reason.
	reasons := map[string]int{}
	for _, r := range n.rejects(a) {
		if r.From != rogueIP {
			t.Errorf("%s refused a line from %s (%s)", a.ip, r.From, r.Reason)
			continue
		}
		reasons[r.Reason]++
	}
	want := map[string]int{"bad-json": 1, "too-large": 1, "missing-field": 1, "bad-signature": 1,
		"bad-block-hash": 1, "high-hash": 1, "bad-reward": 1, "insufficient-funds": 3}
	for r, k := range want {
		if reasons[r] != k {
			t.Errorf("rejects.log of %s: %d %s from the rogue, want %d (all: %v)", a.ip, reasons[r], r, k, reasons)
		}
	}
	if logs.count("cnj-verify: line ") < 4 {
		t.Errorf("cnj-verify logged fewer refusals than it made:\n%s", logs)
	}
	// Nothing of the rogue's went further.
	n.noRejects(n.nodes[1:]...)
	if logs.count("cut off") != 1 {
		t.Errorf("cut-offs logged:\n%s", logs)
	}
}

// netSnapshot hashes every file of a chain directory but the peers file
// and the lock files.
func netSnapshot(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if rel == "peers" || rel == "LOCK" || rel == "SYNC" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		m[rel] = hex.EncodeToString(h[:8])
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestNetworkLyingSync: cnj-sync from a peer that claims a heavier chain
// and serves garbage, a truncated chain or a block with a broken proof
// leaves the chain directory as it was; the same peer serving the chain
// honestly is synced from.
func TestNetworkLyingSync(t *testing.T) {
	n := netNew(t, "127.0.0.128", "127.0.0.130")
	local, upstream := n.nodes[0], n.nodes[1]
	const fakeIP = "127.0.0.129"
	netMust(t, n.work, "cnj-mine", "--address", n.wallet, "--blocks", "3", "--threads", "1", "--chain", local.dir)
	if err := os.RemoveAll(upstream.dir); err != nil {
		t.Fatal(err)
	}
	copyChain(t, local.dir, upstream.dir)
	netMust(t, n.work, "cnj-mine", "--address", n.wallet, "--blocks", "4", "--threads", "1", "--chain", upstream.dir)
	n.startServe(upstream)
	want := n.tip(upstream)

	// The fake peer passes every request to the upstream node's web app,
	// but for the chain download, which it changes as mode says.
	var mode atomic.Value
	mode.Store("")
	up := "http://" + upstream.ip + ":56230"
	reProof := regexp.MustCompile(`"proof":[0-9]+`)
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(up + r.URL.RequestURI()) // plain: no zstd asked
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if r.URL.Path == "/api/chain" {
			lines := bytes.SplitAfter(body, []byte("\n"))
			switch mode.Load() {
			case "garbage":
				body = bytes.Repeat([]byte("not a block at all\n"), 10)
			case "truncated":
				body = bytes.Join(lines[:len(lines)-2], nil) // drop the last block
			case "broken proof":
				lines[1] = reProof.ReplaceAll(lines[1], []byte(`"proof":0`))
				body = bytes.Join(lines, nil)
			}
		}
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
	})}
	ln, err := net.Listen("tcp", fakeIP+":56230")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	peers := filepath.Join(n.work, "fake.peers")
	if err := os.WriteFile(peers, []byte(fakeIP+":5050\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	before := netSnapshot(t, local.dir)
	tipBefore := n.tip(local)
	for _, m := range []string{"garbage", "truncated", "broken proof"} {
		mode.Store(m)
		_, errOut, code := netRun(t, n.work, "cnj-sync", "--chain", local.dir, "--peers", peers)
		if code != 1 || !strings.Contains(errOut, "cnj-sync: "+fakeIP+":56230: ") {
			t.Errorf("%s: cnj-sync exited %d, want 1 naming the peer:\n%s", m, code, errOut)
		}
		t.Logf("%s: %s", m, strings.TrimSpace(errOut))
		if after := netSnapshot(t, local.dir); !maps.Equal(before, after) {
			t.Errorf("%s: the chain directory changed:\nbefore %v\nafter  %v", m, before, after)
		}
		if got := n.tip(local); got != tipBefore {
			t.Errorf("%s: tip %+v, was %+v", m, got, tipBefore)
		}
	}
	mode.Store("honest")
	if _, errOut, code := netRun(t, n.work, "cnj-sync", "--chain", local.dir, "--peers", peers); code != 0 {
		t.Fatalf("from the honest peer: cnj-sync exited %d:\n%s", code, errOut)
	}
	if got := n.tip(local); got.Hash != want.Hash || got.Height != 7 {
		t.Fatalf("after the honest sync: tip %+v, want %+v", got, want)
	}
}

// BenchmarkPropagation measures gossip on a ten-node full mesh on
// 127.0.0.100 to 127.0.0.109 (validator pipelines, as in scripts/cnj-node):
// the time from writing a line to the `cnj-relay send --to 127.0.0.100`
// of a wallet to the line being held by every node, for transfers (in
// mempool.jsonl; goal p99 <= 10 ms) and blocks (stored: in the index;
// goal p99 <= 50 ms). Every line takes two hops: the first node validates
// it and passes it to the nine others; the hop1 figures are the first
// node's own arrival times.
//
// One op is one transfer and then one block; at least netBenchSamples of
// each are measured whatever b.N (the extra rounds outside the timer).
// Each measurement starts netBenchGap after the previous one ended, so
// that it finds the nodes idle: a node that has just stored a block is
// still rewriting (and fsyncing) its mempool under the chain lock for a
// few milliseconds, and a transfer sent at once waits for it. Arrival is
// seen through inotify on the nodes' directories: the measuring process
// sleeps until a node's file changes, then checks its size, so that it
// takes no CPU from the nodes (polling ten files every 100 µs did, and
// woke late itself on the two loaded cores). Blocks are mined in-process, out
// of the timer, on a chain directory that follows the same chain, and
// carry no transfers, so the mempools only grow. nodes-cpu-ms/round is the
// CPU the nodes' processes spent per round (a transfer, a block and the
// idle gaps), read from /proc before and after the rounds.
func BenchmarkPropagation(b *testing.B) {
	const (
		netBenchSamples = 50
		netBenchGap     = 50 * time.Millisecond
	)
	var ips []string
	for i := 100; i < 110; i++ {
		ips = append(ips, fmt.Sprintf("127.0.0.%d", i))
	}
	n := netNew(b, ips...)
	for _, nd := range n.nodes {
		n.startRelay(nd)
	}
	n.meshed(n.nodes...)

	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x42}, ed25519.SeedSize))
	from := keys.Address(n.p.AddressPrefix, priv.Public().(ed25519.PublicKey))
	src := filepath.Join(n.work, "genesis") // the miner's copy of the chain
	wallet := startProc(b, n.work, "exec cnj-relay send --to "+n.nodes[0].ip+" --chain genesis")

	files := func(name string) []string {
		var s []string
		for _, nd := range n.nodes {
			s = append(s, filepath.Join(nd.dir, name))
		}
		return s
	}
	mempools, indexes := files("mempool.jsonl"), files("index")
	sizes := func(paths []string) []int64 {
		s := make([]int64, len(paths))
		for i, p := range paths {
			if fi, err := os.Stat(p); err == nil {
				s[i] = fi.Size()
			}
		}
		return s
	}
	changed := watchDirs(b, n.nodes)
	// arrive sends line and returns the time until every file of paths
	// grew by at least grow bytes; first is the time until the first
	// node's did (one hop).
	var first time.Duration
	arrive := func(line []byte, paths []string, grow int64) time.Duration {
		want := sizes(paths)
		for i := range want {
			want[i] += grow
		}
		left := len(paths)
		done := make([]bool, len(paths))
		check := func(i int) {
			if fi, err := os.Stat(paths[i]); err == nil && !done[i] && fi.Size() >= want[i] {
				done[i] = true
				left--
			}
		}
		for len(changed) > 0 { // events of the previous round
			<-changed
		}
		t0 := time.Now()
		if _, err := wallet.in.Write(append(line, '\n')); err != nil {
			b.Fatal(err)
		}
		timeout := time.After(10 * time.Second)
		var last time.Time
		for left > 0 {
			select {
			case <-changed:
				for i := range paths {
					if done[i] {
						continue
					}
					if check(i); done[i] {
						last = time.Now()
						if i == 0 {
							first = last.Sub(t0)
						}
					}
				}
			case <-timeout:
				b.Fatalf("after 10 s the line is on %d of %d nodes: %.100s", len(paths)-left, len(paths), line)
			}
		}
		return last.Sub(t0)
	}
	mineOne := func() []byte {
		var out bytes.Buffer
		err := miner.Run(context.Background(), miner.Options{Chain: src, Address: from, Blocks: 1, Threads: 1,
			Out: &out, Warn: func(s string) { b.Log(s) }})
		if err != nil {
			b.Fatal(err)
		}
		return bytes.TrimSuffix(out.Bytes(), []byte("\n"))
	}
	blockRound := func() time.Duration { return arrive(mineOne(), indexes, 144) }
	seq := 0
	txRound := func() time.Duration {
		seq++
		x := &tx.Tx{Sender: from, Receiver: n.payee, Amount: uint64(seq), Fee: n.p.MinFee, Timestamp: time.Now().Unix()}
		copy(x.ID[:], fmt.Sprintf("bench%011d", seq))
		x.Sign(n.p.Hash(), priv)
		line := x.AppendJSON(nil)
		return arrive(line, mempools, int64(len(line))+1)
	}

	// Fund the wallet and warm up: none of this is measured.
	for range netFund + 2 {
		blockRound()
	}
	for range 3 {
		txRound()
	}
	var txLat, blockLat, txHop, blockHop []time.Duration
	round := func() {
		b.StopTimer()
		time.Sleep(netBenchGap)
		b.StartTimer()
		txLat = append(txLat, txRound())
		txHop = append(txHop, first)
		b.StopTimer()
		line := mineOne()
		time.Sleep(netBenchGap)
		b.StartTimer()
		blockLat = append(blockLat, arrive(line, indexes, 144))
		blockHop = append(blockHop, first)
	}
	cpu0 := cnjCPU()
	for b.Loop() {
		round()
	}
	for len(txLat) < netBenchSamples {
		round()
	}
	cpu := cnjCPU() - cpu0
	q := func(l []time.Duration, f float64) float64 {
		s := slices.Clone(l)
		slices.Sort(s)
		return float64(s[min(len(s)-1, int(float64(len(s))*f))]) / float64(time.Millisecond)
	}
	b.ReportMetric(q(txLat, 0.5), "tx-p50-ms")
	b.ReportMetric(q(txLat, 0.99), "tx-p99-ms")
	b.ReportMetric(q(blockLat, 0.5), "block-p50-ms")
	b.ReportMetric(q(blockLat, 0.99), "block-p99-ms")
	b.ReportMetric(q(txHop, 0.5), "tx-hop1-p50-ms")
	b.ReportMetric(q(blockHop, 0.5), "block-hop1-p50-ms")
	b.ReportMetric(float64(len(txLat)), "samples")
	b.ReportMetric(float64(cpu)/float64(len(txLat))/float64(time.Millisecond), "nodes-cpu-ms/round")
	for _, nd := range n.nodes {
		if rs := n.rejects(nd); len(rs) > 0 {
			b.Errorf("%s refused %d lines, the first for %s", nd.ip, len(rs), rs[0].Reason)
		}
	}
}

// cnjCPU is the CPU time the cnj-* processes on the machine have used so
// far (/proc/PID/task/TID/schedstat, nanoseconds on a CPU): the nodes of a
// benchmark, read before and after its rounds, so that the cost of a
// transfer and a block over the whole mesh can be followed from run to
// run. It reads /proc only outside the measured rounds.
func cnjCPU() time.Duration {
	var total time.Duration
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		comm, err := os.ReadFile("/proc/" + p.Name() + "/comm")
		if err != nil || !strings.HasPrefix(string(comm), "cnj-") {
			continue
		}
		tasks, _ := os.ReadDir("/proc/" + p.Name() + "/task")
		for _, t := range tasks {
			s, err := os.ReadFile("/proc/" + p.Name() + "/task/" + t.Name() + "/schedstat")
			if err != nil {
				continue
			}
			var ns int64
			if _, err := fmt.Sscan(string(s), &ns); err == nil {
				total += time.Duration(ns)
			}
		}
	}
	return total
}

// watchDirs watches the chain directories of nodes with inotify: the
// channel receives a value after files of them were written to or renamed
// into them. The watch ends with the benchmark.
func watchDirs(b *testing.B, nodes []*netNode) <-chan struct{} {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		b.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "inotify") // non-blocking: Close ends a Read
	for _, nd := range nodes {
		if _, err := syscall.InotifyAddWatch(fd, nd.dir, syscall.IN_MODIFY|syscall.IN_MOVED_TO|syscall.IN_CLOSE_WRITE); err != nil {
			b.Fatal(err)
		}
	}
	out := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, err := f.Read(buf); err != nil {
				return // closed at the end
			}
			select {
			case out <- struct{}{}:
			default: // one pending wake-up is enough: the reader stats every file
			}
		}
	}()
	b.Cleanup(func() { f.Close() })
	return out
}
