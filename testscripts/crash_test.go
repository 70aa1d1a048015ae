package testscripts

// TestCrash checks DESIGN.md's promise for the chain directory: power loss
// or kill -9 at any instant leaves a directory that opens, passes
// `cnj-chain check`, and has lost no block that a command had already
// printed as accepted.
//
// Each round starts one or two victims on the same directory (cnj-mine,
// cnj-verify fed transfers and the blocks of a competing branch, cnj-sync
// from a cnj-serve of that branch, cnj-chain reindex), sends them SIGKILL
// after a random delay, and then checks:
//
//  1. `cnj-chain check` exits 0;
//  2. every block line any command printed (complete lines only) is still
//     in the chain: `cnj-chain block HASH` prints it again (for the blocks
//     printed this round; older ones are looked up in-process, which is
//     the same code path without a process per block);
//  3. a copy of the directory without its derived files (index, state,
//     undo, txindex) gives the same `cnj-chain tip` and the same `cnj-chain
//     balance` for every address involved, and the same `cnj-chain
//     history` and `cnj-chain tx` (read from the transfer index, where it
//     agrees with the chain, against the blocks alone): the derived files
//     equal a fresh replay (and check compares every undo record of the
//     main chain with the replay's undo data).
//
// The competing branch forks at block 1, so that switching to it and back
// disconnects whole chains. Some cnj-verify rounds also get a bad branch
// made here: a sibling of the tip whose transfer spends from an empty
// address (stored as a side block, printed) and a child that gives it more
// work, so that storing the child tries a reorganization that fails and
// rewrites the invalid flags of the index.
//
// Environment:
//
//	CNJ_KILLS        kills to reach (default 200; 20 with -short)
//	CNJ_CRASH_SEED   seed of the random choices (logged), to replay a run
//	CNJ_CRASH_KEEP   a directory where a failing chain directory is kept
//
// The choices replay with the seed; the instants at which the kills land
// depend on the machine, so a replay finds a rare failure again only with
// luck: run with more kills to characterise one.
//
// SIGKILL leaves the kernel's page cache alone, so this covers kill -9, not
// power loss: a write that was never fsynced still survives here.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/pow"
	"github.com/coniunctum/cnj/lib/tx"
)

const (
	crashEpochKills  = 50 // kills on one directory before a fresh one: keeps the chain short
	crashMaxDelay    = 40 * time.Millisecond
	crashTransfers   = 500 // pre-signed transfers
	crashForkBlocks  = 150 // blocks of the competing branch after its funding blocks
	crashFundBlocks  = 6   // blocks paying the funded key, on each branch
	crashMaxFailures = 5   // failing rounds reported before the test stops
	crashCmdTimeout  = 60 * time.Second
	// crashSource is the web app serving the competing branch to cnj-sync
	// victims; a sync takes longer to reach its writes, so it is killed
	// within crashSyncDelay.
	crashSource    = "127.0.0.170:56230"
	crashSyncDelay = 200 * time.Millisecond
)

// crashRig is the state of one TestCrash run.
type crashRig struct {
	t    *testing.T
	rng  *rand.Rand
	seed uint64
	tmp  string
	env  []string

	base    string   // chain directory at the fork point: genesis + funding blocks
	txs     [][]byte // pre-signed transfer lines from the funded key
	fork    []forkBlock
	addrs   []string // every address involved: funded key, receivers, both miners
	minerA  string
	keepDir string

	// The current epoch: one victim directory.
	epoch   int
	dir     string
	printed map[string]printedBlock // block hash -> what printed it
	fresh   []string                // hashes first printed this round
	forkHas int                     // leading fork blocks the directory holds
	txNext  int                     // next transfer to feed

	// Figures for the summary.
	rounds     int
	kills      map[string]int
	midOutput  map[string]int // kills after the victim had printed a line
	ownExits   map[string]int
	runs       map[string]int
	pairs      int
	verified   int // printed blocks that cnj-chain block printed again
	lookups    int // in-process lookups of printed blocks that found them
	byMine     int
	byVerify   int
	forkOnTip  int // rounds that ended with the competing branch's block on the tip
	badFed     int // verify victims fed a bad branch
	badRefused int // verify victims that refused a bad block (a failed reorganization, mostly)
	syncMoved  int // cnj-sync victims, alone in their round, killed after the tip moved
	reorgs     int // rounds after which the previous round's tip was off the main chain
	maxReorg   uint64
	lastTip    [32]byte
	maxHeight  int
	failures   int
	checkTime  time.Duration
	phase      [4]time.Duration // check, blocks, copy, replay queries
	victimTime time.Duration
}

type forkBlock struct {
	hash string
	line []byte
}

type printedBlock struct {
	line  []byte
	by    string
	round int
}

func TestCrash(t *testing.T) {
	if BinDir() == "" {
		t.Skip("the commands were not built (TestMain did not run)")
	}
	kills := 200
	if testing.Short() {
		kills = 20
	}
	if v := os.Getenv("CNJ_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CNJ_KILLS=%q: want a positive whole number", v)
		}
		kills = n
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("CNJ_CRASH_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("CNJ_CRASH_SEED=%q: want a whole number", v)
		}
		seed = s
	}
	t.Logf("seed %d (replay the choices with CNJ_CRASH_SEED=%d), %d kills", seed, seed, kills)

	tmp := t.TempDir()
	r := &crashRig{
		t: t, seed: seed, tmp: tmp,
		rng:       rand.New(rand.NewPCG(seed, seed^0x636e6a2d63726173)),
		kills:     map[string]int{},
		midOutput: map[string]int{},
		ownExits:  map[string]int{},
		runs:      map[string]int{},
		keepDir:   os.Getenv("CNJ_CRASH_KEEP"),
	}
	r.env = crashEnv(tmp)
	start := time.Now()
	r.setup()
	t.Logf("setup: %d transfers, %d fork blocks in %v", len(r.txs), len(r.fork), time.Since(start).Round(time.Millisecond))

	r.newEpoch()
	total, sinceEpoch := 0, 0
	for total < kills {
		n, failed := r.round()
		total += n
		sinceEpoch += n
		if failed {
			if r.failures >= crashMaxFailures {
				break
			}
			r.newEpoch() // the broken directory would fail every later round
			sinceEpoch = 0
			continue
		}
		if sinceEpoch >= crashEpochKills && total < kills {
			r.newEpoch()
			sinceEpoch = 0
		}
	}
	t.Logf("%d kills in %d rounds, %v (victims %v, checks %v); %d epochs of up to %d kills",
		total, r.rounds, time.Since(start).Round(time.Millisecond), r.victimTime.Round(time.Millisecond),
		r.checkTime.Round(time.Millisecond), r.epoch, crashEpochKills)
	for _, k := range []string{"mine", "verify", "sync", "reindex"} {
		t.Logf("  %-8s started %4d, killed %4d (%4d after printing a line), exited on its own %4d",
			k, r.runs[k], r.kills[k], r.midOutput[k], r.ownExits[k])
	}
	t.Logf("  checks: check %v, blocks %v, copy %v, tip and balances %v", r.phase[0].Round(time.Millisecond),
		r.phase[1].Round(time.Millisecond), r.phase[2].Round(time.Millisecond), r.phase[3].Round(time.Millisecond))
	t.Logf("  two victims at once: %d rounds", r.pairs)
	t.Logf("  printed blocks: %d (mined %d, passed by cnj-verify %d), %d found by cnj-chain block after their round, "+
		"%d in-process lookups after later kills found theirs", r.byMine+r.byVerify, r.byMine, r.byVerify, r.verified, r.lookups)
	t.Logf("  competing branch on the tip after %d rounds; %d reorganizations, the deepest %d blocks; highest tip %d",
		r.forkOnTip, r.reorgs, r.maxReorg, r.maxHeight)
	t.Logf("  bad branches fed to %d cnj-verify victims, refused by %d that got that far", r.badFed, r.badRefused)
	t.Logf("  cnj-sync victims killed alone after they had moved the tip: %d", r.syncMoved)
	if r.failures > 0 {
		t.Errorf("%d failing rounds (seed %d); see the errors above", r.failures, seed)
	}
}

// crashEnv is the environment of every command: a private home, cheap key
// files, no CNJ_CHAIN (every command gets --chain).
func crashEnv(tmp string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "CNJ_CHAIN", "HOME", "XDG_DATA_HOME", "CNJ_SCRYPT_WORK_FACTOR":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+tmp,
		"XDG_DATA_HOME="+filepath.Join(tmp, "xdg"),
		"CNJ_SCRYPT_WORK_FACTOR=10",
	)
}

// cmd runs a command to completion and returns its streams and exit code.
// A command that cannot start or outlives crashCmdTimeout is fatal.
func (r *crashRig) cmd(stdin []byte, name string, args ...string) (stdout, stderr []byte, code int) {
	r.t.Helper()
	res := r.run(stdin, name, args...)
	if res.err != nil {
		r.t.Fatalf("seed %d: %v", r.seed, res.err)
	}
	return res.out, res.errb, res.code
}

// cmdResult is what a command did; err is set when it could not start or
// outlived crashCmdTimeout.
type cmdResult struct {
	out, errb []byte
	code      int
	err       error
}

// run is cmd for any goroutine: it reports trouble in the result.
func (r *crashRig) run(stdin []byte, name string, args ...string) cmdResult {
	ctx, cancel := context.WithTimeout(context.Background(), crashCmdTimeout)
	defer cancel()
	c := exec.CommandContext(ctx, filepath.Join(BinDir(), name), args...)
	c.Env = r.env
	c.Dir = r.tmp
	if stdin != nil {
		c.Stdin = bytes.NewReader(stdin)
	}
	var o, e bytes.Buffer
	c.Stdout, c.Stderr = &o, &e
	err := c.Run()
	res := cmdResult{out: o.Bytes(), errb: e.Bytes()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		res.err = fmt.Errorf("%s %s: still running after %v", name, strings.Join(args, " "), crashCmdTimeout)
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		res.err = fmt.Errorf("%s: %v", name, err)
	}
	return res
}

// must runs a setup command that has to succeed.
func (r *crashRig) must(stdin []byte, name string, args ...string) []byte {
	r.t.Helper()
	out, errb, code := r.cmd(stdin, name, args...)
	if code != 0 {
		r.t.Fatalf("%s %s: exit %d: %s", name, strings.Join(args, " "), code, bytes.TrimSpace(errb))
	}
	return out
}

// setup makes the base directory (genesis, blocks paying the funded key),
// the transfers, and a competing branch mined in a second directory made
// from the same genesis: it forks at block 1, pays the funded key as the
// base does (so that the transfers are valid on both branches) and carries
// some of the transfers. A cnj-serve of that directory runs until the
// test ends.
func (r *crashRig) setup() {
	t := r.t
	pw := filepath.Join(r.tmp, "pw")
	if err := os.WriteFile(pw, []byte("crash test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.base = filepath.Join(r.tmp, "base")
	r.must(nil, "cnj-mine", "--genesis", "--network", "devnet", "--no-retarget", "--chain", r.base)
	forkDir := filepath.Join(r.tmp, "fork")
	if err := copyTree(r.base, forkDir); err != nil {
		t.Fatal(err)
	}

	addr := func(name string) string {
		out := r.must(nil, "cnj-keygen", "-o", filepath.Join(r.tmp, name+".key"), "--passphrase-file", pw, "--chain", r.base)
		var k struct{ Address string }
		if err := json.Unmarshal(out, &k); err != nil || k.Address == "" {
			t.Fatalf("cnj-keygen printed %q: %v", out, err)
		}
		return k.Address
	}
	payer := addr("payer")
	recv := []string{addr("recv1"), addr("recv2"), addr("recv3")}
	r.minerA = addr("minerA")
	minerB := addr("minerB")
	r.addrs = append([]string{payer, r.minerA, minerB}, recv...)

	r.must(nil, "cnj-mine", "--chain", r.base, "--address", payer, "--blocks", strconv.Itoa(crashFundBlocks), "--threads", "1")

	// The transfers, signed once against the base (funds checked).
	var intents bytes.Buffer
	for i := range crashTransfers {
		fmt.Fprintf(&intents, `{"to":%q,"amount":%d,"fee":%d}`+"\n",
			recv[i%len(recv)], 1000+r.rng.IntN(200_000), 1000+r.rng.IntN(3000))
	}
	out := r.must(intents.Bytes(), "cnj-sign", "-k", filepath.Join(r.tmp, "payer.key"), "--passphrase-file", pw, "--chain", r.base)
	r.txs = completeLines(out)
	if len(r.txs) != crashTransfers {
		t.Fatalf("cnj-sign printed %d transfers, want %d", len(r.txs), crashTransfers)
	}

	// The competing branch: its first block pays another miner, so that it
	// forks at block 1 and a switch to it or back disconnects everything.
	mine := func(to string, n int) {
		out := r.must(nil, "cnj-mine", "--chain", forkDir, "--address", to, "--blocks", strconv.Itoa(n), "--threads", "1")
		for _, l := range completeLines(out) {
			h, ok := blockHash(l)
			if !ok {
				t.Fatalf("cnj-mine printed %q", l)
			}
			r.fork = append(r.fork, forkBlock{h, l})
		}
	}
	mine(minerB, 1)
	mine(payer, crashFundBlocks)
	const chunks = 10
	for c := range chunks {
		var feed bytes.Buffer
		for i := c * 30; i < (c+1)*30 && i < len(r.txs); i += 2 {
			feed.Write(r.txs[i])
			feed.WriteByte('\n')
		}
		r.must(feed.Bytes(), "cnj-verify", "--chain", forkDir)
		mine(minerB, crashForkBlocks/chunks)
	}
	if want := 1 + crashFundBlocks + crashForkBlocks/chunks*chunks; len(r.fork) != want {
		t.Fatalf("the competing branch has %d blocks, want %d", len(r.fork), want)
	}
	// cnj-sync victims fetch the competing branch from its web app.
	startProc(t, r.tmp, "exec cnj-serve --rate 0 --listen "+crashSource+" --chain "+forkDir)
	netAnswers(t, "http://"+crashSource+"/api/blocks/tip/height")
}

// newEpoch starts over on a fresh copy of the base directory.
func (r *crashRig) newEpoch() {
	if r.dir != "" {
		os.RemoveAll(r.dir)
	}
	r.epoch++
	r.dir = filepath.Join(r.tmp, fmt.Sprintf("chain%d", r.epoch))
	if err := copyTree(r.base, r.dir); err != nil {
		r.t.Fatal(err)
	}
	r.printed = map[string]printedBlock{}
	r.lastTip = [32]byte{}
	r.forkHas = 0
	r.txNext = 0
}

// victim is one process to kill.
type victim struct {
	kind  string
	args  []string
	feed  [][]byte        // cnj-verify: chunks written to stdin
	gaps  []time.Duration // pause after each chunk
	delay time.Duration   // SIGKILL after this long
	bad   bool            // cnj-verify: the feed holds a bad branch

	cmd      *exec.Cmd
	out, err bytes.Buffer
	killed   bool
	exitCode int
}

func (v *victim) String() string {
	s := fmt.Sprintf("%s %s (kill after %v", v.kind, strings.Join(v.args, " "), v.delay.Round(10*time.Microsecond))
	if v.bad {
		s += ", fed a bad branch"
	}
	if v.killed {
		s += ", killed)"
	} else {
		s += fmt.Sprintf(", exited %d first)", v.exitCode)
	}
	return s
}

// round runs one or two victims to their kill and checks the directory. It
// returns the number of processes killed and whether a check failed.
func (r *crashRig) round() (kills int, failed bool) {
	r.rounds++
	var vs []*victim
	switch x := r.rng.IntN(100); {
	case x < 25:
		vs = []*victim{r.mineVictim()}
	case x < 50:
		vs = []*victim{r.verifyVictim()}
	case x < 62:
		vs = []*victim{r.reindexVictim()}
	case x < 72:
		vs = []*victim{r.syncVictim()}
	case x < 90:
		vs = []*victim{r.mineVictim(), r.verifyVictim()}
	case x < 95:
		vs = []*victim{r.syncVictim(), r.mineVictim()}
	default:
		vs = []*victim{r.reindexVictim(), r.mineVictim()}
	}
	if len(vs) > 1 {
		r.pairs++
	}
	// The second victim starts a little later, or not at all later.
	offsets := make([]time.Duration, len(vs))
	for i := 1; i < len(vs); i++ {
		offsets[i] = time.Duration(r.rng.Int64N(int64(5 * time.Millisecond)))
	}

	t0 := time.Now()
	var wg sync.WaitGroup
	for i, v := range vs {
		r.runs[v.kind]++
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(offsets[i])
			v.run(r)
		}()
	}
	wg.Wait()
	r.victimTime += time.Since(t0)

	var problems []string
	for _, v := range vs {
		if v.killed {
			kills++
			r.kills[v.kind]++
			if bytes.IndexByte(v.out.Bytes(), '\n') >= 0 {
				r.midOutput[v.kind]++
			}
		} else {
			r.ownExits[v.kind]++
			if v.exitCode != 0 && !v.refusedBadOnly() {
				problems = append(problems, fmt.Sprintf("%s exited %d by itself: %s", v.kind, v.exitCode, bytes.TrimSpace(v.err.Bytes())))
			}
		}
		if v.bad && badReject.Match(v.err.Bytes()) {
			r.badRefused++
		}
		r.collect(v)
	}

	t1 := time.Now()
	before := r.lastTip
	problems = append(problems, r.check()...)
	r.checkTime += time.Since(t1)
	if len(vs) == 1 && vs[0].kind == "sync" && vs[0].killed && r.lastTip != before {
		r.syncMoved++
	}
	if len(problems) == 0 {
		return kills, false
	}
	r.failures++
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d, epoch %d, round %d: after", r.seed, r.epoch, r.rounds)
	for _, v := range vs {
		fmt.Fprintf(&b, "\n\tvictim: %v", v)
		if s := bytes.TrimSpace(v.err.Bytes()); len(s) > 0 {
			fmt.Fprintf(&b, "\n\t  its stderr: %s", s)
		}
	}
	for _, p := range problems {
		fmt.Fprintf(&b, "\n\tFAIL: %s", p)
	}
	if r.keepDir != "" {
		kept := filepath.Join(r.keepDir, fmt.Sprintf("cnj-crash-%d-round%d", r.seed, r.rounds))
		if err := copyTree(r.dir, kept); err != nil {
			fmt.Fprintf(&b, "\n\tkeeping the directory: %v", err)
		} else {
			fmt.Fprintf(&b, "\n\tdirectory kept in %s", kept)
		}
	}
	r.t.Error(b.String())
	return kills, true
}

func (r *crashRig) killDelay() time.Duration {
	return time.Duration(r.rng.Int64N(int64(crashMaxDelay) + 1))
}

func (r *crashRig) mineVictim() *victim {
	return &victim{
		kind: "mine",
		args: []string{"--chain", r.dir, "--address", r.minerA,
			"--blocks", strconv.Itoa(1 + r.rng.IntN(10)), "--threads", strconv.Itoa(1 + r.rng.IntN(2))},
		delay: r.killDelay(),
	}
}

// syncVictim fetches the competing branch from its web app: the whole
// branch until the directory holds it (or outgrows it), as one catch-up
// sync that brings the transfer index along in steps (node.IndexInSteps).
func (r *crashRig) syncVictim() *victim {
	return &victim{kind: "sync", args: []string{"-q", "--chain", r.dir, "--from", crashSource},
		delay: time.Duration(r.rng.Int64N(int64(crashSyncDelay) + 1))}
}

func (r *crashRig) reindexVictim() *victim {
	return &victim{kind: "reindex", args: []string{"--chain", r.dir, "reindex"}, delay: r.killDelay()}
}

// verifyVictim feeds the next transfers, a few already sent, and the next
// blocks of the competing branch (with a couple the directory already
// holds), in chunks with short pauses so that cnj-verify stores them in
// several batches.
func (r *crashRig) verifyVictim() *victim {
	var txs, blocks [][]byte
	for range 3 + r.rng.IntN(13) {
		txs = append(txs, r.txs[r.txNext%len(r.txs)])
		r.txNext++
	}
	for range r.rng.IntN(3) {
		txs = append(txs, r.txs[r.rng.IntN(len(r.txs))])
	}
	from := max(0, r.forkHas-2)
	to := min(len(r.fork), r.forkHas+1+r.rng.IntN(10))
	for _, b := range r.fork[from:to] {
		blocks = append(blocks, b.line)
	}
	bad := r.rng.IntN(2) == 0
	if bad {
		r.badFed++
		blocks = append(r.badBranch(), blocks...) // made for the tip as it is now
	}
	// Interleave, keeping each kind in order.
	var lines [][]byte
	for len(txs) > 0 || len(blocks) > 0 {
		if len(blocks) == 0 || (len(txs) > 0 && r.rng.IntN(2) == 0) {
			lines, txs = append(lines, txs[0]), txs[1:]
		} else {
			lines, blocks = append(lines, blocks[0]), blocks[1:]
		}
	}
	v := &victim{kind: "verify", args: []string{"--chain", r.dir}, delay: r.killDelay(), bad: bad}
	for len(lines) > 0 {
		n := min(len(lines), 1+r.rng.IntN(6))
		var chunk []byte
		for _, l := range lines[:n] {
			chunk = append(append(chunk, l...), '\n')
		}
		lines = lines[n:]
		v.feed = append(v.feed, chunk)
		v.gaps = append(v.gaps, time.Duration(r.rng.Int64N(int64(8*time.Millisecond))))
	}
	return v
}

// badReject is a line of cnj-verify refusing a block of a bad branch: the
// sibling's transfer when the sibling is tried (insufficient-funds), or the
// child when the sibling was refused first.
var badReject = regexp.MustCompile(`(?m)^cnj-verify: line [0-9]+: (insufficient-funds|unknown-parent|invalid-ancestor): `)

// refusedBadOnly reports whether every stderr line of a cnj-verify victim
// refuses a bad branch's block (and there is one).
func (v *victim) refusedBadOnly() bool {
	if !v.bad || v.exitCode != 1 {
		return false
	}
	lines := completeLines(v.err.Bytes())
	for _, l := range lines {
		if !badReject.Match(l) {
			return false
		}
	}
	return len(lines) > 0
}

// badBranch returns two block lines under the parent of the directory's
// tip: a sibling of the tip carrying a transfer from an empty address, and
// a child of the sibling, so that the child outweighs the tip and storing it
// tries a reorganization that fails at the sibling. Both are otherwise
// valid (proof, target, times, merkle root, reward), so they pass every
// check made before the ledger.
func (r *crashRig) badBranch() [][]byte {
	d, err := node.Open(r.dir)
	if err != nil {
		r.t.Fatalf("seed %d: opening in-process to build a bad branch: %v", r.seed, err)
	}
	defer d.Close()
	c, p := d.Chain(), d.Params()
	parent := c.Tip().Parent
	if parent == nil {
		parent = c.Tip()
	}
	now := time.Now().Unix()
	// Above every recent timestamp, so above the median time past.
	ts := now
	for x, i := parent, 0; x != nil && i < 11; x, i = x.Parent, i+1 {
		ts = max(ts, x.Timestamp+1)
	}

	var seed [32]byte
	for i := range seed {
		seed[i] = byte(r.rng.Uint32())
	}
	priv := ed25519.NewKeyFromSeed(seed[:])
	t := &tx.Tx{
		Sender:   keys.Address(p.AddressPrefix, priv.Public().(ed25519.PublicKey)),
		Receiver: r.addrs[len(r.addrs)-1],
		Amount:   100_000_000, Fee: p.MinFee, Timestamp: now,
	}
	for i := range t.ID {
		t.ID[i] = byte(r.rng.Uint32())
	}
	t.Sign(p.Hash(), priv)

	mine := func(parentHash [32]byte, index uint64, ts int64, target [32]byte, txs []*tx.Tx) *block.Block {
		b := &block.Block{
			Header: block.Header{Index: index, Timestamp: ts, Miner: r.minerA, PrevHash: parentHash, Target: target},
			Reward: tx.Reward{Receiver: r.minerA, Amount: p.Subsidy(index), Index: index},
			Txs:    txs,
		}
		for _, t := range txs {
			b.Reward.Amount += t.Fee
		}
		b.MerkleRoot = block.MerkleRoot(p.Hash(), &b.Reward, b.Txs)
		for b.Proof = 1; ; b.Proof++ {
			if b.Hash = b.ComputeHash(); pow.Meets(&b.Hash, &b.Target) {
				return b
			}
		}
	}
	// The retarget rule is off (--no-retarget): one target for both.
	target := consensus.NextTarget(p, c.Context(parent, now))
	sib := mine(parent.Hash, parent.Height+1, ts, target, []*tx.Tx{t})
	child := mine(sib.Hash, sib.Index+1, ts+1, target, nil)
	return [][]byte{sib.JSON(), child.JSON()}
}

// run starts the victim, sends SIGKILL after its delay unless it exited
// first, and waits for it.
func (v *victim) run(r *crashRig) {
	name := "cnj-" + v.kind
	if v.kind == "reindex" {
		name = "cnj-chain"
	}
	v.cmd = exec.Command(filepath.Join(BinDir(), name), v.args...)
	v.cmd.Env = r.env
	v.cmd.Dir = r.tmp
	v.cmd.Stdout, v.cmd.Stderr = &v.out, &v.err
	var stdin io.WriteCloser
	if v.kind == "verify" {
		var err error
		if stdin, err = v.cmd.StdinPipe(); err != nil {
			panic(err)
		}
	}
	if err := v.cmd.Start(); err != nil {
		v.exitCode = -1
		fmt.Fprintf(&v.err, "start: %v", err)
		return
	}
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		if stdin == nil {
			return
		}
		defer stdin.Close()
		for i, chunk := range v.feed {
			if _, err := stdin.Write(chunk); err != nil {
				return // killed
			}
			time.Sleep(v.gaps[i])
		}
	}()
	done := make(chan error, 1)
	go func() { done <- v.cmd.Wait() }()
	timer := time.NewTimer(v.delay)
	select {
	case <-done:
		timer.Stop()
	case <-timer.C:
		v.cmd.Process.Signal(syscall.SIGKILL)
		<-done
	}
	<-fed
	ws, _ := v.cmd.ProcessState.Sys().(syscall.WaitStatus)
	v.killed = ws.Signaled() && ws.Signal() == syscall.SIGKILL
	v.exitCode = v.cmd.ProcessState.ExitCode()
}

// collect records the complete block lines a victim printed.
func (r *crashRig) collect(v *victim) {
	for _, l := range completeLines(v.out.Bytes()) {
		h, ok := blockHash(l)
		if !ok {
			continue // a transfer passed by cnj-verify, or reindex's summary
		}
		if _, seen := r.printed[h]; seen {
			continue
		}
		r.printed[h] = printedBlock{line: l, by: v.kind, round: r.rounds}
		r.fresh = append(r.fresh, h)
		if v.kind == "mine" {
			r.byMine++
		} else {
			r.byVerify++
		}
	}
}

// check runs the three checks on the directory as the victims left it and
// returns what failed.
func (r *crashRig) check() (problems []string) {
	fresh := r.fresh
	r.fresh = nil

	// 1. It opens and passes check.
	t0 := time.Now()
	out, errb, code := r.cmd(nil, "cnj-chain", "--chain", r.dir, "check")
	checked := code == 0 && bytes.Contains(out, []byte(`"ok":true`))
	if !checked {
		problems = append(problems, fmt.Sprintf("cnj-chain check exited %d: %s%s", code, bytes.TrimSpace(errb), bytes.TrimSpace(out)))
	}

	// 2. The blocks printed this round, through the command; every block
	// printed in this epoch, in-process.
	t1 := time.Now()
	r.phase[0] += t1.Sub(t0)
	for _, h := range fresh {
		out, errb, code := r.cmd(nil, "cnj-chain", "--chain", r.dir, "block", h)
		pb := r.printed[h]
		switch {
		case code != 0:
			problems = append(problems, fmt.Sprintf("block %s printed by cnj-%s in round %d is lost: cnj-chain block exited %d: %s",
				h, pb.by, pb.round, code, bytes.TrimSpace(errb)))
		case !bytes.Equal(bytes.TrimSuffix(out, []byte("\n")), pb.line):
			problems = append(problems, fmt.Sprintf("block %s printed by cnj-%s: cnj-chain block prints another line:\n\t  printed %s\n\t  stored  %s",
				h, pb.by, pb.line, bytes.TrimSpace(out)))
		default:
			r.verified++
		}
	}
	problems = append(problems, r.checkPrinted()...)

	if !checked {
		return problems // a replay of a damaged directory says nothing more
	}

	// 3. The derived files equal a replay of the blocks.
	t2 := time.Now()
	r.phase[1] += t2.Sub(t1)
	replay := filepath.Join(r.tmp, "replay")
	os.RemoveAll(replay)
	if err := copyTree(r.dir, replay); err != nil {
		r.t.Fatal(err)
	}
	defer os.RemoveAll(replay)
	for _, pat := range []string{"index", "index.tmp*", "state", "state.tmp*", "undo", "undo.tmp*", "txindex", "txindex.tmp*"} {
		m, _ := filepath.Glob(filepath.Join(replay, pat))
		for _, f := range m {
			if err := os.Remove(f); err != nil {
				r.t.Fatal(err)
			}
		}
	}
	t3 := time.Now()
	r.phase[2] += t3.Sub(t2)
	defer func() { r.phase[3] += time.Since(t3) }()
	queries := [][]string{{"tip"}}
	for _, a := range r.addrs {
		queries = append(queries, []string{"balance", a})
	}
	// The transfer index (read up to where it agrees with the chain, the
	// blocks above it) against the blocks alone: the histories of a few
	// addresses, and a few transfers by id.
	for _, a := range r.addrs[:min(3, len(r.addrs))] {
		queries = append(queries, []string{"history", a})
	}
	for i := 0; i < r.txNext && i < len(r.txs); i += max(1, r.txNext/3) {
		var x struct{ ID string }
		if json.Unmarshal(r.txs[i], &x) == nil {
			queries = append(queries, []string{"tx", x.ID})
		}
	}
	// Each query on both directories, a few at a time: the replays cost
	// most of a round's checks.
	got := make([]cmdResult, len(queries))
	want := make([]cmdResult, len(queries))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, q := range queries {
		for _, j := range []struct {
			dir string
			res *cmdResult
		}{{r.dir, &got[i]}, {replay, &want[i]}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				*j.res = r.run(nil, "cnj-chain", append([]string{"--chain", j.dir}, q...)...)
			}()
		}
	}
	wg.Wait()
	for i, q := range queries {
		g, w := got[i], want[i]
		for _, res := range []cmdResult{g, w} {
			if res.err != nil {
				r.t.Fatalf("seed %d: %v", r.seed, res.err)
			}
		}
		switch {
		case q[0] == "tx" && g.code == 1 && w.code == 1 && bytes.Equal(g.errb, w.errb):
			// Neither holds it (not mined yet, dropped from the pool): the
			// same refusal.
		case g.code != 0:
			problems = append(problems, fmt.Sprintf("cnj-chain %s exited %d: %s", strings.Join(q, " "), g.code, bytes.TrimSpace(g.errb)))
		case w.code != 0:
			problems = append(problems, fmt.Sprintf("cnj-chain %s on the copy without derived files exited %d: %s",
				strings.Join(q, " "), w.code, bytes.TrimSpace(w.errb)))
		case !bytes.Equal(g.out, w.out):
			problems = append(problems, fmt.Sprintf("cnj-chain %s differs from a replay of the blocks:\n\t  directory %s\n\t  replay    %s",
				strings.Join(q, " "), bytes.TrimSpace(g.out), bytes.TrimSpace(w.out)))
		}
		if q[0] == "tip" && g.code == 0 {
			var tip struct{ Height int }
			if json.Unmarshal(g.out, &tip) == nil {
				r.maxHeight = max(r.maxHeight, tip.Height)
			}
		}
	}
	return problems
}

// checkPrinted opens the directory in-process (as cnj-chain block does)
// and looks up every block printed in this epoch; it also notes how much
// of the competing branch the directory holds.
func (r *crashRig) checkPrinted() (problems []string) {
	d, err := node.Open(r.dir)
	if err != nil {
		return []string{fmt.Sprintf("opening in-process: %v", err)}
	}
	defer d.Close()
	c := d.Chain()
	has := func(h string) bool {
		b, err := hex.DecodeString(h)
		return err == nil && len(b) == 32 && c.Node([32]byte(b)) != nil
	}
	hashes := make([]string, 0, len(r.printed))
	for h := range r.printed {
		hashes = append(hashes, h)
	}
	slices.Sort(hashes)
	for _, h := range hashes {
		if !has(h) {
			pb := r.printed[h]
			problems = append(problems, fmt.Sprintf("block %s printed by cnj-%s in round %d is lost", h, pb.by, pb.round))
		} else {
			r.lookups++
		}
	}
	r.forkHas = 0
	for r.forkHas < len(r.fork) && has(r.fork[r.forkHas].hash) {
		r.forkHas++
	}
	// A reorganization: the last round's tip left the main chain.
	if n := c.Node(r.lastTip); n != nil && c.AtHeight(n.Height) != n {
		r.reorgs++
		f := n
		for f.Parent != nil && c.AtHeight(f.Height) != f {
			f = f.Parent
		}
		r.maxReorg = max(r.maxReorg, n.Height-f.Height)
	}
	r.lastTip = c.Tip().Hash
	tip := fmt.Sprintf("%x", c.Tip().Hash)
	for _, b := range r.fork {
		if b.hash == tip {
			r.forkOnTip++
			break
		}
	}
	return problems
}

// completeLines returns the newline-terminated lines of out, without their
// newlines: a killed process's unfinished last line is not one.
func completeLines(out []byte) [][]byte {
	var lines [][]byte
	for {
		i := bytes.IndexByte(out, '\n')
		if i < 0 {
			return lines
		}
		if i > 0 {
			lines = append(lines, out[:i:i])
		}
		out = out[i+1:]
	}
}

// blockHash returns the hash of a block line.
func blockHash(line []byte) (string, bool) {
	if !bytes.HasPrefix(line, []byte(`{"type":"block"`)) {
		return "", false
	}
	var b struct {
		Type, Hash string
	}
	if err := json.Unmarshal(line, &b); err != nil || b.Type != "block" || len(b.Hash) != 64 {
		return "", false
	}
	return b.Hash, true
}

// copyTree copies directory src to dst (which must not exist): directories
// and regular files.
func copyTree(src, dst string) error { return os.CopyFS(dst, os.DirFS(src)) }
