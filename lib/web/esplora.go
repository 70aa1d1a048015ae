package web

import (
	"encoding/hex"
	"math"
	"math/big"
	"strconv"

	"github.com/coniunctum/cnj/internal/explore"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/txindex"
)

// Esplora's JSON (Blockstream's esplora API.md), for what has a meaning
// here; cnj's own fields come after Esplora's, never instead of them.
// cnj-serve(1) lists every answer.

// blockInfo is what the block answers need of a block: its node, and its
// header as its line holds it (nil for block 0, which has no line).
type blockInfo struct {
	nd     *chain.BlockNode
	hdr    *block.Block
	median int64 // median time past
}

// appendBlock appends Esplora's block object: id, height, timestamp,
// tx_count (the reward counts), size (of the line; the genesis line's for
// block 0), merkle_root, previousblockhash, mediantime, nonce (the
// proof), bits (the target in Bitcoin's compact form) and difficulty
// (the network's highest target over the block's); then cnj's miner and
// target.
func appendBlock(dst []byte, bi blockInfo, p *params.Params, genesisSize int) []byte {
	nd := bi.nd
	dst = append(dst, `{"id":"`...)
	dst = hex.AppendEncode(dst, nd.Hash[:])
	dst = append(dst, `","height":`...)
	dst = strconv.AppendUint(dst, nd.Height, 10)
	dst = append(dst, `,"timestamp":`...)
	dst = strconv.AppendInt(dst, nd.Timestamp, 10)
	txCount, size := nd.TxCount+1, int(nd.Loc.Length)
	if nd.Parent == nil {
		txCount, size = 0, genesisSize
	}
	dst = append(dst, `,"tx_count":`...)
	dst = strconv.AppendInt(dst, int64(txCount), 10)
	dst = append(dst, `,"size":`...)
	dst = strconv.AppendInt(dst, int64(size), 10)
	var merkle [32]byte
	var nonce uint64
	miner := ""
	if bi.hdr != nil {
		merkle, nonce, miner = bi.hdr.MerkleRoot, bi.hdr.Proof, bi.hdr.Miner
	}
	dst = append(dst, `,"merkle_root":"`...)
	dst = hex.AppendEncode(dst, merkle[:])
	dst = append(dst, `","previousblockhash":`...)
	if nd.Parent == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '"')
		dst = hex.AppendEncode(dst, nd.Parent.Hash[:])
		dst = append(dst, '"')
	}
	dst = append(dst, `,"mediantime":`...)
	dst = strconv.AppendInt(dst, bi.median, 10)
	dst = append(dst, `,"nonce":`...)
	dst = strconv.AppendUint(dst, nonce, 10)
	dst = append(dst, `,"bits":`...)
	dst = strconv.AppendUint(dst, uint64(compactBits(&nd.Target)), 10)
	dst = append(dst, `,"difficulty":`...)
	dst = appendFloat(dst, difficulty(&p.InitialTarget, &nd.Target))
	dst = append(dst, `,"miner":`...)
	if miner == "" {
		dst = append(dst, "null"...)
	} else {
		dst = strconv.AppendQuote(dst, miner)
	}
	dst = append(dst, `,"target":"`...)
	dst = hex.AppendEncode(dst, nd.Target[:])
	return append(dst, `"}`...)
}

// compactBits is a 256-bit target in Bitcoin's compact form ("nBits"): a
// size byte, then the three most significant bytes, rounded down.
func compactBits(t *[32]byte) uint32 {
	n := new(big.Int).SetBytes(t[:])
	size := (n.BitLen() + 7) / 8
	var mant uint64
	if size <= 3 {
		mant = n.Uint64() << (8 * (3 - size))
	} else {
		mant = new(big.Int).Rsh(n, uint(8*(size-3))).Uint64()
	}
	if mant&0x00800000 != 0 {
		mant >>= 8
		size++
	}
	return uint32(size)<<24 | uint32(mant)
}

// difficulty is how many times harder than the network's highest target
// a block's target is: limit / target.
func difficulty(limit, target *[32]byte) float64 {
	t := new(big.Float).SetInt(new(big.Int).SetBytes(target[:]))
	if t.Sign() == 0 {
		return math.Inf(1)
	}
	d, _ := new(big.Float).Quo(new(big.Float).SetInt(new(big.Int).SetBytes(limit[:])), t).Float64()
	return d
}

// appendFloat appends f in JSON, rounded to 8 significant digits.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, f, 'g', 8, 64)
}

// appendRate appends a fee rate (base units a byte), to the thousandth.
func appendRate(dst []byte, r float64) []byte {
	return strconv.AppendFloat(dst, math.Round(r*1000)/1000, 'f', -1, 64)
}

// appendStatus appends Esplora's status of a transaction:
// {"confirmed":true,"block_height":N,"block_hash":H,"block_time":T} or
// {"confirmed":false}.
func appendStatus(dst []byte, f *explore.Found) []byte {
	if f.Block == nil {
		return append(dst, `{"confirmed":false}`...)
	}
	dst = append(dst, `{"confirmed":true,"block_height":`...)
	dst = strconv.AppendUint(dst, f.Block.Height, 10)
	dst = append(dst, `,"block_hash":"`...)
	dst = hex.AppendEncode(dst, f.Block.Hash[:])
	dst = append(dst, `","block_time":`...)
	dst = strconv.AppendInt(dst, f.Block.Timestamp, 10)
	return append(dst, '}')
}

// appendTxObject appends Esplora's transaction object: txid, vin (a
// transfer: one input, prevout of the sender paying amount and fee; a
// reward: one coinbase input), vout (one output to the receiver of the
// amount), size (of its JSON object), fee and status; then cnj's tx, the
// transfer's or the reward's own JSON.
func appendTxObject(dst []byte, f *explore.Found) []byte {
	dst = append(dst, `{"txid":"`...)
	dst = hex.AppendEncode(dst, f.TxID())
	dst = append(dst, `","vin":[`...)
	var to string
	var value uint64
	if f.Tx != nil {
		dst = append(dst, `{"is_coinbase":false,"prevout":{"scriptpubkey_address":`...)
		dst = strconv.AppendQuote(dst, f.Tx.Sender)
		dst = append(dst, `,"value":`...)
		dst = strconv.AppendUint(dst, f.Tx.Amount+f.Tx.Fee, 10)
		dst = append(dst, `}}`...)
		to, value = f.Tx.Receiver, f.Tx.Amount
	} else {
		dst = append(dst, `{"is_coinbase":true,"prevout":null}`...)
		to, value = f.Reward.Receiver, f.Reward.Amount
	}
	dst = append(dst, `],"vout":[{"scriptpubkey_address":`...)
	dst = strconv.AppendQuote(dst, to)
	dst = append(dst, `,"value":`...)
	dst = strconv.AppendUint(dst, value, 10)
	dst = append(dst, `}],"size":`...)
	dst = strconv.AppendInt(dst, int64(f.Size()), 10)
	dst = append(dst, `,"fee":`...)
	dst = strconv.AppendUint(dst, f.Fee(), 10)
	dst = append(dst, `,"status":`...)
	dst = appendStatus(dst, f)
	dst = append(dst, `,"tx":`...)
	if f.Tx != nil {
		dst = f.Tx.AppendJSON(dst)
	} else {
		dst = f.Reward.AppendJSON(dst)
	}
	return append(dst, '}')
}

// appendTxArray appends transaction objects as a JSON array.
func appendTxArray(dst []byte, fs []explore.Found) []byte {
	dst = append(dst, '[')
	for i := range fs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendTxObject(dst, &fs[i])
	}
	return append(dst, ']')
}

// appendStats appends Esplora's chain_stats or mempool_stats object.
func appendStats(dst []byte, s txindex.Stats) []byte {
	dst = append(dst, `{"funded_txo_count":`...)
	dst = strconv.AppendUint(dst, s.FundedCount, 10)
	dst = append(dst, `,"funded_txo_sum":`...)
	dst = s.FundedSum.AppendDecimal(dst)
	dst = append(dst, `,"spent_txo_count":`...)
	dst = strconv.AppendUint(dst, s.SpentCount, 10)
	dst = append(dst, `,"spent_txo_sum":`...)
	dst = s.SpentSum.AppendDecimal(dst)
	dst = append(dst, `,"tx_count":`...)
	dst = strconv.AppendUint(dst, s.TxCount, 10)
	return append(dst, '}')
}
