package web

import (
	"slices"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/lib/tx"
)

// TestMinTxSize: no transfer line is shorter than minTxSize, so that a
// fee estimate at the floor asks any transfer for the minimum fee.
func TestMinTxSize(t *testing.T) {
	// The shortest: a one-letter prefix, one-digit numbers.
	addr := "a1" + strings.Repeat("0", 48)
	x := &tx.Tx{Sender: addr, Receiver: addr, Amount: 1, Fee: 1, Timestamp: 0}
	if n := len(x.AppendJSON(nil)); n < minTxSize {
		t.Fatalf("a transfer line of %d bytes, below minTxSize %d", n, minTxSize)
	}
}

// TestFeeEstimates: for target k, the lowest rate that at least one in k
// of the recent blocks took; blocks that were not full took the floor.
func TestFeeEstimates(t *testing.T) {
	const floor = 2.5
	at := func(est []float64, k int) float64 { return est[slices.Index(feeTargets, k)] }
	if est := feeEstimates(nil, floor); at(est, 1) != floor || at(est, 1008) != floor {
		t.Fatalf("no blocks: %v", est)
	}
	var recent []BlockFees
	for i := range 10 {
		// Rates 10, 20, ... 100; block 9 (rate 100) not full.
		recent = append(recent, BlockFees{MinRate: float64(10 * (i + 1)), Full: i != 9})
	}
	est := feeEstimates(recent, floor)
	for k, want := range map[int]float64{
		1:    90, // all ten blocks took 90 or less: the floor, 10..90
		2:    40, // five of them took 40: the floor, 10, 20, 30, 40
		3:    30, // four (ceil of 10/3)
		10:   floor,
		25:   floor,
		1008: floor,
	} {
		if got := at(est, k); got != want {
			t.Errorf("target %d: %v, want %v", k, got, want)
		}
	}
	for i := 1; i < len(est); i++ {
		if est[i] > est[i-1] {
			t.Errorf("a longer wait asks more: %v", est)
		}
	}
}

// TestFeeHistogram: transfers by rate, highest first, in bins of about
// histogramBin bytes, each bin at the lowest rate it holds.
func TestFeeHistogram(t *testing.T) {
	var txs []*tx.Tx
	addr := "a1" + strings.Repeat("0", 48)
	for i := range 300 {
		txs = append(txs, &tx.Tx{Sender: addr, Receiver: addr, Amount: 1, Fee: uint64(1000 + i), Timestamp: 0})
	}
	v := newPoolView(txs)
	total := 0.0
	for i, b := range v.histogram {
		total += b[1]
		if i > 0 && b[0] >= v.histogram[i-1][0] {
			t.Fatalf("bins not by falling rate: %v", v.histogram)
		}
		if i < len(v.histogram)-1 && b[1] <= histogramBin {
			t.Fatalf("bin %d of %v bytes, not past %d", i, b[1], histogramBin)
		}
	}
	if int(total) != v.bytes || len(v.histogram) < 2 {
		t.Fatalf("histogram %v holds %v bytes of %d", v.histogram, total, v.bytes)
	}
}

// TestCompactBits: Bitcoin's compact form of known targets.
func TestCompactBits(t *testing.T) {
	var t1 [32]byte // Bitcoin's difficulty-1 target: 0x00000000ffff << 208
	t1[4], t1[5] = 0xff, 0xff
	if got := compactBits(&t1); got != 0x1d00ffff {
		t.Errorf("difficulty 1: %#x", got)
	}
	var t2 [32]byte // the top bit of the mantissa set: a byte more
	t2[31] = 0x80
	if got := compactBits(&t2); got != 0x02008000 {
		t.Errorf("0x80: %#x", got)
	}
	var lim [32]byte
	for i := range lim {
		lim[i] = 0xff
	}
	if d := difficulty(&lim, &t1); d < 4e9 || d > 4.3e9 {
		t.Errorf("difficulty of Bitcoin's target 1 against 2^256: %v", d)
	}
}
