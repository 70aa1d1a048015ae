package testscripts

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/tx"
)

// benchChain returns the directory of testchain.Build at
// testchain.BenchSize (the figure: CNJ_SYNC_BENCH_BLOCKS=10000
// CNJ_SYNC_BENCH_TXS=1000000): built once into $CNJ_BENCH_DIR when it is
// set (and kept there for later runs), else into a temporary directory.
func benchChain(b *testing.B) string {
	blocks, txs := testchain.BenchSize()
	root := os.Getenv("CNJ_BENCH_DIR")
	if root == "" {
		root = b.TempDir()
	}
	dir := filepath.Join(root, fmt.Sprintf("testchain-%d-%d", blocks, txs))
	done := dir + ".done"
	if _, err := os.Stat(done); err == nil {
		return dir
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(root, 0o755); err != nil {
		b.Fatal(err)
	}
	begin := time.Now()
	if _, err := testchain.Build(dir, blocks, txs); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d blocks of %d transfers in %v", blocks, txs, time.Since(begin))
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// cloneChain makes a copy of a chain directory that a writer may change:
// the sealed segments, which nothing rewrites, are hard links; every other
// file is copied.
func cloneChain(b *testing.B, from, to string) {
	b.Helper()
	err := filepath.WalkDir(from, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		if e.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if _, sealed, ok := chaindir.ParseSegmentName(e.Name()); ok && sealed {
			return os.Link(path, dst)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		b.Fatal(err)
	}
}

// rivalBranch returns the lines of a branch of depth+1 blocks without
// transfers that leaves the main chain depth blocks below the tip (depth 0:
// one block on the tip), and the time it takes in-process to read and
// decode the depth blocks a reorganization to it disconnects and to decode
// its own lines: the least a reorganization of that depth reads.
func rivalBranch(b *testing.B, dir string, depth int) ([][]byte, time.Duration) {
	b.Helper()
	n, err := node.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	c := n.Chain()
	seed := sha256.Sum256([]byte("reorg-bench-rival"))
	miner := keys.Address(n.Params().AddressPrefix, ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey))
	parent := c.AtHeight(c.Tip().Height - uint64(depth))
	var lines [][]byte
	prev, ts := parent.Hash, c.Tip().Timestamp
	for i := range depth + 1 {
		bl := &block.Block{Header: block.Header{Index: parent.Height + 1 + uint64(i), Timestamp: ts + 1 + int64(i), Miner: miner,
			PrevHash: prev, Target: parent.Target}}
		bl.Reward = tx.Reward{Receiver: miner, Amount: n.Params().Subsidy(bl.Index), Index: bl.Index}
		bl.MerkleRoot = block.MerkleRoot(n.Params().Hash(), &bl.Reward, nil)
		if err := testchain.Prove(bl); err != nil {
			b.Fatal(err)
		}
		lines = append(lines, bl.JSON())
		prev = bl.Hash
	}
	begin := time.Now()
	for x := c.Tip(); x != parent; x = x.Parent {
		if _, err := c.Block(x); err != nil {
			b.Fatal(err)
		}
	}
	for _, l := range lines {
		if _, err := block.Parse(l); err != nil {
			b.Fatal(err)
		}
	}
	return lines, time.Since(begin)
}

// probeLine returns a valid transfer line from the first of
// testchain.Build's funded senders, stamped now: cnj-verify prints it once
// it has opened the directory.
func probeLine(b *testing.B, dir string) []byte {
	n, err := node.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	p := n.Params()
	seed := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("sync-bench-sender"), 0))
	k := ed25519.NewKeyFromSeed(seed[:])
	from := keys.Address(p.AddressPrefix, k.Public().(ed25519.PublicKey))
	t := &tx.Tx{Sender: from, Receiver: from, Amount: 1, Fee: p.MinFee, Timestamp: time.Now().Unix()}
	rand.Read(t.ID[:])
	t.Sign(p.Hash(), k)
	return t.AppendJSON(nil)
}

// reorgLatency starts cnj-verify on dir and feeds it a transfer (its
// output says the process has opened the directory), then the blocks of
// branch but the last, waiting for the last of those it prints, then the
// last block, and returns the time from writing that block's line to
// reading it back on cnj-verify's output: the reorganization's latency in
// a process that has just opened the directory.
func reorgLatency(b *testing.B, dir string, branch [][]byte) time.Duration {
	b.Helper()
	cmd := exec.Command(filepath.Join(BinDir(), "cnj-verify"), "--chain", dir)
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	outp, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	lines := make(chan []byte, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(outp)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			lines <- bytes.Clone(sc.Bytes())
		}
	}()
	fail := func(format string, args ...any) {
		b.Helper()
		in.Close()
		cmd.Wait()
		b.Fatalf("%s; stderr: %s", fmt.Sprintf(format, args...), strings.TrimSpace(errb.String()))
	}
	// waitFor reads output lines until want.
	waitFor := func(want []byte) {
		b.Helper()
		for l := range lines {
			if bytes.Equal(l, want) {
				return
			}
		}
		fail("cnj-verify did not print %.60s", want)
	}
	probe := probeLine(b, dir)
	in.Write(append(probe, '\n'))
	waitFor(probe)
	// The blocks before the last: those behind the tip in work are kept
	// without being printed; the one that draws level with it is printed.
	for _, l := range branch[:len(branch)-1] {
		in.Write(append(slices.Clone(l), '\n'))
	}
	if len(branch) > 1 {
		waitFor(branch[len(branch)-2])
	}
	last := branch[len(branch)-1]
	begin := time.Now()
	in.Write(append(slices.Clone(last), '\n'))
	waitFor(last)
	took := time.Since(begin)
	in.Close()
	if err := cmd.Wait(); err != nil {
		fail("cnj-verify: %v", err)
	}
	return took
}

// BenchmarkReorgAfterOpen measures reorganizations right after opening, in
// whole processes on the chain of benchChain (the figure with
// CNJ_SYNC_BENCH_BLOCKS=10000 CNJ_SYNC_BENCH_TXS=1000000): a cnj-verify
// started on a fresh copy of the directory is fed a rival branch that
// leaves the main chain d blocks below the tip and overtakes it by one
// block; s-reorg-dD is the time from writing the branch's last block to
// cnj-verify printing it, the reorganization of depth d done (issue: at
// most 50 ms for d = 1, 200 ms for d = 10). d = 0, one block on the tip,
// is the same path without a reorganization (s-extend). Each ratio is to
// the machine's own limit measured in the same run: in-process, reading
// and decoding the d blocks the reorganization disconnects and decoding
// the d+1 new ones. s-reorg-d1-no-undo is depth 1 once more on a copy
// without the undo file, as a directory of an older build: the chain then
// replays its ledger from genesis.
func BenchmarkReorgAfterOpen(b *testing.B) {
	if BinDir() == "" {
		b.Fatal("the commands were not built")
	}
	src := benchChain(b)
	root := b.TempDir()
	depths := []int{0, 1, 10}
	branches := map[int][][]byte{}
	for _, d := range depths {
		branches[d], _ = rivalBranch(b, src, d)
	}
	run := func(i, d int, noUndo bool) time.Duration {
		dir := filepath.Join(root, fmt.Sprintf("op%d-d%d-%v", i, d, noUndo))
		cloneChain(b, src, dir)
		defer os.RemoveAll(dir)
		if noUndo {
			os.Remove(chaindir.Dir(dir).File(chaindir.UndoFile))
		}
		return reorgLatency(b, dir, branches[d])
	}
	times, reads := map[int][]float64{}, map[int][]float64{}
	b.ResetTimer()
	for i := range b.N {
		for _, d := range depths {
			_, r := rivalBranch(b, src, d)
			reads[d] = append(reads[d], r.Seconds())
			times[d] = append(times[d], run(i, d, false).Seconds())
		}
	}
	b.StopTimer()
	med := func(xs []float64) float64 {
		s := slices.Clone(xs)
		slices.Sort(s)
		return s[len(s)/2]
	}
	b.ReportMetric(med(times[0]), "s-extend")
	for _, d := range depths[1:] {
		b.ReportMetric(med(times[d]), fmt.Sprintf("s-reorg-d%d", d))
		b.ReportMetric(med(times[d])/med(reads[d]), fmt.Sprintf("ratio-d%d-vs-read-blocks", d))
	}
	b.ReportMetric(run(b.N, 1, true).Seconds(), "s-reorg-d1-no-undo")
}
