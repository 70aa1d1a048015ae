package testchain

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hdevalence/ed25519consensus"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/pow/midstate"
	"github.com/coniunctum/cnj/lib/tx"
)

// BenchSize is the size of the chain the sync benchmarks build: 100 blocks
// and 10,000 transfers, so that `make bench` stays short, unless
// $CNJ_SYNC_BENCH_BLOCKS and $CNJ_SYNC_BENCH_TXS say otherwise (the
// issue's figure is 10000 blocks and 1000000 transfers).
func BenchSize() (blocks, txs int) {
	blocks, txs = 100, 10_000
	if v, err := strconv.Atoi(os.Getenv("CNJ_SYNC_BENCH_BLOCKS")); err == nil && v > 0 {
		blocks = v
	}
	if v, err := strconv.Atoi(os.Getenv("CNJ_SYNC_BENCH_TXS")); err == nil && v >= 0 {
		txs = v
	}
	return blocks, txs
}

// benchSenders is how many keys sign the transfers of a built chain.
const benchSenders = 50

// Chain is a chain directory Build made.
type Chain struct {
	Params *params.Params
	Dir    string
	Blocks int      // blocks of transfers (after the funding blocks)
	Txs    int      // transfers in all
	PerTx  int      // transfers per block
	Sample []*tx.Tx // up to 20,000 of the transfers, for RawVerifyRate
	// Senders are the keys the funding blocks paid, each spendable once
	// Build returns; Senders[0] also mined the blocks after them.
	Senders []ed25519.PrivateKey
}

// Build makes a chain directory at dir on a fresh devnet without
// retargeting: one block paying each of the senders, Maturity blocks, then
// blocks blocks carrying txs transfers in all, each signed on every core
// while the node validates the block before.
func Build(dir string, blocks, txs int) (*Chain, error) {
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: time.Now().Unix() - 60, NoRetarget: true})
	if err != nil {
		return nil, err
	}
	if err := node.Create(dir, p); err != nil {
		return nil, err
	}
	var senders []ed25519.PrivateKey
	var addrs []string
	for i := range benchSenders {
		h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("sync-bench-sender"), uint64(i)))
		k := ed25519.NewKeyFromSeed(h[:])
		senders = append(senders, k)
		addrs = append(addrs, keys.Address(p.AddressPrefix, k.Public().(ed25519.PublicKey)))
	}
	receiver := func(j int) string {
		h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("sync-bench-receiver"), uint64(j%20_000)))
		return keys.Address(p.AddressPrefix, ed25519.PublicKey(h[:]))
	}
	n, err := node.Open(dir)
	if err != nil {
		return nil, err
	}
	defer n.Close()
	for _, a := range addrs {
		if err := addForged(n, a, nil); err != nil {
			return nil, err
		}
	}
	for range p.Maturity {
		if err := addForged(n, addrs[0], nil); err != nil {
			return nil, err
		}
	}
	per := (txs + blocks - 1) / max(blocks, 1)
	signed := make(chan []*tx.Tx, 2)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(signed)
		for done := 0; done < blocks; done++ {
			k := max(min(per, txs-done*per), 0)
			batch := make([]*tx.Tx, k)
			var wg sync.WaitGroup
			workers := runtime.GOMAXPROCS(0)
			for w := range workers {
				wg.Go(func() {
					for i := w; i < k; i += workers {
						j := done*per + i
						t := &tx.Tx{Sender: addrs[j%benchSenders], Receiver: receiver(j), Amount: 1 + uint64(j%1000),
							Fee: p.MinFee, Timestamp: time.Now().Unix()}
						rand.Read(t.ID[:])
						t.Sign(p.Hash(), senders[j%benchSenders])
						batch[i] = t
					}
				})
			}
			wg.Wait()
			select {
			case signed <- batch:
			case <-stop:
				return
			}
		}
	}()
	c := &Chain{Params: p, Dir: dir, Blocks: blocks, Txs: txs, PerTx: per, Senders: senders}
	for batch := range signed {
		if err := addForged(n, addrs[0], batch); err != nil {
			return nil, err
		}
		if len(c.Sample) < 20_000 {
			c.Sample = append(c.Sample, batch...)
		}
	}
	return c, n.Close()
}

// Forge builds the next block on n's tip paying miner and carrying txs
// (nil: the mempool's, as cnj-mine takes them) and finds its proof; it is
// not stored.
func Forge(n *node.Node, miner string, txs []*tx.Tx) (*block.Block, error) {
	p := n.Params()
	b := n.Template(miner)
	if txs != nil {
		var fees uint64
		for _, x := range txs {
			fees += x.Fee
		}
		b.Txs = txs
		b.Reward.Amount = p.Subsidy(b.Index) + fees
		b.MerkleRoot = block.MerkleRoot(p.Hash(), &b.Reward, b.Txs)
	}
	return b, Prove(b)
}

// Prove finds the proof of b's header and sets b's Proof and Hash.
func Prove(b *block.Block) error {
	prefix := b.Prefix()
	ms := midstate.New(prefix[:])
	proof, hash, ok := ms.Search(block.PrefixSize, 0, math.MaxUint64, &b.Target)
	if !ok {
		return errors.New("testchain: no proof found")
	}
	b.Proof, b.Hash = proof, hash
	return nil
}

// addForged forges the next block (Forge) and stores it.
func addForged(n *node.Node, miner string, txs []*tx.Tx) error {
	b, err := Forge(n, miner, txs)
	if err != nil {
		return err
	}
	v, _, err := n.AddMined(b)
	if err != nil {
		return err
	}
	if v.Err != nil || v.Known {
		return fmt.Errorf("testchain: block %d not taken: %+v", b.Index, v)
	}
	return nil
}

// RawVerifyRate is the machine's batch signature verification limit on
// every core, in signatures per second: txs verified in batches of per (a
// block's transfers), on GOMAXPROCS goroutines, with nothing else done.
func RawVerifyRate(txs []*tx.Tx, per int) (float64, error) {
	per = max(per, 2)
	var next atomic.Int64
	var bad atomic.Bool
	begin := time.Now()
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(int64(per))) - per
				if i >= len(txs) {
					return
				}
				batch := txs[i:min(i+per, len(txs))]
				v := ed25519consensus.NewPreallocatedBatchVerifier(len(batch))
				for _, t := range batch {
					v.Add(t.PubKey[:], t.Hash[:], t.Signature[:])
				}
				if !v.Verify() {
					bad.Store(true)
				}
			}
		})
	}
	wg.Wait()
	if bad.Load() {
		return 0, errors.New("testchain: raw batch verification failed")
	}
	return float64(len(txs)) / time.Since(begin).Seconds(), nil
}
