package web

import (
	"slices"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
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

// TestNextBlocks: the pool by rate, highest first, packed into blocks of
// node.BlockRoom (each transfer its line and a comma); a block ends at the
// first transfer that does not fit; the eighth block takes the rest.
func TestNextBlocks(t *testing.T) {
	addr := "a1" + strings.Repeat("0", 48)
	// Fees of four digits, amounts of one: every line of the same size.
	mk := func(fee, amt uint64) *tx.Tx {
		return &tx.Tx{Sender: addr, Receiver: addr, Amount: amt, Fee: fee, Timestamp: 0}
	}
	size := len(mk(1000, 1).AppendJSON(nil))
	big := len(mk(1000, 10_000_000_000).AppendJSON(nil)) // ten bytes more
	if big != size+10 {
		t.Fatalf("lines of %d and %d bytes, want 10 apart", size, big)
	}
	// A network whose blocks leave three transfers room, exactly.
	p := &params.Params{MaxBlockBytes: uint64(3*(size+1) + 1024)}
	room := node.BlockRoom(p)
	if room != 3*(size+1) {
		t.Fatalf("room %d, want %d: the test's network is off", room, 3*(size+1))
	}
	// pool admits n transfers of fees 1000..1000+n-1, lowest first, so that
	// the projection must sort them.
	pool := func(n int) []*tx.Tx {
		var txs []*tx.Tx
		for i := range n {
			txs = append(txs, mk(uint64(1000+i), 1))
		}
		return txs
	}
	rate := func(fee uint64, sz int) float64 { return float64(fee) / float64(sz) }
	// want is the block of the transfers of fees hi down to lo, each of
	// size bytes: percentiles at ranks floor((n-1)p/100) from the lowest.
	want := func(hi, lo uint64) nextBlock {
		n := int(hi - lo + 1)
		b := nextBlock{txs: n, bytes: n * size}
		for f := lo; f <= hi; f++ {
			b.fees += f
		}
		for j, pc := range feePercentiles {
			b.rates[j] = rate(lo+uint64((n-1)*pc/100), size)
		}
		b.median = rate(lo+uint64((n-1)/2), size)
		return b
	}
	// full is k full blocks of the pool of n, highest fees first.
	full := func(n, k int) []nextBlock {
		var bs []nextBlock
		for i := range k {
			hi := uint64(1000 + n - 1 - 3*i)
			bs = append(bs, want(hi, hi-2))
		}
		return bs
	}
	for _, c := range []struct {
		name string
		txs  []*tx.Tx
		room int
		want []nextBlock
	}{
		{"empty", nil, room, nil},
		{"one", pool(1), room, []nextBlock{want(1000, 1000)}},
		{"a full block", pool(3), room, []nextBlock{want(1002, 1000)}},
		{"one more starts a second", pool(4), room, []nextBlock{want(1003, 1001), want(1000, 1000)}},
		{"a byte short of three", pool(3), room - 1, []nextBlock{want(1002, 1001), want(1000, 1000)}},
		// No network's room is below a transfer's line (params bounds
		// both), but a block is never empty.
		{"a transfer past the room is a block of its own", pool(2), size, []nextBlock{want(1001, 1001), want(1000, 1000)}},
		{"seven blocks and one more", pool(22), room, append(full(22, 7), want(1000, 1000))},
		{"eight full blocks", pool(24), room, full(24, 8)},
		{"the eighth takes one more", pool(25), room, append(full(25, 7), want(1003, 1000))},
		{"the eighth takes the rest", pool(40), room, append(full(40, 7), want(1018, 1000))},
		{
			// By rate: 1040, 1030, 1040 of a line ten bytes longer, 1000.
			// The third does not fit beside the first two and starts the
			// second block; 1000 goes after it, although it would have
			// fitted in the first.
			"a block ends at the first that does not fit",
			[]*tx.Tx{mk(1000, 1), mk(1040, 10_000_000_000), mk(1030, 1), mk(1040, 1)},
			room + 5,
			[]nextBlock{{
				txs: 2, bytes: 2 * size, fees: 2070,
				median: rate(1030, size),
				rates:  [7]float64{rate(1030, size), rate(1030, size), rate(1030, size), rate(1030, size), rate(1030, size), rate(1030, size), rate(1040, size)},
			}, {
				txs: 2, bytes: size + big, fees: 2040,
				median: rate(1000, size),
				rates:  [7]float64{rate(1000, size), rate(1000, size), rate(1000, size), rate(1000, size), rate(1000, size), rate(1000, size), rate(1040, big)},
			}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := newPoolView(c.txs).nextBlocks(c.room)
			if len(got) != len(c.want) {
				t.Fatalf("%d blocks, want %d: %+v", len(got), len(c.want), got)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("block %d:\n got %+v\nwant %+v", i, got[i], c.want[i])
				}
			}
		})
	}
	// The percentiles of 19 transfers, fees 1000 to 1018, spelled out:
	// ranks 0, 1, 4, 9, 13, 16 and 18 from the lowest.
	last := newPoolView(pool(40)).nextBlocks(room)[7]
	for j, fee := range []uint64{1000, 1001, 1004, 1009, 1013, 1016, 1018} {
		if last.rates[j] != rate(fee, size) {
			t.Errorf("the eighth block's rate at the %dth percentile: %v, want %v (fee %d)", feePercentiles[j], last.rates[j], rate(fee, size), fee)
		}
	}
	if last.median != rate(1009, size) {
		t.Errorf("the eighth block's median rate %v, want %v (fee 1009)", last.median, rate(1009, size))
	}
	if got := string(appendNextBlocks(nil, newPoolView(nil).nextBlocks(room))); got != "[]" {
		t.Errorf("an empty pool: %s, want []", got)
	}
}
