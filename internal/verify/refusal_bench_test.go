package verify_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hdevalence/ed25519consensus"

	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/internal/verify"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

// sizedChain returns a copy, which the caller may change, of the chain of
// testchain.Build at testchain.BenchSize: the one kept in $CNJ_BENCH_DIR
// (built there on first use, and by testscripts' BenchmarkReorgAfterOpen)
// when it is set, else one built for this run.
func sizedChain(b *testing.B) string {
	blocks, txs := testchain.BenchSize()
	root := os.Getenv("CNJ_BENCH_DIR")
	if root == "" {
		root = b.TempDir()
	}
	src := filepath.Join(root, fmt.Sprintf("testchain-%d-%d", blocks, txs))
	if _, err := os.Stat(src + ".done"); err != nil {
		os.RemoveAll(src)
		if _, err := testchain.Build(src, blocks, txs); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(src+".done", nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	dst := filepath.Join(b.TempDir(), "chain")
	// Sealed segments are never rewritten: links will do.
	err := filepath.WalkDir(src, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if _, sealed, ok := chaindir.ParseSegmentName(e.Name()); ok && sealed {
			return os.Link(path, to)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o644)
	})
	if err != nil {
		b.Fatal(err)
	}
	return dst
}

// benchKeys returns testchain.Build's senders by address.
func benchKeys(p string) map[string]ed25519.PrivateKey {
	out := map[string]ed25519.PrivateKey{}
	for i := range 50 {
		h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("sync-bench-sender"), uint64(i)))
		k := ed25519.NewKeyFromSeed(h[:])
		out[keys.Address(p, k.Public().(ed25519.PublicKey))] = k
	}
	return out
}

// BenchmarkRefusals measures what refusing one transfer line costs
// cnj-verify (verify.Stream: decode, signature, node.Submit under the
// lock) on the chain of testchain.BenchSize, whose recent-id set holds
// every transfer (issue: 1,000,000 with CNJ_SYNC_BENCH_BLOCKS=10000
// CNJ_SYNC_BENCH_TXS=1000000), for lines that reach the ledger and the
// pool in different places: a fresh id from a key without funds; another
// transfer of the sender of the newest, and of the oldest, transfer on the
// chain under its id (the old code read blocks back to find it); another
// transfer of a pooled transfer's sender under its id; the oldest mined
// transfer resent with its signature broken. Each refusal costs O(1) ledger
// and pool work and one signature check, so the worst class stays within
// twice the cheapest (ratio-worst-vs-cheapest). us-per-verify is one raw
// signature check (ed25519consensus.Verify), the machine's own limit,
// measured in the same run: ratio-worst-vs-verify says how many of them
// the worst refusal costs.
func BenchmarkRefusals(b *testing.B) {
	dir := sizedChain(b)
	n, err := node.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	p := n.Params()
	ks := benchKeys(p.AddressPrefix)
	c := n.Chain()
	// The first block with transfers, and the tip's.
	var oldest, newest *tx.Tx
	for h := uint64(1); oldest == nil; h++ {
		blk, err := c.Block(c.AtHeight(h))
		if err != nil {
			b.Fatal(err)
		}
		if len(blk.Txs) > 0 {
			oldest = blk.Txs[0]
		}
	}
	tipBlk, err := c.Block(c.Tip())
	if err != nil {
		b.Fatal(err)
	}
	newest = tipBlk.Txs[0]
	if n.Chain().Ledger().IDs() == 0 {
		b.Fatal("no recent ids")
	}
	// other is another transfer of t's sender under t's id.
	other := func(t *tx.Tx) []byte {
		x := *t
		x.Amount++
		x.Timestamp = time.Now().Unix()
		x.Sign(p.Hash(), ks[x.Sender])
		return x.AppendJSON(nil)
	}
	pooledKey := ks[oldest.Sender]
	pooled := &tx.Tx{Sender: oldest.Sender, Receiver: oldest.Sender, Amount: 1, Fee: p.MinFee, Timestamp: time.Now().Unix()}
	rand.Read(pooled.ID[:])
	pooled.Sign(p.Hash(), pooledKey)
	if accepted, _ := run(b, n, append(pooled.AppendJSON(nil), '\n'), time.Now()); accepted != 1 {
		b.Fatal("the pooled transfer was not accepted")
	}
	var poor [32]byte
	poor[0] = 0x77
	poorKey := ed25519.NewKeyFromSeed(poor[:])
	poorAddr := keys.Address(p.AddressPrefix, poorKey.Public().(ed25519.PublicKey))
	broken := *oldest
	broken.Signature[0] ^= 1

	classes := []struct {
		name string
		line func() []byte
		code rule.Code
	}{
		{"fresh-unfunded", func() []byte {
			t := &tx.Tx{Sender: poorAddr, Receiver: poorAddr, Amount: 1, Fee: p.MinFee, Timestamp: time.Now().Unix()}
			rand.Read(t.ID[:])
			t.Sign(p.Hash(), poorKey)
			return t.AppendJSON(nil)
		}, rule.InsufficientFunds},
		{"newest-id-reused", func() []byte { return other(newest) }, rule.DuplicateID},
		{"oldest-id-reused", func() []byte { return other(oldest) }, rule.DuplicateID},
		{"pooled-id-reused", func() []byte { return other(pooled) }, rule.DuplicateID},
		{"mined-resent-bad-signature", func() []byte { return broken.AppendJSON(nil) }, rule.BadSignature},
	}
	refuse := func(line []byte, code rule.Code) time.Duration {
		begin := time.Now()
		var got rule.Code
		err := verify.Stream(n, bytes.NewReader(append(line, '\n')), false, func(it node.Item, v node.Verdict) error {
			got = rule.CodeOf(v.Err)
			return nil
		}, func() error { return nil })
		took := time.Since(begin)
		if err != nil || got != code {
			b.Fatalf("refused with %q (%v), want %q", got, err, code)
		}
		return took
	}
	per := make([][]float64, len(classes))
	var verifies []float64
	b.ResetTimer()
	order := make([]int, len(classes))
	for i := range order {
		order[i] = i
	}
	for range b.N {
		b.StopTimer()
		slices.Reverse(order) // no class always first
		lines := make([][]byte, len(classes))
		for i, cl := range classes {
			lines[i] = cl.line()
		}
		begin := time.Now()
		if !ed25519consensus.Verify(oldest.PubKey[:], oldest.Hash[:], oldest.Signature[:]) {
			b.Fatal("raw verify failed")
		}
		verifies = append(verifies, time.Since(begin).Seconds())
		b.StartTimer()
		for _, i := range order {
			per[i] = append(per[i], refuse(lines[i], classes[i].code).Seconds())
		}
	}
	b.StopTimer()
	med := func(xs []float64) float64 {
		s := slices.Clone(xs)
		slices.Sort(s)
		return s[len(s)/2]
	}
	worst, cheapest := 0.0, 1e9
	for i, cl := range classes {
		m := med(per[i])
		b.ReportMetric(m*1e6, "us-"+cl.name)
		worst, cheapest = max(worst, m), min(cheapest, m)
	}
	b.ReportMetric(worst/cheapest, "ratio-worst-vs-cheapest")
	b.ReportMetric(med(verifies)*1e6, "us-per-verify")
	b.ReportMetric(worst/med(verifies), "ratio-worst-vs-verify")
	b.ReportMetric(float64(n.Chain().Ledger().IDs()), "recent-ids")
}
