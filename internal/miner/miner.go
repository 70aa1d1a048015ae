// Package miner is cnj-mine's loop: take a block template on the tip, search
// proofs on every thread from one saved SHA-256 midstate, store and print
// each block found, and start over within 100 ms when another process
// extends the chain. It keeps its counters (proofs tried, blocks found) in
// a stats file of the chain directory, mine-PID.json, for cnj-serve's
// /metrics: the node's own mining rate.
//
// Threads take disjoint chunks of the proof space from one counter, so no
// try is repeated; proofs count up from 1, as in the whitepaper.
//
// The proof is 64 bits. A template whose 2^64 proofs are all tried (about
// 2^64 hashes, some 30 years of one GPU at 20 GH/s, or 0.03 s of the
// whole Bitcoin network of 2024) is not searched again: the next template
// gives up one more unit of the reward (extraNonce), which changes the
// merkle root and so every hash, as Bitcoin's coinbase extra nonce does.
// The reward may be below subsidy plus fees (the rest is burned), so the
// block stays valid; a search space of 2^64 times the reward's units per
// template, and a new one every second as the timestamp moves.
package miner

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/pow/midstate"
)

// Chunk is the number of proofs a thread tries between checks for a stop.
// At ~20 M tries/s a chunk takes about 3 ms.
const Chunk = 1 << 16

// DefaultPoll is how often the chain directory is checked for a new tip
// (Options.Poll when zero).
const DefaultPoll = 25 * time.Millisecond

// DefaultRefresh is how often the template is rebuilt to take in new
// transfers and a current timestamp (Options.Refresh when zero).
const DefaultRefresh = time.Second

// Options configure Run.
type Options struct {
	Chain    string
	Address  string
	Blocks   uint64 // 0: until ctx ends
	Threads  int
	Out      io.Writer          // block lines
	Progress func(string)       // hash rate, nil for none
	Warn     func(string)       // non-fatal trouble
	Found    func(*block.Block) // test hook, after the block is stored
	Poll     time.Duration      // 0 is DefaultPoll
	Refresh  time.Duration      // 0 is DefaultRefresh
	// StatsEvery is how often the stats file (chaindir's mine-PID.json:
	// proofs tried, blocks found, for cnj-serve's /metrics) is rewritten;
	// 0 is DefaultStatsEvery.
	StatsEvery time.Duration
}

// DefaultStatsEvery is Options.StatsEvery when zero: well within
// chaindir.RelayStatsStale, after which a file is taken as a dead
// process's.
const DefaultStatsEvery = 2 * time.Second

// statsFile writes the miner's counters for /metrics, and removes them as
// it stops. A file that cannot be written is warned about once: mining
// goes on.
type statsFile struct {
	d       chaindir.Dir
	pid     int
	every   time.Duration
	written time.Time
	warned  bool
	warn    func(string)
}

func (f *statsFile) write(hashes, blocks uint64, force bool) {
	now := time.Now()
	if !force && now.Sub(f.written) < f.every {
		return
	}
	f.written = now
	b, _ := json.Marshal(chaindir.MineStats{Hashes: hashes, Blocks: blocks})
	if err := f.d.WriteRelayStats(chaindir.MineKind, f.pid, b, now); err != nil && !f.warned && f.warn != nil {
		f.warned = true
		f.warn(fmt.Sprintf("writing the stats file: %v", err))
	}
}

func (f *statsFile) remove() {
	if err := f.d.RemoveRelayStats(chaindir.MineKind, f.pid); err != nil && f.warn != nil {
		f.warn(fmt.Sprintf("removing the stats file: %v", err))
	}
}

// Run mines until Blocks blocks were stored or ctx ends.
func Run(ctx context.Context, o Options) error {
	n, err := node.Open(o.Chain)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := keys.CheckAddress(o.Address, n.Params().AddressPrefix); err != nil {
		return fmt.Errorf("--address: %w", err)
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Refresh <= 0 {
		o.Refresh = DefaultRefresh
	}
	if o.StatsEvery <= 0 {
		o.StatsEvery = DefaultStatsEvery
	}
	var mined uint64
	var tries atomic.Uint64
	// burned is the extra nonce: units of reward the next template gives
	// up, one more each time a template's proofs ran out on this tip.
	var burned uint64
	var lastTip [32]byte
	stats := &statsFile{d: n.Dir(), pid: os.Getpid(), every: o.StatsEvery, warn: o.Warn}
	stats.write(0, 0, true)
	defer stats.remove()
	start := time.Now()
	for o.Blocks == 0 || mined < o.Blocks {
		if ctx.Err() != nil {
			return nil
		}
		if err := n.Refresh(); err != nil {
			return err
		}
		b := n.Template(o.Address)
		if tip := b.PrevHash; tip != lastTip {
			lastTip, burned = tip, 0
		}
		extraNonce(n, b, burned)
		found, why := search(ctx, n, b, 1, &o, &tries, func() {
			stats.write(tries.Load(), mined, false)
			if o.Progress != nil {
				secs := time.Since(start).Seconds()
				o.Progress(fmt.Sprintf("mining block %d: %.2f MH/s", b.Index, float64(tries.Load())/secs/1e6))
			}
		})
		switch why {
		case exhausted:
			burned++
			continue
		case stopped:
			continue
		}
		burned = 0
		v, line, err := n.AddMined(found)
		if err != nil {
			return err
		}
		switch {
		case v.Err != nil:
			o.Warn(fmt.Sprintf("block %d refused: %v", found.Index, v.Err))
			continue
		case v.Known:
			continue
		}
		if _, err := o.Out.Write(append(line, '\n')); err != nil {
			return err
		}
		if o.Found != nil {
			o.Found(found)
		}
		mined++
		stats.write(tries.Load(), mined, true)
	}
	return nil
}

// extraNonce makes b, a template, give up burned units of its reward (all
// of it at most) and sets its merkle root again: a new header prefix, so a
// new space of 2^64 proofs, for when the last template's ran out.
func extraNonce(n *node.Node, b *block.Block, burned uint64) {
	if burned == 0 {
		return
	}
	b.Reward.Amount -= min(burned, b.Reward.Amount)
	b.MerkleRoot = block.MerkleRoot(n.Params().Hash(), &b.Reward, b.Txs)
	b.Size = 0
}

// outcome is how a search ended.
type outcome int

const (
	stopped   outcome = iota // ctx ended, the tip moved or the template aged
	found                    // a proof meets the target
	exhausted                // every proof up to 2^64-1 was tried
)

// search looks for a proof of b from proof first on o.Threads goroutines,
// looking at the tip every o.Poll. It stops when ctx ends, another
// process moves the tip, or the template is older than o.Refresh; and at
// once when every proof up to 2^64-1 was tried.
func search(ctx context.Context, n *node.Node, b *block.Block, first uint64, o *Options, tries *atomic.Uint64, tick func()) (*block.Block, outcome) {
	prefix := b.Prefix()
	ms := midstate.New(prefix[:])
	// next is the first proof not yet handed out, 0 once all were: take
	// hands out chunks, the last one short, never one twice.
	var next atomic.Uint64
	next.Store(max(first, 1))
	take := func() (uint64, bool) {
		for {
			cur := next.Load()
			if cur == 0 {
				return 0, false
			}
			end := cur + Chunk
			if end < cur {
				end = 0 // past 2^64-1: this chunk is the last
			}
			if next.CompareAndSwap(cur, end) {
				return cur, true
			}
		}
	}
	var stop atomic.Bool
	var once sync.Once
	done := make(chan struct{})
	var proof uint64
	var hash [32]byte
	var wg sync.WaitGroup
	for range o.Threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := ms
			for !stop.Load() {
				from, ok := take()
				if !ok {
					return
				}
				p, h, ok := st.Search(block.PrefixSize, from, Chunk, &b.Target)
				if ok {
					once.Do(func() {
						proof, hash = p, h
						stop.Store(true)
						close(done)
					})
					tries.Add(p - from + 1)
					return
				}
				tries.Add(min(Chunk, -from))
			}
		}()
	}
	idle := make(chan struct{}) // every thread returned
	go func() { wg.Wait(); close(idle) }()
	defer func() { stop.Store(true); <-idle }()
	poll := time.NewTicker(o.Poll)
	defer poll.Stop()
	deadline := time.Now().Add(o.Refresh)
	for {
		select {
		case <-done:
			b.Proof, b.Hash = proof, hash
			return b, found
		case <-idle:
			select {
			case <-done:
				b.Proof, b.Hash = proof, hash
				return b, found
			default:
				return nil, exhausted
			}
		case <-ctx.Done():
			return nil, stopped
		case <-poll.C:
			tick()
			if n.TipChanged() || time.Now().After(deadline) {
				return nil, stopped
			}
		}
	}
}
