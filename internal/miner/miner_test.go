package miner

import (
	"context"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/lib/consensus"
)

// TestSearchExhausts: a search that reaches the end of the 64-bit proof
// space says so at once (it does not wait for the template to age), having
// tried every proof up to 2^64-1 exactly once, on several threads.
func TestSearchExhausts(t *testing.T) {
	n, tpl := impossible(t)
	const left = 3*Chunk - 5
	var tries atomic.Uint64
	o := &Options{Threads: 3, Refresh: time.Hour, Poll: 5 * time.Millisecond}
	begin := time.Now()
	b, why := search(context.Background(), n, tpl, math.MaxUint64-left+1, o, &tries, func() {})
	if why != exhausted || b != nil {
		t.Fatalf("search = %v, %v; want exhausted", b, why)
	}
	if got := tries.Load(); got != left {
		t.Fatalf("%d proofs tried, %d were left", got, uint64(left))
	}
	if took := time.Since(begin); took > time.Minute {
		t.Fatalf("took %v to say so", took) // a bound no machine misses: the refresh is an hour
	}
}

// TestSearchLastProof: the last proof, 2^64-1, is tried and can be found.
func TestSearchLastProof(t *testing.T) {
	n, tpl := impossible(t)
	for i := range tpl.Target {
		tpl.Target[i] = 0xff // every hash meets it
	}
	var tries atomic.Uint64
	o := &Options{Threads: 2, Refresh: time.Hour, Poll: 5 * time.Millisecond}
	b, why := search(context.Background(), n, tpl, math.MaxUint64, o, &tries, func() {})
	if why != found || b.Proof != math.MaxUint64 || b.Hash != b.ComputeHash() {
		t.Fatalf("search = %+v, %v; want the proof 2^64-1", b, why)
	}
}

// TestExtraNonce: after a template's proofs ran out, the next gives up
// units of its reward: a new merkle root and header prefix (a new proof
// space), and a block that is still valid and taken, whatever it burns.
func TestExtraNonce(t *testing.T) {
	n, tpl := impossible(t)
	p := n.Params()
	tpl.Target = consensus.NextTarget(p, n.Chain().Context(n.Chain().Tip(), time.Now().Unix()))
	before := tpl.Prefix()
	reward := tpl.Reward.Amount
	extraNonce(n, tpl, 1)
	if tpl.Reward.Amount != reward-1 || tpl.Prefix() == before {
		t.Fatalf("extra nonce 1: reward %d (was %d), prefix changed %v", tpl.Reward.Amount, reward, tpl.Prefix() != before)
	}
	extraNonce(n, tpl, reward+7) // more than is left: all of it
	if tpl.Reward.Amount != 0 {
		t.Fatalf("reward %d after burning more than it held", tpl.Reward.Amount)
	}
	if _, err := consensus.CheckBody(tpl, p); err != nil {
		t.Fatal(err)
	}
	if err := testchain.Prove(tpl); err != nil {
		t.Fatal(err)
	}
	v, _, err := n.AddMined(tpl)
	if err != nil || v.Err != nil || !v.Tip {
		t.Fatalf("a block mined after the extra nonce: %+v, %v", v, err)
	}
}
