// Package miner is cnj-mine's loop: take a block template on the tip, search
// proofs on every thread from one saved SHA-256 midstate, store and print
// each block found, and start over within 100 ms when another process
// extends the chain. It keeps its counters (proofs tried, blocks found) in
// a stats file of the chain directory, mine-PID.json, for cnj-serve's
// /metrics: the node's own mining rate.
//
// Threads take disjoint chunks of the proof space from one counter, so no
// try is repeated; proofs count up from 1, as in the whitepaper.
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
		found, ok := search(ctx, n, b, &o, &tries, func() {
			stats.write(tries.Load(), mined, false)
			if o.Progress != nil {
				secs := time.Since(start).Seconds()
				o.Progress(fmt.Sprintf("mining block %d: %.2f MH/s", b.Index, float64(tries.Load())/secs/1e6))
			}
		})
		if !ok {
			continue
		}
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

// search looks for a proof of b on o.Threads goroutines, looking at the
// tip every o.Poll. It gives up (false) when ctx ends, another process
// moves the tip, or the template is older than o.Refresh.
func search(ctx context.Context, n *node.Node, b *block.Block, o *Options, tries *atomic.Uint64, tick func()) (*block.Block, bool) {
	prefix := b.Prefix()
	ms := midstate.New(prefix[:])
	var next atomic.Uint64
	next.Store(1)
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
				from := next.Add(Chunk) - Chunk
				if from > ^uint64(0)-Chunk {
					return // proof space used up; the template refresh gives a new timestamp
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
				tries.Add(Chunk)
			}
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()
	poll := time.NewTicker(o.Poll)
	defer poll.Stop()
	deadline := time.Now().Add(o.Refresh)
	for {
		select {
		case <-done:
			b.Proof, b.Hash = proof, hash
			return b, true
		case <-ctx.Done():
			return nil, false
		case <-poll.C:
			tick()
			if n.TipChanged() || time.Now().After(deadline) {
				return nil, false
			}
		}
	}
}
