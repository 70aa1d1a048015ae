// Package explore answers questions about a chain: the tip, a block, a
// transaction, an address's balance and history (cnj-chain's answers, which
// cnj-serve's JSON API serves too), and runs cnj-chain's check and reindex.
// Every answer is one JSON line (history: one per event) so that jq reads
// it.
//
// The queries take a node the caller opened (node.Open) and write to w; they
// only read the node, so callers that share one node between goroutines hold
// a read lock around them and their Refresh under the write lock. A
// transaction by txid and an address's history and totals are looked up
// through the transfer index (Lookup, lookup.go: package txindex up to where
// it agrees with the node's chain, the blocks above it). Check and Reindex
// take the directory itself: they read, or rebuild, everything.
//
// # Errors
//
// A query about something the chain does not hold wraps ErrNotFound; a
// malformed hash, id or index wraps ErrBadRef; a malformed address or one of
// another network carries the rule code bad-address or wrong-network; a
// lookup that would read more blocks above the index than Lookup.MaxLag
// allows wraps ErrIndexBehind. Any other error is an I/O error or damage
// (chaindir's *CorruptError).
package explore

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chainhash"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

var (
	// ErrNotFound is wrapped by the error of a query about a block or a
	// transaction that the chain does not hold.
	ErrNotFound = errors.New("not found")
	// ErrBadRef is wrapped by the error of a query with a malformed block
	// hash, block index or transaction id.
	ErrBadRef = errors.New("malformed reference")
)

// queryError is an error with a message of its own that wraps one of the
// sentinels above.
type queryError struct {
	msg  string
	kind error
}

func (e *queryError) Error() string { return e.msg }
func (e *queryError) Unwrap() error { return e.kind }

func notFound(format string, args ...any) error {
	return &queryError{fmt.Sprintf(format, args...), ErrNotFound}
}

func badRef(format string, args ...any) error {
	return &queryError{fmt.Sprintf(format, args...), ErrBadRef}
}

// AppendTip appends the tip line (no newline):
// {"height":N,"hash":H,"timestamp":T,"target":HEX,"work":HEX,"mempool":N}.
func AppendTip(dst []byte, n *node.Node) []byte {
	t := n.Chain().Tip()
	dst = append(dst, `{"height":`...)
	dst = strconv.AppendUint(dst, t.Height, 10)
	dst = append(dst, `,"hash":"`...)
	dst = hex.AppendEncode(dst, t.Hash[:])
	dst = append(dst, `","timestamp":`...)
	dst = strconv.AppendInt(dst, t.Timestamp, 10)
	dst = append(dst, `,"target":"`...)
	dst = hex.AppendEncode(dst, t.Target[:])
	dst = append(dst, `","work":"`...)
	dst = t.Work.Append(dst, 16)
	dst = append(dst, `","mempool":`...)
	dst = strconv.AppendInt(dst, int64(n.Pool.Len()), 10)
	return append(dst, '}')
}

// Tip prints the main chain's tip.
func Tip(n *node.Node, w io.Writer) error {
	_, err := w.Write(append(AppendTip(nil, n), '\n'))
	return err
}

// BlockRef names a block: by hash (ByHash) or by main-chain height.
type BlockRef struct {
	Hash   chainhash.Hash
	Height uint64
	ByHash bool
}

// ParseBlockRef reads a block reference: 64 lowercase hex digits are a
// block hash, decimal digits a main-chain height. Its error wraps
// ErrBadRef.
func ParseBlockRef(ref string) (BlockRef, error) {
	if len(ref) == 64 {
		h, err := chainhash.ParseHash(ref)
		if err != nil {
			return BlockRef{}, badRef("%s: not a block hash or index", ref)
		}
		return BlockRef{Hash: h, ByHash: true}, nil
	}
	i, err := strconv.ParseUint(ref, 10, 64)
	if err != nil {
		return BlockRef{}, badRef("%s: not a block hash (64 hex digits) or index", ref)
	}
	return BlockRef{Height: i}, nil
}

// FindBlock returns the block named by ref (ParseBlockRef): by hash on
// the main chain or a side branch, or by main-chain height.
func FindBlock(n *node.Node, ref string) (*chain.BlockNode, error) {
	br, err := ParseBlockRef(ref)
	if err != nil {
		return nil, err
	}
	var nd *chain.BlockNode
	if br.ByHash {
		nd = n.Chain().Node(br.Hash)
	} else {
		nd = n.Chain().AtHeight(br.Height)
	}
	if nd == nil {
		return nil, notFound("%s: no such block", ref)
	}
	return nd, nil
}

// AppendBlockLine appends the line of block nd (no newline): its block
// line, or for block 0 the genesis line.
func AppendBlockLine(dst []byte, n *node.Node, nd *chain.BlockNode) ([]byte, error) {
	if nd.Height == 0 {
		return append(dst, n.Params().JSON()...), nil
	}
	b, err := n.Chain().Block(nd)
	if err != nil {
		return dst, err
	}
	return b.AppendJSON(dst), nil
}

// Block prints the block named by a hash or a main-chain index.
func Block(n *node.Node, ref string, w io.Writer) error {
	nd, err := FindBlock(n, ref)
	if err != nil {
		return err
	}
	line, err := AppendBlockLine(nil, n, nd)
	if err != nil {
		return err
	}
	_, err = w.Write(append(line, '\n'))
	return err
}

// ParseTxID reads a transfer's id, 32 lowercase hex digits
// (chainhash.ParseID); its error wraps ErrBadRef.
func ParseTxID(id string) (chainhash.ID, error) {
	raw, err := chainhash.ParseID(id)
	if err != nil {
		return raw, badRef("%s: a transaction id is 32 lowercase hex digits", id)
	}
	return raw, nil
}

// ParseTxRef reads a txid: a transfer's id (32 lowercase hex digits) or
// a reward's (its merkle leaf, 64). Its error wraps ErrBadRef.
func ParseTxRef(ref string) ([]byte, error) {
	if len(ref) == 64 {
		h, err := chainhash.ParseHash(ref)
		if err != nil {
			return nil, badRef("%s: a txid is 32 lowercase hex digits, or 64 for a reward", ref)
		}
		return h[:], nil
	}
	id, err := chainhash.ParseID(ref)
	if err != nil {
		return nil, badRef("%s: a txid is 32 lowercase hex digits, or 64 for a reward", ref)
	}
	return id[:], nil
}

// AppendTx appends the line of a found transaction (no newline):
// {"height":N,"block":H,"confirmations":N,"tx":{...}} or
// {"pending":true,"tx":{...}}, the transfer's or the reward's line as
// "tx".
func AppendTx(dst []byte, f Found) []byte {
	if f.Block == nil {
		dst = append(dst, `{"pending":true,"tx":`...)
	} else {
		dst = append(dst, `{"height":`...)
		dst = strconv.AppendUint(dst, f.Block.Height, 10)
		dst = append(dst, `,"block":"`...)
		dst = hex.AppendEncode(dst, f.Block.Hash[:])
		dst = append(dst, `","confirmations":`...)
		dst = strconv.AppendUint(dst, f.Confirmations, 10)
		dst = append(dst, `,"tx":`...)
	}
	if f.Tx != nil {
		dst = f.Tx.AppendJSON(dst)
	} else {
		dst = f.Reward.AppendJSON(dst)
	}
	return append(dst, '}')
}

// Tx prints a transaction found on the main chain (newest first) or in
// the mempool, by txid (ParseTxRef).
func Tx(l Lookup, ref string, w io.Writer) error {
	txid, err := ParseTxRef(ref)
	if err != nil {
		return err
	}
	f, err := l.FindTx(txid)
	if err != nil {
		return err
	}
	_, err = w.Write(append(AppendTx(nil, f), '\n'))
	return err
}

// CheckAddress checks that addr is a well-formed address of n's network:
// the error carries the rule code bad-address or wrong-network.
func CheckAddress(n *node.Node, addr string) error {
	if err := keys.CheckAddress(addr, n.Params().AddressPrefix); err != nil {
		return fmt.Errorf("%s: %w", addr, err)
	}
	return nil
}

// AppendBalance appends addr's balance line (no newline):
// {"address":A,"confirmed":N,"immature":N,"pending":N,"height":H}.
func AppendBalance(dst []byte, n *node.Node, addr string) ([]byte, error) {
	if err := CheckAddress(n, addr); err != nil {
		return dst, err
	}
	c := n.Chain()
	b := c.Ledger().Balance(addr)
	return appendBalanceLine(dst, addr, b.Confirmed, b.Immature, n.Pool.Pending(addr), c.Tip().Height), nil
}

func appendBalanceLine(dst []byte, addr string, confirmed, immature uint64, pending int64, height uint64) []byte {
	dst = append(dst, `{"address":`...)
	dst = strconv.AppendQuote(dst, addr)
	dst = append(dst, `,"confirmed":`...)
	dst = strconv.AppendUint(dst, confirmed, 10)
	dst = append(dst, `,"immature":`...)
	dst = strconv.AppendUint(dst, immature, 10)
	dst = append(dst, `,"pending":`...)
	dst = strconv.AppendInt(dst, pending, 10)
	dst = append(dst, `,"height":`...)
	dst = strconv.AppendUint(dst, height, 10)
	return append(dst, '}')
}

// Balance prints what addr can spend in the next block (confirmed), its
// rewards not yet mature (immature) and the mempool's net effect (pending).
func Balance(n *node.Node, addr string, w io.Writer) error {
	line, err := AppendBalance(nil, n, addr)
	if err != nil {
		return err
	}
	_, err = w.Write(append(line, '\n'))
	return err
}

// Event is one entry of an address's history: a reward it received, or a
// transfer it sent (Kind "out", also to itself) or received ("in").
type Event struct {
	Block *chain.BlockNode // nil for a mempool transfer
	Kind  string           // "reward", "in" or "out"
	// Tx is the transfer, nil for a reward.
	Tx *tx.Tx
	// Amount is the reward's or the transfer's amount.
	Amount uint64
	// Counterparty is the other side of a transfer, "" for a reward.
	Counterparty string
}

// EventOf returns what f is to addr, which takes part in it.
func EventOf(f Found, addr string) Event {
	if f.Tx == nil {
		return Event{Block: f.Block, Kind: "reward", Amount: f.Reward.Amount}
	}
	e := Event{Block: f.Block, Kind: "in", Tx: f.Tx, Amount: f.Tx.Amount, Counterparty: f.Tx.Sender}
	if f.Tx.Sender == addr {
		e.Kind, e.Counterparty = "out", f.Tx.Receiver
	}
	return e
}

// AppendEvent appends an event's history line (no newline):
// {"height":N,"block":H,"id":ID,"kind":K,"amount":N,"fee":N,"counterparty":A}
// with null height and block for a mempool transfer, null id and
// counterparty for a reward.
func AppendEvent(dst []byte, e Event) []byte {
	dst = append(dst, `{"height":`...)
	if e.Block == nil {
		dst = append(dst, `null,"block":null`...)
	} else {
		dst = strconv.AppendUint(dst, e.Block.Height, 10)
		dst = append(dst, `,"block":"`...)
		dst = hex.AppendEncode(dst, e.Block.Hash[:])
		dst = append(dst, '"')
	}
	if e.Tx == nil {
		dst = append(dst, `,"id":null,"kind":"reward","amount":`...)
		dst = strconv.AppendUint(dst, e.Amount, 10)
		return append(dst, `,"fee":0,"counterparty":null}`...)
	}
	dst = append(dst, `,"id":"`...)
	dst = hex.AppendEncode(dst, e.Tx.ID[:])
	dst = append(dst, `","kind":"`...)
	dst = append(dst, e.Kind...)
	dst = append(dst, `","amount":`...)
	dst = strconv.AppendUint(dst, e.Amount, 10)
	dst = append(dst, `,"fee":`...)
	dst = strconv.AppendUint(dst, e.Tx.Fee, 10)
	dst = append(dst, `,"counterparty":`...)
	dst = strconv.AppendQuote(dst, e.Counterparty)
	return append(dst, '}')
}

// History prints addr's rewards and transfers on the main chain, oldest
// first, then its pending transfers with "height":null.
func History(l Lookup, addr string, w io.Writer) error {
	var fs []Found
	if err := l.History(addr, nil, 0, func(f Found) bool { fs = append(fs, f); return true }); err != nil {
		return err
	}
	slices.Reverse(fs)
	fs = append(fs, Pending(l.N, addr, 0)...)
	var line []byte
	for _, f := range fs {
		line = append(AppendEvent(line[:0], EventOf(f, addr)), '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	return nil
}

func summary(w io.Writer, n *node.Node) error {
	_, err := fmt.Fprintf(w, `{"ok":true,"height":%d,"blocks":%d}`+"\n", n.Chain().Tip().Height, n.Chain().Len()-1)
	return err
}

// Check verifies the whole directory; the first problem is the error.
func Check(dir string, w io.Writer) error {
	n, err := node.Open(dir)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := n.Check(); err != nil {
		if rule.CodeOf(err) == "" {
			return err
		}
		return fmt.Errorf("check failed: %w", err)
	}
	return summary(w, n)
}

// Reindex rebuilds the derived files from the blocks. Block lines that
// cannot be used are set aside under lost/ and named in the summary's
// "lost" field, so that a damaged directory opens again with the chain up to
// the damage.
func Reindex(dir string, w io.Writer) error {
	moved, err := node.Reindex(dir)
	if err != nil {
		return err
	}
	n, err := node.Open(dir)
	if err != nil {
		return err
	}
	defer n.Close()
	lost, _ := json.Marshal(moved)
	if moved == nil {
		lost = []byte("[]")
	}
	_, err = fmt.Fprintf(w, `{"ok":true,"height":%d,"blocks":%d,"lost":%s}`+"\n", n.Chain().Tip().Height, n.Chain().Len()-1, lost)
	return err
}
