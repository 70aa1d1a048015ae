package consensus_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hdevalence/ed25519consensus"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
)

// benchTxs is the size of the benchmark block: a transfer line is about
// 527 bytes, so 1900 of them make a block of about 1.0 MB, just under the
// devnet's 1 MiB limit.
const benchTxs = 1900

var (
	bigOnce  sync.Once
	bigP     *params.Params
	bigBlock *block.Block
)

// bigBody returns a devnet and a block of benchTxs signed transfers from 50
// senders to 1900 receivers, with its reward, merkle root and Size set as
// if it had been parsed. It carries no proof: CheckBody does not look.
func bigBody(b *testing.B) (*params.Params, *block.Block) {
	bigOnce.Do(func() {
		ts := time.Now().Unix()
		p, err := params.NewDevnet(params.DevnetOptions{Timestamp: ts - 3600, NoRetarget: true})
		if err != nil {
			panic(err)
		}
		seed := func(s string, i int) []byte {
			h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte(s), uint64(i)))
			return h[:]
		}
		senders := make([]ed25519.PrivateKey, 50)
		for i := range senders {
			senders[i] = ed25519.NewKeyFromSeed(seed("consensus-bench-sender", i))
		}
		miner := keys.Address(p.AddressPrefix, senders[0].Public().(ed25519.PublicKey))
		blk := &block.Block{Header: block.Header{Index: 7, Timestamp: ts, Miner: miner, Target: p.InitialTarget}}
		var fees uint64
		for i := range benchTxs {
			priv := senders[i%len(senders)]
			to := keys.Address(p.AddressPrefix, ed25519.PublicKey(seed("consensus-bench-receiver", i)))
			t := &tx.Tx{
				Sender:    keys.Address(p.AddressPrefix, priv.Public().(ed25519.PublicKey)),
				Receiver:  to,
				Amount:    1000 + uint64(i),
				Fee:       p.MinFee + uint64(i%7),
				Timestamp: ts - int64(i%600),
			}
			copy(t.ID[:], seed("consensus-bench-id", i))
			t.Sign(p.Hash(), priv)
			blk.Txs = append(blk.Txs, t)
			fees += t.Fee
		}
		blk.Reward = tx.Reward{Receiver: miner, Amount: p.Subsidy(blk.Index) + fees, Index: blk.Index}
		blk.MerkleRoot = block.MerkleRoot(p.Hash(), &blk.Reward, blk.Txs)
		blk.JSON() // sets Size, as block.Parse would
		bigP, bigBlock = p, blk
	})
	return bigP, bigBlock
}

// rawBatch verifies the block's signatures with the ZIP-215 batch verifier
// alone and returns how long that took.
func rawBatch(b *testing.B, txs []*tx.Tx) time.Duration {
	begin := time.Now()
	v := ed25519consensus.NewPreallocatedBatchVerifier(len(txs))
	for _, t := range txs {
		v.Add(t.PubKey[:], t.Hash[:], t.Signature[:])
	}
	if !v.Verify() {
		b.Fatal("raw batch does not verify")
	}
	return time.Since(begin)
}

// BenchmarkCheckBody measures consensus.CheckBody on a full block of
// 1900 transfers (ns/op is one block) and reports it against a raw
// ed25519consensus batch verification of the same 1900 signatures timed in
// the same run: ratio-vs-raw-batch = raw batch time / CheckBody time, the
// share of block validation spent on the signatures themselves. Each
// CheckBody is paired with a raw batch right after it, and the ratio is the
// median over the pairs, so that both halves of a pair see the same load.
func BenchmarkCheckBody(b *testing.B) {
	p, blk := bigBody(b)
	if len(blk.Txs) != benchTxs || uint64(blk.Size) > p.MaxBlockBytes {
		b.Fatalf("block of %d transfers, %d bytes", len(blk.Txs), blk.Size)
	}
	ratios := make([]float64, 0, b.N)
	var raw time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		begin := time.Now()
		if _, err := consensus.CheckBody(blk, p); err != nil {
			b.Fatal(err)
		}
		check := time.Since(begin)
		b.StopTimer()
		r := rawBatch(b, blk.Txs)
		raw += r
		ratios = append(ratios, r.Seconds()/check.Seconds())
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(ratios)
	b.ReportMetric(float64(b.N*benchTxs)/b.Elapsed().Seconds(), "txs/s")
	b.ReportMetric(float64(b.N*benchTxs)/raw.Seconds(), "raw-batch-sigs/s")
	b.ReportMetric(ratios[len(ratios)/2], "ratio-vs-raw-batch")
}
