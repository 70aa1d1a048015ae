package txindex

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/big"
	"math/bits"
	"strconv"
)

// version is the layout of the database this package writes; an index of
// another version is rebuilt.
const version = 1

// The buckets and the meta bucket's keys (cnj-format(5)).
var (
	bucketMeta   = []byte("meta")
	bucketBlocks = []byte("blocks")
	bucketTxs    = []byte("txs")
	bucketAddrs  = []byte("addrs")
	bucketStats  = []byte("stats")

	keyVersion = []byte("version")
	keyGenesis = []byte("genesis")
	keyTip     = []byte("tip")
	keyShift   = []byte("gen_shift")
)

var buckets = [][]byte{bucketMeta, bucketBlocks, bucketTxs, bucketAddrs, bucketStats}

// PayloadSize is the length of an address's payload, which keys an
// address (keys.PayloadSize: the network prefix is the directory's).
const PayloadSize = 20

// The txs and addrs buckets are cut into generations of 1<<shift
// consecutive heights, a generation's keys after those of the one before:
// a write rewrites pages of the newest generation only (and the totals),
// not of the whole index, and a lookup reads one txid value a generation.
// The shift is the index's own (meta "gen_shift"), DefaultGenShift for a
// new one.
type layout struct{ shift uint8 }

// DefaultGenShift makes a generation 4096 heights: about four weeks of
// ten-minute blocks, and a few batches of a sync.
const DefaultGenShift = 12

// maxGenShift bounds the shift an index may declare.
const maxGenShift = 32

func (lay layout) genOf(h uint64) uint32 { return uint32(h >> lay.shift) }

func (lay layout) genBase(g uint32) uint64 { return uint64(g) << lay.shift }

// A txs key is the generation (4 bytes, big-endian) and the txid's first
// byte; its value holds, for each transaction of the generation whose
// txid begins so, the txid's next idRestLen bytes, uvarint height less
// the generation's first and uvarint position, oldest first. A lookup
// matches the first idPrefix bytes and checks the whole txid against the
// transaction.
const (
	idKeyLen  = 1
	idRestLen = 6
	idPrefix  = idKeyLen + idRestLen
	txsKeyLen = 4 + idKeyLen
)

func txsKey(g uint32, txid []byte) []byte {
	return append(binary.BigEndian.AppendUint32(make([]byte, 0, txsKeyLen), g), txid[:idKeyLen]...)
}

// maxChunk bounds the value of an address chunk, in bytes: appending a
// block's entries rewrites the address's last chunk only.
const maxChunk = 512

// Loc is where a transaction is on the main chain: its block's height and
// its place in the block's list of transactions, 0 being the reward.
type Loc struct {
	Height uint64
	Pos    uint32
}

// Less orders locations along the chain.
func (l Loc) Less(o Loc) bool { return l.Height < o.Height || l.Height == o.Height && l.Pos < o.Pos }

// End is after every location: History from End starts at the newest.
var End = Loc{Height: ^uint64(0), Pos: ^uint32(0)}

// Flags say what an address does in a transaction.
type Flags uint8

// The flags of an address's entry: a transfer it receives (also from
// itself), one it sends, a reward it is paid.
const (
	Received Flags = 1 << iota
	Sent
	Mined
)

// Entry is one transaction of an address's history.
type Entry struct {
	Loc
	Flags Flags
}

// Sum is an unsigned 128-bit total of amounts: what flows through an
// address over the whole chain can pass 2^64 base units (a sender cycling
// its balance through itself).
type Sum struct{ Hi, Lo uint64 }

// Add returns s + v.
func (s Sum) Add(v uint64) Sum {
	lo, c := bits.Add64(s.Lo, v, 0)
	return Sum{s.Hi + c, lo}
}

// Sub returns s - v (v never exceeds s: it takes back what Add added).
func (s Sum) Sub(v uint64) Sum {
	lo, b := bits.Sub64(s.Lo, v, 0)
	return Sum{s.Hi - b, lo}
}

// Big returns the sum as a big.Int.
func (s Sum) Big() *big.Int {
	b := new(big.Int).SetUint64(s.Hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(s.Lo))
}

// AppendDecimal appends the sum in decimal.
func (s Sum) AppendDecimal(dst []byte) []byte {
	if s.Hi == 0 {
		return strconv.AppendUint(dst, s.Lo, 10)
	}
	return s.Big().Append(dst, 10)
}

// Stats are an address's totals over a chain, Esplora's chain_stats:
// outputs it was paid (transfers received and rewards) and their sum,
// transfers it sent and their cost (amount and fee), and the transactions
// it takes part in.
type Stats struct {
	FundedCount uint64
	FundedSum   Sum
	SpentCount  uint64
	SpentSum    Sum
	TxCount     uint64
}

func (s *Stats) encode() []byte {
	b := make([]byte, 0, 40)
	for _, v := range []uint64{s.FundedCount, s.FundedSum.Hi, s.FundedSum.Lo, s.SpentCount, s.SpentSum.Hi, s.SpentSum.Lo, s.TxCount} {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

var errFormat = errors.New("malformed value")

func decodeStats(b []byte) (Stats, error) {
	var v [7]uint64
	for i := range v {
		x, n := binary.Uvarint(b)
		if n <= 0 {
			return Stats{}, errFormat
		}
		v[i], b = x, b[n:]
	}
	if len(b) != 0 {
		return Stats{}, errFormat
	}
	return Stats{v[0], Sum{v[1], v[2]}, v[3], Sum{v[4], v[5]}, v[6]}, nil
}

// add adds d's counts and sums to s; sub takes them back.
func (s *Stats) add(d *delta) {
	s.FundedCount += d.fundedCount
	s.FundedSum = s.FundedSum.Add(d.fundedSum)
	s.SpentCount += d.spentCount
	s.SpentSum = s.SpentSum.Add(d.spentSum)
	s.TxCount += d.txCount
}

func (s *Stats) sub(d *delta) {
	s.FundedCount -= d.fundedCount
	s.FundedSum = s.FundedSum.Sub(d.fundedSum)
	s.SpentCount -= d.spentCount
	s.SpentSum = s.SpentSum.Sub(d.spentSum)
	s.TxCount -= d.txCount
}

// delta is what one block changes of an address's Stats. Its sums fit 64
// bits: a block's amounts do (consensus bounds amount + fee and a
// sender's balance).
type delta struct {
	fundedCount, fundedSum, spentCount, spentSum, txCount uint64
}

// heightKey is a block's key in the blocks bucket.
func heightKey(h uint64) []byte { return binary.BigEndian.AppendUint64(nil, h) }

// Span is where a transaction's JSON object is in its block's line.
type Span struct{ Off, Len uint32 }

// BlockInfo is the blocks bucket's record of a main-chain block: its hash
// and the place of each of its transactions in its line (nil when the
// line could not be measured; readers then read the whole block).
type BlockInfo struct {
	Hash    [32]byte
	LineLen uint32
	Spans   []Span // the reward's first
}

// encode: hash, then uvarint line length, the reward's offset and length,
// and each transfer's length (each object follows the last after a
// comma); a line length of 0 has no spans.
func (bi *BlockInfo) encode() []byte {
	b := make([]byte, 0, 32+4+2*len(bi.Spans))
	b = append(b, bi.Hash[:]...)
	b = binary.AppendUvarint(b, uint64(bi.LineLen))
	if bi.LineLen == 0 {
		return b
	}
	b = binary.AppendUvarint(b, uint64(bi.Spans[0].Off))
	for _, s := range bi.Spans {
		b = binary.AppendUvarint(b, uint64(s.Len))
	}
	return b
}

func decodeBlockInfo(b []byte) (BlockInfo, error) {
	var bi BlockInfo
	var err error
	bi.Hash, bi.LineLen, err = walkBlockInfo(b, func(sp Span) bool {
		bi.Spans = append(bi.Spans, sp)
		return true
	})
	return bi, err
}

// decodeSpan returns the hash, the line length and the span of
// transaction pos of an encoded BlockInfo without a slice of the others'
// (a lookup wants one); ok is false when the record has no spans, or none
// for pos.
func decodeSpan(b []byte, pos uint32) (hash [32]byte, lineLen uint32, sp Span, ok bool, err error) {
	i := uint32(0)
	hash, lineLen, err = walkBlockInfo(b, func(s Span) bool {
		if i == pos {
			sp, ok = s, true
			return false
		}
		i++
		return true
	})
	return hash, lineLen, sp, ok && err == nil, err
}

// walkBlockInfo decodes an encoded BlockInfo's hash and line length, and
// calls each with its spans in order until each returns false; the spans
// after that are not checked.
func walkBlockInfo(b []byte, each func(Span) bool) (hash [32]byte, lineLen uint32, err error) {
	if len(b) < 32 {
		return hash, 0, errFormat
	}
	copy(hash[:], b)
	b = b[32:]
	v, n := binary.Uvarint(b)
	if n <= 0 || v > 1<<32-1 {
		return hash, 0, errFormat
	}
	lineLen, b = uint32(v), b[n:]
	if lineLen == 0 {
		if len(b) != 0 {
			return hash, 0, errFormat
		}
		return hash, 0, nil
	}
	off, n := binary.Uvarint(b)
	if n <= 0 || len(b) == n {
		return hash, 0, errFormat // a line length needs spans
	}
	b = b[n:]
	for len(b) > 0 {
		l, n := binary.Uvarint(b)
		if n <= 0 || off+l > uint64(lineLen) {
			return hash, 0, errFormat
		}
		if !each(Span{uint32(off), uint32(l)}) {
			return hash, lineLen, nil
		}
		off += l + 1
		b = b[n:]
	}
	return hash, lineLen, nil
}

// txEntry is one entry of a txs bucket value.
type txEntry struct {
	rest [idRestLen]byte
	loc  Loc
}

func (lay layout) appendTxEntry(dst []byte, e txEntry) []byte {
	dst = append(dst, e.rest[:]...)
	dst = binary.AppendUvarint(dst, e.loc.Height-lay.genBase(lay.genOf(e.loc.Height)))
	return binary.AppendUvarint(dst, uint64(e.loc.Pos))
}

// decodeTxEntries calls fn with each entry of the value of generation g
// until fn returns false.
func (lay layout) decodeTxEntries(g uint32, b []byte, fn func(txEntry) bool) error {
	for len(b) > 0 {
		var e txEntry
		if len(b) < idRestLen {
			return errFormat
		}
		copy(e.rest[:], b)
		b = b[idRestLen:]
		h, n := binary.Uvarint(b)
		if n <= 0 || h >= 1<<lay.shift {
			return errFormat
		}
		b = b[n:]
		p, n := binary.Uvarint(b)
		if n <= 0 || p > 1<<32-1 {
			return errFormat
		}
		b = b[n:]
		e.loc = Loc{lay.genBase(g) + h, uint32(p)}
		if !fn(e) {
			return nil
		}
	}
	return nil
}

// An addrs key is the generation of the chunk's entries (4 bytes,
// big-endian), the address's payload, then the big-endian height and
// position of the chunk's first entry; its value holds the chunk's
// entries oldest first, each uvarint height less the previous entry's
// (the first: less the key's), uvarint position and a flags byte.
const (
	sectionLen = 4 + PayloadSize
	addrKeyLen = sectionLen + 12
)

// section is the key prefix of address p's chunks of generation g.
func section(g uint32, p *[PayloadSize]byte) []byte {
	k := make([]byte, 0, addrKeyLen)
	k = binary.BigEndian.AppendUint32(k, g)
	return append(k, p[:]...)
}

func (lay layout) addrKey(p *[PayloadSize]byte, l Loc) []byte {
	k := section(lay.genOf(l.Height), p)
	k = binary.BigEndian.AppendUint64(k, l.Height)
	return binary.BigEndian.AppendUint32(k, l.Pos)
}

// sectionEnd is a key after every chunk of section sec.
func sectionEnd(sec []byte) []byte {
	return append(append(make([]byte, 0, addrKeyLen), sec...), bytes.Repeat([]byte{0xff}, 12)...)
}

func keyLoc(k []byte) Loc {
	return Loc{binary.BigEndian.Uint64(k[sectionLen:]), binary.BigEndian.Uint32(k[sectionLen+8:])}
}

func encodeChunk(es []Entry) []byte {
	b := make([]byte, 0, 4*len(es))
	prev := es[0].Height
	for _, e := range es {
		b = binary.AppendUvarint(b, e.Height-prev)
		b = binary.AppendUvarint(b, uint64(e.Pos))
		b = append(b, byte(e.Flags))
		prev = e.Height
	}
	return b
}

func (lay layout) decodeChunk(key, b []byte, dst []Entry) ([]Entry, error) {
	if len(key) != addrKeyLen {
		return dst, errFormat
	}
	first := keyLoc(key)
	if lay.genOf(first.Height) != binary.BigEndian.Uint32(key) {
		return dst, errFormat
	}
	h := first.Height
	start := len(dst)
	for len(b) > 0 {
		d, n := binary.Uvarint(b)
		if n <= 0 {
			return dst, errFormat
		}
		b = b[n:]
		p, n := binary.Uvarint(b)
		if n <= 0 || p > 1<<32-1 || len(b) < n+1 {
			return dst, errFormat
		}
		f := Flags(b[n])
		b = b[n+1:]
		h += d
		e := Entry{Loc{h, uint32(p)}, f}
		if f == 0 || f&^(Received|Sent|Mined) != 0 || len(dst) > start && !dst[len(dst)-1].Loc.Less(e.Loc) {
			return dst, errFormat
		}
		dst = append(dst, e)
	}
	if len(dst) == start || dst[start].Loc != first || lay.genOf(dst[len(dst)-1].Height) != lay.genOf(first.Height) {
		return dst, errFormat
	}
	return dst, nil
}

// chunks splits entries (oldest first, of one generation) into chunk
// values of at most maxChunk bytes, each with its key.
func (lay layout) chunks(payload *[PayloadSize]byte, es []Entry, put func(k, v []byte) error) error {
	for len(es) > 0 {
		n, size := 0, 0
		prev := es[0].Height
		for n < len(es) {
			e := es[n]
			sz := uvarintLen(e.Height-prev) + uvarintLen(uint64(e.Pos)) + 1
			if n > 0 && size+sz > maxChunk {
				break
			}
			size += sz
			prev = e.Height
			n++
		}
		if err := put(lay.addrKey(payload, es[0].Loc), encodeChunk(es[:n])); err != nil {
			return err
		}
		es = es[n:]
	}
	return nil
}

func uvarintLen(v uint64) int { return len(binary.AppendUvarint(make([]byte, 0, 10), v)) }
