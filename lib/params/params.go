// Package params defines a Coniunctum network: the parameters that its
// genesis file holds (address prefix, block spacing, initial target, reward
// schedule, maturity, limits) and the genesis hash that names the network.
//
// Parameters are values: they are loaded once (built-in main, a devnet made
// by NewDevnet, or a genesis.json read by Parse) and passed down to every
// rule that needs them. No package keeps an "active network".
//
// The genesis acts as block 0: index 0, the genesis timestamp, the initial
// target and the genesis hash; block 1 names the genesis hash as its parent.
// Errors from Parse carry rule codes (bad-genesis and the decoding codes of
// package jsonl).
package params

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/chainhash"
	"github.com/coniunctum/cnj/lib/jsonl"
	"github.com/coniunctum/cnj/lib/rule"
)

// Consensus constants that no genesis file changes.
const (
	MaxFuture      = 2 * 60 * 60  // a block may be at most 2 h ahead of the node's clock
	TxWindowAfter  = 24 * 60 * 60 // a tx is valid in blocks at most 24 h after its timestamp
	TxWindowBefore = 2 * 60 * 60  // ... and at most 2 h before it
	MedianSpan     = 11           // blocks in the median time past
	MaxTxLine      = 1024         // bytes in one transaction line
	// MaxGenesisLine bounds a genesis.json line.
	MaxGenesisLine = 4096
)

// Params are one network's rules.
type Params struct {
	Network         string   // "main", "devnet"
	AddressPrefix   string   // address human-readable part: "cnj", "dcnj"
	Timestamp       int64    // genesis time, block 0's timestamp
	Salt            [16]byte // makes each devnet a distinct network
	Spacing         int64    // target seconds between blocks
	RetargetWindow  uint64   // blocks averaged by the retarget; 0 = fixed target
	InitialTarget   [32]byte // block 0's target and the highest any block may carry
	Reward          uint64   // subsidy of block 1, in base units
	HalvingInterval uint64   // blocks between halvings of the subsidy
	Maturity        uint64   // a reward of block h is spendable from block h+Maturity
	MinFee          uint64   // lowest fee of a transfer, in base units
	MaxBlockBytes   uint64   // longest block line

	hash [32]byte
}

// Hash is the genesis hash: SHA-256 of the canonical encoding. It names the
// network, is block 0's hash and is bound into every transaction hash.
func (p *Params) Hash() [32]byte { return p.hash }

// Canonical returns the canonical binary encoding (cnj-format(5)).
func (p *Params) Canonical() []byte {
	var b bytes.Buffer
	b.WriteString("CNJ-GN-1")
	writeStr(&b, p.Network)
	writeStr(&b, p.AddressPrefix)
	writeU64(&b, uint64(p.Timestamp))
	b.Write(p.Salt[:])
	writeU64(&b, uint64(p.Spacing))
	writeU64(&b, p.RetargetWindow)
	b.Write(p.InitialTarget[:])
	writeU64(&b, p.Reward)
	writeU64(&b, p.HalvingInterval)
	writeU64(&b, p.Maturity)
	writeU64(&b, p.MinFee)
	writeU64(&b, p.MaxBlockBytes)
	return b.Bytes()
}

func writeStr(b *bytes.Buffer, s string) { b.WriteByte(byte(len(s))); b.WriteString(s) }
func writeU64(b *bytes.Buffer, v uint64) { b.Write(binary.BigEndian.AppendUint64(nil, v)) }

// Subsidy is the reward of the block at index h: Reward halved every
// HalvingInterval blocks, zero after 64 halvings. Block 0 has none.
func (p *Params) Subsidy(h uint64) uint64 {
	if h == 0 {
		return 0
	}
	n := (h - 1) / p.HalvingInterval
	if n >= 64 {
		return 0
	}
	return p.Reward >> n
}

// JSON returns the genesis line, without newline.
func (p *Params) JSON() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"type":"genesis","network":%q,"address_prefix":%q,"timestamp":%d,"salt":"%x",`,
		p.Network, p.AddressPrefix, p.Timestamp, p.Salt)
	fmt.Fprintf(&b, `"spacing":%d,"retarget_window":%d,"initial_target":"%x","reward":%d,`,
		p.Spacing, p.RetargetWindow, p.InitialTarget, p.Reward)
	fmt.Fprintf(&b, `"halving_interval":%d,"maturity":%d,"min_fee":%d,"max_block_bytes":%d}`,
		p.HalvingInterval, p.Maturity, p.MinFee, p.MaxBlockBytes)
	return b.Bytes()
}

// Validate checks ranges and computes the genesis hash. Parse and the
// constructors call it; a Params built by hand must call it before use.
func (p *Params) Validate() error {
	bad := func(format string, args ...any) error { return rule.Errorf(rule.BadGenesis, format, args...) }
	switch {
	case p.Network == "" || len(p.Network) > 16 || !lowerAlnum(p.Network):
		return bad("network must be 1-16 lowercase letters or digits")
	case p.AddressPrefix == "" || len(p.AddressPrefix) > 10 || !lowerAlpha(p.AddressPrefix):
		return bad("address_prefix must be 1-10 lowercase letters")
	case p.Timestamp < 0 || p.Timestamp > 1<<40:
		return bad("timestamp out of range")
	case p.Spacing < 1 || p.Spacing > 86400:
		return bad("spacing must be 1 to 86400 seconds")
	case p.RetargetWindow > 10000:
		return bad("retarget_window above 10000")
	case p.InitialTarget == [32]byte{}:
		return bad("initial_target is zero")
	case p.Reward == 0 || p.Reward > amount.MaxMoney/1000:
		return bad("reward out of range")
	case p.HalvingInterval == 0:
		return bad("halving_interval is zero")
	case p.Maturity > 10000:
		return bad("maturity above 10000")
	case p.MinFee == 0 || p.MinFee > amount.Coin:
		return bad("min_fee must be 1 to 100000000 units")
	case p.MaxBlockBytes < 4096 || p.MaxBlockBytes > 32<<20:
		return bad("max_block_bytes must be 4096 to 33554432")
	}
	p.hash = sha256.Sum256(p.Canonical())
	return nil
}

func lowerAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

func lowerAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < 'a' || s[i] > 'z') && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

// Parse reads a genesis line strictly.
func Parse(line []byte) (*Params, error) {
	o, typ, err := jsonl.ParseRecord(line, "genesis", MaxGenesisLine)
	if err != nil {
		return nil, err
	}
	if typ != "genesis" {
		return nil, rule.Errorf(rule.BadType, "type %q is not genesis", typ)
	}
	p := &Params{}
	var errs []error
	str := func(k string) string { s, err := o.String(k); errs = append(errs, err); return s }
	u64 := func(k string) uint64 { n, err := o.Uint(k); errs = append(errs, err); return n }
	hx := func(k string, dst []byte) { b, err := o.Hex(k, len(dst)); errs = append(errs, err); copy(dst, b) }
	p.Network = str("network")
	p.AddressPrefix = str("address_prefix")
	ts := u64("timestamp")
	hx("salt", p.Salt[:])
	spacing := u64("spacing")
	p.RetargetWindow = u64("retarget_window")
	hx("initial_target", p.InitialTarget[:])
	p.Reward = u64("reward")
	p.HalvingInterval = u64("halving_interval")
	p.Maturity = u64("maturity")
	p.MinFee = u64("min_fee")
	p.MaxBlockBytes = u64("max_block_bytes")
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := o.Done(); err != nil {
		return nil, err
	}
	if ts > 1<<40 || spacing > 86400 {
		return nil, rule.Errorf(rule.BadGenesis, "timestamp or spacing out of range")
	}
	p.Timestamp, p.Spacing = int64(ts), int64(spacing)
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func target(hexs string) (t [32]byte) {
	if err := chainhash.Decode(t[:], hexs); err != nil {
		panic("params: bad built-in target " + hexs)
	}
	return t
}

// Main returns the built-in main network: 10-minute blocks, 50 CNJ halving
// every 210,000 blocks, rewards mature after 100 blocks.
func Main() *Params {
	p := &Params{
		Network:         "main",
		AddressPrefix:   "cnj",
		Timestamp:       1795000000, // 2026-11-18
		Spacing:         600,
		RetargetWindow:  144,
		InitialTarget:   target("00000fffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
		Reward:          50 * amount.Coin,
		HalvingInterval: 210000,
		Maturity:        100,
		MinFee:          1000,
		MaxBlockBytes:   1 << 20,
	}
	copy(p.Salt[:], "coniunctum-main!")
	if err := p.Validate(); err != nil {
		panic(err)
	}
	return p
}

// DevnetOptions tune a new devnet.
type DevnetOptions struct {
	Timestamp  int64 // genesis time; usually now
	NoRetarget bool  // fixed target, like Bitcoin regtest: for tests that mine bursts
}

// NewDevnet returns a fresh devnet with a random salt, so that every devnet is
// its own network: 2-second blocks, a target about 4096 tries, rewards that
// mature after 3 blocks.
func NewDevnet(o DevnetOptions) (*Params, error) {
	p := &Params{
		Network:         "devnet",
		AddressPrefix:   "dcnj",
		Timestamp:       o.Timestamp,
		Spacing:         2,
		RetargetWindow:  20,
		InitialTarget:   target("000fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
		Reward:          50 * amount.Coin,
		HalvingInterval: 1000,
		Maturity:        3,
		MinFee:          1000,
		MaxBlockBytes:   1 << 20,
	}
	if o.NoRetarget {
		p.RetargetWindow = 0
	}
	if _, err := rand.Read(p.Salt[:]); err != nil {
		return nil, err
	}
	return p, p.Validate()
}

// ByName returns the built-in network called name; only "main" is built in.
func ByName(name string) (*Params, error) {
	if name == "main" {
		return Main(), nil
	}
	return nil, fmt.Errorf("no built-in network %s: main is built in; create a devnet with cnj-mine --genesis --network devnet", strconv.Quote(name))
}
