// Package explore answers questions about a chain: the tip, a block, a
// transaction, an address's balance and history (cnj-chain's answers, which
// cnj-serve's JSON API serves too), and runs cnj-chain's check and reindex.
// Every answer is one JSON line (history: one per event) so that jq reads
// it.
//
// The queries take a node the caller opened (node.Open) and write to w; they
// only read the node, so callers that share one node between goroutines hold
// a read lock around them and their Refresh under the write lock. Check and
// Reindex take the directory itself: they read, or rebuild, everything.
//
// # Errors
//
// A query about something the chain does not hold wraps ErrNotFound; a
// malformed hash, id or index wraps ErrBadRef; a malformed address or one of
// another network carries the rule code bad-address or wrong-network. Any
// other error is an I/O error or damage (chaindir's *CorruptError).
package explore

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/coniunctum/cnj/lib/block"
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

// mainBlocks calls fn for each main-chain block from height 1 up.
func mainBlocks(n *node.Node, fn func(nd *chain.BlockNode, b *block.Block) error) error {
	c := n.Chain()
	for h := uint64(1); h <= c.Tip().Height; h++ {
		nd := c.AtHeight(h)
		b, err := c.Block(nd)
		if err != nil {
			return err
		}
		if err := fn(nd, b); err != nil {
			return err
		}
	}
	return nil
}

// ParseTxID reads a transaction id, 32 lowercase hex digits
// (chainhash.ParseID); its error wraps ErrBadRef.
func ParseTxID(id string) (chainhash.ID, error) {
	raw, err := chainhash.ParseID(id)
	if err != nil {
		return raw, badRef("%s: a transaction id is 32 lowercase hex digits", id)
	}
	return raw, nil
}

// TxFound is where FindTx found a transfer: in block Block (on the main
// chain) or, when Block is nil, in the mempool.
type TxFound struct {
	Tx            *tx.Tx
	Block         *chain.BlockNode
	Confirmations uint64
}

// FindTx looks for the transfer with this id on the main chain, newest block
// first, then in the mempool.
func FindTx(n *node.Node, id [16]byte) (TxFound, error) {
	c := n.Chain()
	tip := c.Tip()
	for nd := tip; nd != nil && nd.Height > 0; nd = nd.Parent {
		if nd.TxCount == 0 {
			continue // only a reward: nothing to read
		}
		b, err := c.Block(nd)
		if err != nil {
			return TxFound{}, err
		}
		for _, t := range b.Txs {
			if t.ID == id {
				return TxFound{Tx: t, Block: nd, Confirmations: tip.Height - nd.Height + 1}, nil
			}
		}
	}
	for _, t := range n.Pool.Txs() {
		if t.ID == id {
			return TxFound{Tx: t}, nil
		}
	}
	return TxFound{}, notFound("%x: no such transaction on the main chain or in the mempool", id)
}

// AppendTx appends the line of a found transfer (no newline):
// {"height":N,"block":H,"confirmations":N,"tx":{...}} or
// {"pending":true,"tx":{...}}.
func AppendTx(dst []byte, f TxFound) []byte {
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
	dst = f.Tx.AppendJSON(dst)
	return append(dst, '}')
}

// Tx prints a transfer found on the main chain (newest first) or in the
// mempool.
func Tx(n *node.Node, id string, w io.Writer) error {
	raw, err := ParseTxID(id)
	if err != nil {
		return err
	}
	f, err := FindTx(n, raw)
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
	dst = append(dst, `{"address":"`...)
	dst = append(dst, addr...) // a valid address is lowercase letters and digits
	dst = append(dst, `","confirmed":`...)
	dst = strconv.AppendUint(dst, b.Confirmed, 10)
	dst = append(dst, `,"immature":`...)
	dst = strconv.AppendUint(dst, b.Immature, 10)
	dst = append(dst, `,"pending":`...)
	dst = strconv.AppendInt(dst, n.Pool.Pending(addr), 10)
	dst = append(dst, `,"height":`...)
	dst = strconv.AppendUint(dst, c.Tip().Height, 10)
	return append(dst, '}'), nil
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

// Events calls fn for each event of addr, oldest first: rewards and
// transfers on the main chain, then the transfers of the mempool. It does
// not check addr (see CheckAddress).
func Events(n *node.Node, addr string, fn func(Event) error) error {
	err := mainBlocks(n, func(nd *chain.BlockNode, b *block.Block) error {
		return BlockEvents(addr, nd, b, fn)
	})
	if err != nil {
		return err
	}
	return PoolEvents(addr, n.Pool.Txs(), fn)
}

// BlockEvents calls fn for each event of addr in block b (whose chain node
// is nd): its reward, then its transfers in block order.
func BlockEvents(addr string, nd *chain.BlockNode, b *block.Block, fn func(Event) error) error {
	if b.Reward.Receiver == addr {
		if err := fn(Event{Block: nd, Kind: "reward", Amount: b.Reward.Amount}); err != nil {
			return err
		}
	}
	for _, t := range b.Txs {
		if t.Sender == addr || t.Receiver == addr {
			if err := fn(transferEvent(addr, nd, t)); err != nil {
				return err
			}
		}
	}
	return nil
}

// PoolEvents calls fn for each of the mempool transfers txs (in admission
// order) that addr sends or receives.
func PoolEvents(addr string, txs []*tx.Tx, fn func(Event) error) error {
	for _, t := range txs {
		if t.Sender == addr || t.Receiver == addr {
			if err := fn(transferEvent(addr, nil, t)); err != nil {
				return err
			}
		}
	}
	return nil
}

func transferEvent(addr string, nd *chain.BlockNode, t *tx.Tx) Event {
	e := Event{Block: nd, Kind: "in", Tx: t, Amount: t.Amount, Counterparty: t.Sender}
	if t.Sender == addr {
		e.Kind, e.Counterparty = "out", t.Receiver
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
func History(n *node.Node, addr string, w io.Writer) error {
	if err := CheckAddress(n, addr); err != nil {
		return err
	}
	var line []byte
	return Events(n, addr, func(e Event) error {
		line = append(AppendEvent(line[:0], e), '\n')
		_, err := w.Write(line)
		return err
	})
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
