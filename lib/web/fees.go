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
	rates     []float64
	byRate    []int // indexes of txs, highest rate first, then oldest first
	bytes     int
	fees      uint64
	ids       []byte           // /api/mempool/txids
	histogram [][2]float64     // [rate, bytes], highest rate first
	byAddr    map[string][]int // indexes of the transfers each address takes part in
}

func newPoolView(txs []*tx.Tx) *poolView {
	v := &poolView{txs: txs, sizes: make([]int, len(txs)), rates: make([]float64, len(txs)),
		byRate: make([]int, len(txs)), byAddr: map[string][]int{}}
	ids := make([]byte, 0, 2+len(txs)*35)
	ids = append(ids, '[')
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
		v.rates[i] = rateOf(t, len(scratch))
		v.byRate[i] = i
		v.byAddr[t.Sender] = append(v.byAddr[t.Sender], i)
		if t.Receiver != t.Sender {
			v.byAddr[t.Receiver] = append(v.byAddr[t.Receiver], i)
		}
	}
	v.ids = append(ids, "]\n"...)
	slices.SortStableFunc(v.byRate, func(a, b int) int { return cmp.Compare(v.rates[b], v.rates[a]) })
	bin, last := 0, 0.0
	for _, i := range v.byRate {
		if bin > histogramBin && v.rates[i] != last {
			v.histogram = append(v.histogram, [2]float64{last, float64(bin)})
			bin = 0
		}
		bin += v.sizes[i]
		last = v.rates[i]
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

// maxNextBlocks is how many blocks /api/v1/fees/mempool-blocks projects,
// the last taking all the pool has left (mempool.space's 8).
const maxNextBlocks = 8

// feePercentiles are the points of a projected block's feeRange:
// mempool.space's minimum, 10th, 25th, 50th, 75th, 90th percentile and
// maximum.
var feePercentiles = [...]int{0, 10, 25, 50, 75, 90, 100}

// nextBlock is one block of the pool's projection.
type nextBlock struct {
	txs    int
	bytes  int // the transfers' lines, commas left out
	fees   uint64
	median float64
	rates  [len(feePercentiles)]float64
}

// nextBlocks projects the pool into the next blocks as mempool.space
// does: the transfers by rate, highest first (then oldest first), go
// into a block while their lines and commas fit in room (node.BlockRoom);
// the first that does not fit starts the next block, and the last of
// maxNextBlocks takes all the rest. Each block's rates are read at
// feePercentiles of its transfers (the p-th percentile being the rate at
// rank floor((n-1)p/100) from the lowest), its median at the 50th.
func (v *poolView) nextBlocks(room int) []nextBlock {
	var out []nextBlock
	start, used := 0, 0
	for k, i := range v.byRate {
		if k > start && used+v.sizes[i]+1 > room && len(out) < maxNextBlocks-1 {
			out = append(out, v.nextBlock(v.byRate[start:k]))
			start, used = k, 0
		}
		used += v.sizes[i] + 1
	}
	if start < len(v.byRate) {
		out = append(out, v.nextBlock(v.byRate[start:]))
	}
	return out
}

// nextBlock sums the transfers of one projected block, is (indexes of
// v.txs, highest rate first).
func (v *poolView) nextBlock(is []int) nextBlock {
	b := nextBlock{txs: len(is)}
	for _, i := range is {
		b.bytes += v.sizes[i]
		b.fees += v.txs[i].Fee
	}
	for j, p := range feePercentiles {
		// is runs from the highest rate down: rank r from the lowest is
		// is[len-1-r].
		b.rates[j] = v.rates[is[len(is)-1-(len(is)-1)*p/100]]
		if p == 50 {
			b.median = b.rates[j]
		}
	}
	return b
}

// appendNextBlocks appends /api/v1/fees/mempool-blocks: the projected
// blocks, each {"blockSize","blockVSize","nTx","totalFees","medianFee",
// "feeRange"}, both sizes being the bytes of its transfers' lines.
func appendNextBlocks(dst []byte, bs []nextBlock) []byte {
	dst = append(dst, '[')
	for i, b := range bs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"blockSize":`...)
		dst = strconv.AppendInt(dst, int64(b.bytes), 10)
		dst = append(dst, `,"blockVSize":`...)
		dst = strconv.AppendInt(dst, int64(b.bytes), 10)
		dst = append(dst, `,"nTx":`...)
		dst = strconv.AppendInt(dst, int64(b.txs), 10)
		dst = append(dst, `,"totalFees":`...)
		dst = strconv.AppendUint(dst, b.fees, 10)
		dst = append(dst, `,"medianFee":`...)
		dst = appendRate(dst, b.median)
		dst = append(dst, `,"feeRange":[`...)
		for j, r := range b.rates {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = appendRate(dst, r)
		}
		dst = append(dst, "]}"...)
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
