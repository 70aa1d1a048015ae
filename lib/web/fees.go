package web

import (
	"cmp"
	"encoding/hex"
	"slices"
	"strconv"
	"sync"

	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/txindex"
)

// Fee rates are base units a byte of a transfer's JSON line, the size
// that blocks are bounded by.

// minTxSize is less than the line of any transfer (its fixed fields,
// hex ids, hashes, key and signature alone take more): a rate of at least
// the minimum fee over minTxSize asks any transfer for at least the
// minimum fee.
const minTxSize = 400

// floorRate is the lowest rate a fee estimate gives: the minimum fee of
// the smallest transfer.
func floorRate(p *params.Params) float64 { return float64(p.MinFee) / minTxSize }

// rateOf is a transfer's fee rate.
func rateOf(t *tx.Tx, size int) float64 { return float64(t.Fee) / float64(size) }

// histogramBin is the bytes of transfers a bin of the fee histogram
// gathers (electrs's VSIZE_BIN_WIDTH).
const histogramBin = 50_000

// poolView is what the mempool answers need of a pool, computed once per
// snapshot (the pool of a snapshot never changes).
type poolView struct {
	txs       []*tx.Tx // admission order, oldest first
	sizes     []int
	bytes     int
	fees      uint64
	ids       []byte           // /api/mempool/txids
	histogram [][2]float64     // [rate, bytes], highest rate first
	byAddr    map[string][]int // indexes of the transfers each address takes part in
}

func newPoolView(txs []*tx.Tx) *poolView {
	v := &poolView{txs: txs, sizes: make([]int, len(txs)), byAddr: map[string][]int{}}
	ids := make([]byte, 0, 2+len(txs)*35)
	ids = append(ids, '[')
	type rated struct {
		rate float64
		size int
	}
	rs := make([]rated, len(txs))
	var scratch []byte
	for i, t := range txs {
		if i > 0 {
			ids = append(ids, ',')
		}
		ids = append(ids, '"')
		ids = hex.AppendEncode(ids, t.ID[:])
		ids = append(ids, '"')
		scratch = t.AppendJSON(scratch[:0])
		v.sizes[i] = len(scratch)
		v.bytes += len(scratch)
		v.fees += t.Fee
		rs[i] = rated{rateOf(t, len(scratch)), len(scratch)}
		v.byAddr[t.Sender] = append(v.byAddr[t.Sender], i)
		if t.Receiver != t.Sender {
			v.byAddr[t.Receiver] = append(v.byAddr[t.Receiver], i)
		}
	}
	v.ids = append(ids, "]\n"...)
	slices.SortFunc(rs, func(a, b rated) int { return cmp.Compare(b.rate, a.rate) })
	bin, last := 0, 0.0
	for _, r := range rs {
		if bin > histogramBin && r.rate != last {
			v.histogram = append(v.histogram, [2]float64{last, float64(bin)})
			bin = 0
		}
		bin += r.size
		last = r.rate
	}
	if bin > 0 {
		v.histogram = append(v.histogram, [2]float64{last, float64(bin)})
	}
	return v
}

// stats returns addr's totals in the pool (Esplora's mempool_stats).
func (v *poolView) stats(addr string) txindex.Stats {
	var s txindex.Stats
	for _, i := range v.byAddr[addr] {
		t := v.txs[i]
		s.TxCount++
		if t.Receiver == addr {
			s.FundedCount++
			s.FundedSum = s.FundedSum.Add(t.Amount)
		}
		if t.Sender == addr {
			s.SpentCount++
			s.SpentSum = s.SpentSum.Add(t.Amount + t.Fee)
		}
	}
	return s
}

// pending returns addr's transfers in the pool, newest first, at most n.
func (v *poolView) pending(addr string, n int) []*tx.Tx {
	is := v.byAddr[addr]
	out := make([]*tx.Tx, 0, min(n, len(is)))
	for j := len(is) - 1; j >= 0 && len(out) < n; j-- {
		out = append(out, v.txs[is[j]])
	}
	return out
}

// appendMempool appends /api/mempool: {"count","vsize","total_fee",
// "fee_histogram"}, vsize being the bytes of the transfers' lines.
func (v *poolView) appendMempool(dst []byte) []byte {
	dst = append(dst, `{"count":`...)
	dst = strconv.AppendInt(dst, int64(len(v.txs)), 10)
	dst = append(dst, `,"vsize":`...)
	dst = strconv.AppendInt(dst, int64(v.bytes), 10)
	dst = append(dst, `,"total_fee":`...)
	dst = strconv.AppendUint(dst, v.fees, 10)
	dst = append(dst, `,"fee_histogram":[`...)
	for i, h := range v.histogram {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		dst = appendRate(dst, h[0])
		dst = append(dst, ',')
		dst = strconv.AppendInt(dst, int64(h[1]), 10)
		dst = append(dst, ']')
	}
	return append(dst, "]}"...)
}

// recentCount is how many transfers /api/mempool/recent lists.
const recentCount = 10

// appendRecent appends /api/mempool/recent: the last transfers to enter
// the pool, newest first, as {"txid","fee","vsize","value"}.
func (v *poolView) appendRecent(dst []byte) []byte {
	dst = append(dst, '[')
	for i, k := len(v.txs)-1, 0; i >= 0 && k < recentCount; i, k = i-1, k+1 {
		if k > 0 {
			dst = append(dst, ',')
		}
		t := v.txs[i]
		dst = append(dst, `{"txid":"`...)
		dst = hex.AppendEncode(dst, t.ID[:])
		dst = append(dst, `","fee":`...)
		dst = strconv.AppendUint(dst, t.Fee, 10)
		dst = append(dst, `,"vsize":`...)
		dst = strconv.AppendInt(dst, int64(v.sizes[i]), 10)
		dst = append(dst, `,"value":`...)
		dst = strconv.AppendUint(dst, t.Amount, 10)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// BlockFees is what one block's transfers paid: for the fee estimates
// and for pages about recent blocks.
type BlockFees struct {
	Height  uint64
	Hash    [32]byte
	Time    int64
	Txs     int     // transfers
	Size    int     // the block line's length
	Fees    uint64  // their fees
	MinRate float64 // the lowest fee rate of its transfers; 0 without any
	Full    bool    // the block came within fullShare of the size limit
}

// fullShare: a block this near its size limit was full, and its lowest
// rate is what it took to get in.
const fullShare = 0.9

// feeWindow is how many recent blocks the fee estimates look at: a day
// of ten-minute blocks.
const feeWindow = 144

// feeTargets are the confirmation targets of /api/fee-estimates
// (Esplora's).
var feeTargets = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 144, 504, 1008}

// feeCache keeps the fees of recent main-chain blocks by hash, so that a
// new tip reads only its new blocks.
type feeCache struct {
	mu     sync.Mutex
	blocks map[[32]byte]BlockFees
}

func newFeeCache() *feeCache { return &feeCache{blocks: map[[32]byte]BlockFees{}} }

// recent returns the fees of the last n main-chain blocks of n's chain,
// newest first (genesis excluded). The caller holds the node still.
func (fc *feeCache) recent(nd *node.Node, n int) ([]BlockFees, error) {
	c := nd.Chain()
	fc.mu.Lock()
	defer fc.mu.Unlock()
	out := make([]BlockFees, 0, n)
	keep := make(map[[32]byte]BlockFees, n)
	for x := c.Tip(); x != nil && x.Parent != nil && len(out) < n; x = x.Parent {
		bf, ok := fc.blocks[x.Hash]
		if !ok {
			var err error
			if bf, err = blockFees(nd, x); err != nil {
				return nil, err
			}
		}
		keep[x.Hash] = bf
		out = append(out, bf)
	}
	fc.blocks = keep
	return out, nil
}

// blockFees reads block x and sums its fees.
func blockFees(nd *node.Node, x *chain.BlockNode) (BlockFees, error) {
	b, err := nd.Chain().Block(x)
	if err != nil {
		return BlockFees{}, err
	}
	bf := BlockFees{Height: x.Height, Hash: x.Hash, Time: x.Timestamp, Txs: len(b.Txs), Size: int(x.Loc.Length),
		Full: float64(x.Loc.Length) >= fullShare*float64(nd.Params().MaxBlockBytes)}
	var scratch []byte
	for _, t := range b.Txs {
		scratch = t.AppendJSON(scratch[:0])
		r := rateOf(t, len(scratch))
		if bf.MinRate == 0 || r < bf.MinRate {
			bf.MinRate = r
		}
		bf.Fees += t.Fee
	}
	return bf, nil
}

// feeEstimates returns, for each target k of feeTargets, the lowest rate
// that at least one in k of the recent blocks took: a transfer paying it
// waits about k blocks. A block that was not full took any rate from the
// floor (the minimum fee) up; a full one, its lowest rate and up. With
// no recent block every estimate is the floor.
func feeEstimates(recent []BlockFees, floor float64) []float64 {
	rates := make([]float64, len(recent))
	for i, bf := range recent {
		rates[i] = floor
		if bf.Full && bf.MinRate > floor {
			rates[i] = bf.MinRate
		}
	}
	slices.Sort(rates)
	out := make([]float64, len(feeTargets))
	for i, k := range feeTargets {
		out[i] = floor
		if len(rates) == 0 {
			continue
		}
		// At least len/k blocks (one at least) took the rate: the
		// ceil(len/k)-th lowest.
		need := (len(rates) + k - 1) / k
		out[i] = max(rates[need-1], floor)
	}
	return out
}

// appendFeeEstimates appends /api/fee-estimates: {"1":R,"2":R,...}.
func appendFeeEstimates(dst []byte, est []float64) []byte {
	dst = append(dst, '{')
	for i, k := range feeTargets {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = strconv.AppendInt(dst, int64(k), 10)
		dst = append(dst, `":`...)
		dst = appendRate(dst, est[i])
	}
	return append(dst, '}')
}
