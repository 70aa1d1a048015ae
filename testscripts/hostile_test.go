package testscripts

// The hostile-peer soak (issue 9): a real node, on 127.0.0.160,
//
//	cnj-relay listen | cnj-verify | cnj-relay send, cnj-serve,
//	and cnj-sync every second from its peers file,
//
// with an honest miner node on 127.0.0.161 as its peer, under every attack
// of hostileAttacks at once for CNJ_SOAK (a Go duration; 60 s unless set:
// `make soak` sets a longer one). All the while an honest wallet on
// 127.0.0.162 sends it a transfer every second, the miner mines a block
// every 3 seconds, and an honest newcomer on 127.0.0.163 connects every 2
// seconds. The node must keep:
//
//   - every honest transfer reaching its mempool within hostileRoundTrip;
//   - its tip following the miner's;
//   - a newcomer answered within hostileSlot;
//   - the resident memory of its processes under hostileRSS;
//   - rejects.log and rejects.log.1 within chaindir.MaxRejectsLog (and a
//     line), the peers file within chaindir.MaxPeers entries, one per IP,
//     none of an attacker that proved nothing;
//   - the dripping web app given up and logged (slow-peer).
//
// It prints one line, to $CNJ_HOSTILE_OUT as the adversarial suite does:
//
//	hostile: N attacks, honest round trip p99 X ms, rss Y MB, rejects.log Z KB
//
// An attack is a row of hostileAttacks: its addresses and a loop run on
// each until the soak ends. A new attack is a new row.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
)

// The bounds the node must keep under attack.
const (
	// hostileRoundTrip bounds the time from an honest transfer's write to
	// the wallet's sender until it is in the node's mempool.jsonl.
	hostileRoundTrip = 2 * time.Second
	// hostileSlot bounds the time a newcomer waits for the node's hello.
	hostileSlot = time.Second
	// hostileRSS bounds the resident memory of the node's processes
	// together (the four of its pipeline and web app, and a cnj-sync run).
	hostileRSS = 256 << 20
	// hostileSoak is the soak's length unless CNJ_SOAK says otherwise.
	hostileSoak = 60 * time.Second
)

// The soak's addresses.
const (
	hostileNode     = "127.0.0.160"
	hostileMiner    = "127.0.0.161"
	hostileWallet   = "127.0.0.162"
	hostileNewcomer = "127.0.0.163"
	hostileDripper  = "127.0.0.195" // a web app that claims much and drips
)

// hostileAttack is one attack of the soak: a loop run on each of its
// addresses until ctx is done. proves says that the attack sends valid
// lines, so that the node may record its peers (a side branch's blocks are
// valid until a rule bounds them).
type hostileAttack struct {
	name   string
	ips    []string
	proves bool
	run    func(h *hostile, ctx context.Context, ip string)
}

// hostileAttacks are the attacks of issue 9, at once.
func hostileAttacks() []hostileAttack {
	ips := func(from, n int) []string {
		var s []string
		for i := range n {
			s = append(s, fmt.Sprintf("127.0.0.%d", from+i))
		}
		return s
	}
	return []hostileAttack{
		{name: "orphan flood, all-ones target", ips: ips(186, 4), run: (*hostile).orphanFlood},
		{name: "slot starvation with keep-alives", ips: ips(170, 16), run: (*hostile).starve},
		{name: "peers-file poisoning", ips: ips(190, 2), run: (*hostile).poison},
		{name: "short bad lines", ips: ips(192, 1), run: (*hostile).badLines},
		{name: "mempool flood, unfunded transfers", ips: ips(193, 1), run: (*hostile).mempoolFlood},
		{name: "side-branch flood from genesis", ips: ips(194, 1), proves: true, run: (*hostile).sideBranch},
		{name: "dripping web app for cnj-sync", ips: []string{hostileDripper}, run: (*hostile).drip},
	}
}

// hostile is the soak's state: the network, the node under attack, and
// what the attacks did.
type hostile struct {
	tb   testing.TB
	p    *params.Params
	to   string // the node's relay
	node *netNode
	sent atomic.Int64 // lines the attackers wrote
	seq  atomic.Int64
}

// hostileSoakTime is CNJ_SOAK, or hostileSoak.
func hostileSoakTime(tb testing.TB) time.Duration {
	v := os.Getenv("CNJ_SOAK")
	if v == "" {
		return hostileSoak
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		tb.Fatalf("CNJ_SOAK=%q: want a duration such as 60s or 10m", v)
	}
	return d
}

func TestHostile(t *testing.T) {
	soak := hostileSoakTime(t)
	n := netNew(t, hostileNode, hostileMiner)
	node, miner := n.nodes[0], n.nodes[1]
	// The node's peers: the miner, and the dripper, which a person wrote
	// there (cnj-sync asks its web app).
	if err := os.WriteFile(filepath.Join(node.dir, "peers"), []byte(miner.relayAddr()+"\n"+hostileDripper+":5050\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := &hostile{tb: t, p: n.p, to: node.relayAddr(), node: node}
	n.start(true)
	n.meshed(node, miner)

	// The wallet's key, funded by the miner's first blocks.
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x48}, ed25519.SeedSize))
	wallet := keys.Address(n.p.AddressPrefix, priv.Public().(ed25519.PublicKey))
	mine := func() {
		m := startProc(t, n.work, fmt.Sprintf(
			"cnj-mine --address %s --blocks 1 --threads 1 --chain '%s' | cnj-relay send --bind %s --peers '%s/peers' --chain '%s'",
			wallet, miner.dir, miner.ip, miner.dir, miner.dir))
		if code := m.wait(t, 30*time.Second); code != 0 {
			t.Errorf("the miner's pipeline exited %d\n%s", code, m.err)
		}
	}
	for range netFund + 1 {
		mine()
	}
	startHeight := n.sameTip(netFund+1, node, miner).Height

	ctx, stop := context.WithTimeout(context.Background(), soak)
	defer stop()
	var wg sync.WaitGroup
	attacks := hostileAttacks()
	for _, a := range attacks {
		for _, ip := range a.ips {
			wg.Go(func() { a.run(h, ctx, ip) })
		}
	}
	syncLoop := startProc(t, n.work, fmt.Sprintf(
		"while :; do cnj-sync -q --self %s --chain '%s'; echo \"cnj-sync exit $?\" >&2; sleep 1; done", node.relayAddr(), node.dir))

	// The honest traffic.
	var mu sync.Mutex
	var trips, slots []time.Duration
	sender := startProc(t, n.work, fmt.Sprintf("exec cnj-relay send --bind %s --to %s --genesis genesis/genesis.json", hostileWallet, node.ip))
	wg.Go(func() {
		for ctx.Err() == nil {
			line := h.transfer(priv, wallet, n.payee)
			start := time.Now()
			if _, err := sender.in.Write(append(line, '\n')); err != nil {
				t.Errorf("the wallet's sender: %v", err)
				return
			}
			for !node.inMempool(line) && time.Since(start) < 5*time.Second {
				time.Sleep(5 * time.Millisecond)
			}
			mu.Lock()
			trips = append(trips, time.Since(start))
			mu.Unlock()
			sleepCtx(ctx, time.Second)
		}
	})
	mined := 0
	wg.Go(func() {
		for sleepCtx(ctx, 3*time.Second) {
			mine()
			mined++
		}
	})
	wg.Go(func() {
		for sleepCtx(ctx, 2*time.Second) {
			start := time.Now()
			c, _, ok := dialRelay(hostileNewcomer, h.to, h.p, hostileNewcomer+":5050")
			d := time.Since(start)
			if c != nil {
				c.Close()
			}
			if !ok {
				d = time.Hour
			}
			mu.Lock()
			slots = append(slots, d)
			mu.Unlock()
		}
	})
	var maxRSS atomic.Int64
	wg.Go(func() {
		for sleepCtx(ctx, 500*time.Millisecond) {
			rss := processGroupRSS(node.relay, node.serve, syncLoop)
			if rss > maxRSS.Load() {
				maxRSS.Store(rss)
			}
		}
	})
	wg.Wait()

	// The tip followed the miner's blocks.
	tip := n.sameTip(startHeight+uint64(mined), node, miner)
	if mined == 0 || tip.Height <= startHeight {
		t.Errorf("the tip did not advance: %d blocks mined, height %d", mined, tip.Height)
	}
	// The dripper was given up and logged.
	eventually(t, "the dripping web app logged as slow-peer", time.Minute, func() bool {
		return h.rejected(hostileDripper, "slow-peer") > 0
	})
	syncLoop.stop(t)

	var bad []string
	p99 := quantile(trips, 0.99)
	if len(trips) == 0 || p99 >= hostileRoundTrip {
		bad = append(bad, fmt.Sprintf("honest round trip p99 %v of %d transfers, want under %v", p99, len(trips), hostileRoundTrip))
	}
	if worst := quantile(slots, 1); len(slots) == 0 || worst >= hostileSlot {
		bad = append(bad, fmt.Sprintf("a newcomer waited %v for its hello (%d tries), want under %v", worst, len(slots), hostileSlot))
	}
	if rss := maxRSS.Load(); rss == 0 || rss >= hostileRSS {
		bad = append(bad, fmt.Sprintf("rss %d MB, want under %d MB", rss>>20, hostileRSS>>20))
	}
	var rejectsKB int64
	for _, name := range []string{chaindir.RejectsFile, chaindir.RejectsOldFile} {
		fi, err := os.Stat(filepath.Join(node.dir, name))
		if err != nil {
			continue
		}
		rejectsKB += fi.Size() >> 10
		if fi.Size() > chaindir.MaxRejectsLog+64<<10 {
			bad = append(bad, fmt.Sprintf("%s holds %d bytes, more than %d and a line", name, fi.Size(), chaindir.MaxRejectsLog))
		}
	}
	bad = append(bad, h.checkPeers(attacks)...)
	// The flooders of refused lines were cut off: bad lines, unfunded
	// transfers, orphans (1/32 of a reject each).
	for _, ip := range []string{"127.0.0.192", "127.0.0.193", "127.0.0.186", "127.0.0.187", "127.0.0.188", "127.0.0.189"} {
		if node.relay.err.count("cnj-relay: "+ip+": cut off") == 0 {
			bad = append(bad, ip+" was never cut off")
		}
	}
	summary := fmt.Sprintf("hostile: %d attacks, honest round trip p99 %d ms, rss %d MB, rejects.log %d KB",
		len(attacks), p99.Milliseconds(), maxRSS.Load()>>20, rejectsKB)
	t.Log(summary)
	t.Logf("%s of soak: %d lines from attackers, %d transfers, %d blocks, %d newcomers; %d evictions, %d cut-offs logged",
		soak, h.sent.Load(), len(trips), mined, len(slots), node.relay.err.count(": evicted for "), node.relay.err.count(": cut off for "))
	if out := os.Getenv("CNJ_HOSTILE_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(summary+"\n"), 0o644); err != nil {
			t.Error(err)
		}
	}
	for _, b := range bad {
		t.Error(b)
	}
}

// sleepCtx waits d, and reports whether ctx is still not done.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*q))]
}

// processGroupRSS is the resident memory of the processes of the process
// groups of procs, in bytes.
func processGroupRSS(procs ...*proc) int64 {
	groups := map[int]bool{}
	for _, p := range procs {
		groups[p.cmd.Process.Pid] = true // each runs in a group of its own
	}
	var total int64
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 3 {
			continue
		}
		if pgrp, _ := strconv.Atoi(f[2]); !groups[pgrp] || pid == 0 {
			continue
		}
		status, _ := os.ReadFile("/proc/" + e.Name() + "/status")
		for _, line := range strings.Split(string(status), "\n") {
			if kb, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				v, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")), 10, 64)
				total += v << 10
			}
		}
	}
	return total
}

// transfer is a signed transfer of the wallet's, a new one each call.
func (h *hostile) transfer(priv ed25519.PrivateKey, from, to string) []byte {
	x := &tx.Tx{Sender: from, Receiver: to, Amount: 1000 + uint64(h.seq.Add(1)), Fee: h.p.MinFee, Timestamp: time.Now().Unix()}
	rand.Read(x.ID[:])
	x.Sign(h.p.Hash(), priv)
	return x.AppendJSON(nil)
}

// rejected counts the lines of the node's rejects.log (both files) from ip
// with reason.
func (h *hostile) rejected(ip, reason string) int {
	k := 0
	for _, name := range []string{chaindir.RejectsOldFile, chaindir.RejectsFile} {
		b, _ := os.ReadFile(filepath.Join(h.node.dir, name))
		k += bytes.Count(b, []byte(`"from":"`+ip+`","reason":"`+reason+`"`))
	}
	return k
}

// checkPeers checks the node's peers file: within MaxPeers, one entry per
// host, none of an attack that proved nothing.
func (h *hostile) checkPeers(attacks []hostileAttack) (bad []string) {
	b, err := os.ReadFile(filepath.Join(h.node.dir, "peers"))
	if err != nil {
		return []string{err.Error()}
	}
	peers, badLines := chaindir.ParsePeers(b)
	lines := strings.Count(strings.TrimSpace(string(b)), "\n") + 1
	if lines > chaindir.MaxPeers || len(badLines) > 0 {
		bad = append(bad, fmt.Sprintf("the peers file holds %d lines, bad ones %q", lines, badLines))
	}
	for _, a := range attacks {
		if a.proves {
			continue
		}
		for _, ip := range a.ips {
			for _, p := range peers {
				if strings.HasPrefix(p, ip+":") && ip != hostileDripper {
					bad = append(bad, fmt.Sprintf("the peers file records %s of the %s", p, a.name))
				}
			}
		}
	}
	return bad
}

// flood keeps a connection from ip to the node and writes what next
// gives, reconnecting a second after the node closes it (a cut-off).
func (h *hostile) flood(ctx context.Context, ip string, next func() []byte) {
	for ctx.Err() == nil {
		c, _, ok := dialRelay(ip, h.to, h.p, ip+":5050")
		if !ok {
			if c != nil {
				c.Close()
			}
			sleepCtx(ctx, time.Second)
			continue
		}
		go func() { <-ctx.Done(); c.Close() }()
		w := bufio.NewWriterSize(c, 64<<10)
		for ctx.Err() == nil {
			w.Write(next())
			w.WriteByte('\n')
			h.sent.Add(1)
			if w.Buffered() > 32<<10 {
				c.SetWriteDeadline(time.Now().Add(2 * time.Second))
				if err := w.Flush(); err != nil {
					break
				}
			}
		}
		c.Close()
		sleepCtx(ctx, time.Second)
	}
}

// orphanFlood sends blocks whose target is all ones (any proof meets it)
// on random parents: free orphans.
func (h *hostile) orphanFlood(ctx context.Context, ip string) {
	seed := sha256Key(ip)
	miner := keys.Address(h.p.AddressPrefix, seed.Public().(ed25519.PublicKey))
	var ones [32]byte
	for i := range ones {
		ones[i] = 0xff
	}
	h.flood(ctx, ip, func() []byte {
		b := &block.Block{Header: block.Header{Index: 1000, Timestamp: time.Now().Unix(), Miner: miner, Target: ones, Proof: 1},
			Reward: tx.Reward{Receiver: miner, Amount: h.p.Subsidy(1000), Index: 1000}}
		rand.Read(b.PrevHash[:])
		b.MerkleRoot = block.MerkleRoot(h.p.Hash(), &b.Reward, nil)
		b.Hash = b.ComputeHash()
		return b.JSON()
	})
}

// starve holds four connections from ip, each a hello and then keep-alives
// every second, reopened as soon as the node closes one.
func (h *hostile) starve(ctx context.Context, ip string) {
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				c, _, ok := dialRelay(ip, h.to, h.p, ip+":5050")
				if !ok {
					if c != nil {
						c.Close()
					}
					sleepCtx(ctx, 50*time.Millisecond)
					continue
				}
				for sleepCtx(ctx, time.Second) {
					c.SetWriteDeadline(time.Now().Add(time.Second))
					if _, err := c.Write([]byte("\n")); err != nil {
						break
					}
				}
				c.Close()
			}
		})
	}
	wg.Wait()
}

// poison says hello again and again, announcing its IP at port after port
// (and, from the second address, another IP): the peers file must gain
// nothing of it.
func (h *hostile) poison(ctx context.Context, ip string) {
	for port := 1; ctx.Err() == nil; port = port%65535 + 1 {
		announce := fmt.Sprintf("%s:%d", ip, port)
		if ip == "127.0.0.191" {
			announce = fmt.Sprintf("127.0.0.250:%d", port)
		}
		if c, _, _ := dialRelay(ip, h.to, h.p, announce); c != nil {
			c.Close()
		}
		sleepCtx(ctx, 20*time.Millisecond)
	}
}

// badLines sends short lines that are not records.
func (h *hostile) badLines(ctx context.Context, ip string) {
	h.flood(ctx, ip, func() []byte { return []byte("x") })
}

// mempoolFlood sends well-formed transfers from a key without funds.
func (h *hostile) mempoolFlood(ctx context.Context, ip string) {
	priv := sha256Key(ip)
	from := keys.Address(h.p.AddressPrefix, priv.Public().(ed25519.PublicKey))
	h.flood(ctx, ip, func() []byte {
		x := &tx.Tx{Sender: from, Receiver: from, Amount: 1, Fee: h.p.MinFee, Timestamp: time.Now().Unix()}
		rand.Read(x.ID[:])
		x.Sign(h.p.Hash(), priv)
		return x.AppendJSON(nil)
	})
}

// sideBranch sends valid blocks on genesis, two a second, each proven at
// the network's initial target.
func (h *hostile) sideBranch(ctx context.Context, ip string) {
	priv := sha256Key(ip)
	miner := keys.Address(h.p.AddressPrefix, priv.Public().(ed25519.PublicKey))
	ts := h.p.Timestamp
	h.flood(ctx, ip, func() []byte {
		sleepCtx(ctx, 500*time.Millisecond)
		ts++
		b := &block.Block{Header: block.Header{Index: 1, Timestamp: ts, Miner: miner, PrevHash: h.p.Hash(), Target: h.p.InitialTarget},
			Reward: tx.Reward{Receiver: miner, Amount: h.p.Subsidy(1), Index: 1}}
		b.MerkleRoot = block.MerkleRoot(h.p.Hash(), &b.Reward, nil)
		for b.Proof = 1; ; b.Proof++ {
			if b.Hash = b.ComputeHash(); bytes.Compare(b.Hash[:], b.Target[:]) <= 0 {
				return b.JSON()
			}
		}
	})
}

// drip serves a web app on ip that claims a tip of the most work and
// sends its chain a byte every 5 seconds; the node's own web app answers
// its block hashes, so that cnj-sync downloads from the node's tip.
func (h *hostile) drip(ctx context.Context, ip string) {
	ln, err := net.Listen("tcp", ip+":56230")
	if err != nil {
		h.tb.Errorf("the dripper: %v", err)
		return
	}
	huge := new(big.Int).Lsh(big.NewInt(1), 250)
	real := "http://" + h.node.ip + ":56230"
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/tip":
			json.NewEncoder(w).Encode(map[string]any{"height": 100_000, "hash": strings.Repeat("01", 32), "work": huge.Text(16)})
		case r.URL.Path == "/api/genesis":
			w.Write(append(h.p.JSON(), '\n'))
		case r.URL.Path == "/api/peers":
			io.WriteString(w, "[]")
		case r.URL.Path == "/api/chain":
			w.(http.Flusher).Flush()
			for sleepCtx(r.Context(), 5*time.Second) {
				if _, err := w.Write([]byte("{")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		default: // block hashes: the node's own
			resp, err := http.Get(real + r.URL.RequestURI())
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			w.WriteHeader(resp.StatusCode)
			io.Copy(w, resp.Body)
		}
	})}
	go srv.Serve(ln)
	<-ctx.Done()
	// Kept up until the node has logged it: the soak's end waits for that.
	h.tb.Cleanup(func() { srv.Close() })
}

// sha256Key is a key of its own for each address.
func sha256Key(ip string) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	copy(seed, "hostile "+ip)
	return ed25519.NewKeyFromSeed(seed)
}
