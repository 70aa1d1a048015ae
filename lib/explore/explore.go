// Package explore answers cnj-chain's questions about a chain directory:
// tip, block, transaction, balance, history, and runs its check and reindex.
// Every answer is one JSON line (history: one per event) so that jq reads it.
//
// Readers open the directory without the lock and never block a writer.
package explore

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

func open(dir string) (*node.Node, error) { return node.Open(dir) }

// Tip prints the main chain's tip.
func Tip(dir string, w io.Writer) error {
	n, err := open(dir)
	if err != nil {
		return err
	}
	defer n.Close()
	t := n.Chain().Tip()
	_, err = fmt.Fprintf(w, `{"height":%d,"hash":"%x","timestamp":%d,"target":"%x","work":"%x","mempool":%d}`+"\n",
		t.Height, t.Hash, t.Timestamp, t.Target, t.Work, n.Pool.Len())
	return err
}

// Block prints the block named by a hash or a main-chain index.
func Block(dir, ref string, w io.Writer) error {
	n, err := open(dir)
	if err != nil {
		return err
	}
	defer n.Close()
	c := n.Chain()
	var nd *chain.Node
	if len(ref) == 64 {
		h, err := hex.DecodeString(ref)
		if err != nil {
			return fmt.Errorf("%s: not a block hash or index", ref)
		}
		nd = c.Node([32]byte(h))
	} else if i, err := strconv.ParseUint(ref, 10, 64); err == nil {
		nd = c.AtHeight(i)
	} else {
		return fmt.Errorf("%s: not a block hash (64 hex digits) or index", ref)
	}
	if nd == nil {
		return fmt.Errorf("%s: no such block", ref)
	}
	if nd.Height == 0 {
		_, err := w.Write(append(n.Params().JSON(), '\n'))
		return err
	}
	b, err := c.Block(nd)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b.JSON(), '\n'))
	return err
}

// mainBlocks calls fn for each main-chain block from height 1 up.
func mainBlocks(n *node.Node, fn func(nd *chain.Node, b *block.Block) error) error {
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

// Tx prints a transfer found on the main chain (newest first) or in the
// mempool.
func Tx(dir, id string, w io.Writer) error {
	raw, err := hex.DecodeString(id)
	if err != nil || len(raw) != 16 || hex.EncodeToString(raw) != id {
		return fmt.Errorf("%s: a transaction id is 32 lowercase hex digits", id)
	}
	n, err := open(dir)
	if err != nil {
		return err
	}
	defer n.Close()
	c := n.Chain()
	for nd := c.Tip(); nd != nil && nd.Height > 0; nd = nd.Parent {
		b, err := c.Block(nd)
		if err != nil {
			return err
		}
		for _, t := range b.Txs {
			if hex.EncodeToString(t.ID[:]) == id {
				_, err := fmt.Fprintf(w, `{"height":%d,"block":"%x","confirmations":%d,"tx":%s}`+"\n",
					nd.Height, nd.Hash, c.Tip().Height-nd.Height+1, t.AppendJSON(nil))
				return err
			}
		}
	}
	for _, t := range n.Pool.Txs() {
		if hex.EncodeToString(t.ID[:]) == id {
			_, err := fmt.Fprintf(w, `{"pending":true,"tx":%s}`+"\n", t.AppendJSON(nil))
			return err
		}
	}
	return fmt.Errorf("%s: no such transaction on the main chain or in the mempool", id)
}

func checkAddr(n *node.Node, addr string) error {
	if err := keys.CheckAddress(addr, n.Params().AddressPrefix); err != nil {
		return fmt.Errorf("%s: %w", addr, err)
	}
	return nil
}

// Balance prints what addr can spend in the next block (confirmed), its
// rewards not yet mature (immature) and the mempool's net effect (pending).
func Balance(dir, addr string, w io.Writer) error {
	n, err := open(dir)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := checkAddr(n, addr); err != nil {
		return err
	}
	b := n.Chain().Ledger().Balance(addr)
	_, err = fmt.Fprintf(w, `{"address":%q,"confirmed":%d,"immature":%d,"pending":%d,"height":%d}`+"\n",
		addr, b.Confirmed, b.Immature, n.Pool.Pending(addr), n.Chain().Tip().Height)
	return err
}

// History prints addr's rewards and transfers on the main chain, oldest
// first, then its pending transfers with "height":null.
func History(dir, addr string, w io.Writer) error {
	n, err := open(dir)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := checkAddr(n, addr); err != nil {
		return err
	}
	event := func(height string, bh string, t *tx.Tx) error {
		kind, other := "in", t.Sender
		if t.Sender == addr {
			kind, other = "out", t.Receiver
		}
		_, err := fmt.Fprintf(w, `{"height":%s,"block":%s,"id":"%x","kind":%q,"amount":%d,"fee":%d,"counterparty":%q}`+"\n",
			height, bh, t.ID, kind, t.Amount, t.Fee, other)
		return err
	}
	err = mainBlocks(n, func(nd *chain.Node, b *block.Block) error {
		h, bh := strconv.FormatUint(nd.Height, 10), fmt.Sprintf(`"%x"`, nd.Hash)
		if b.Reward.Receiver == addr {
			if _, err := fmt.Fprintf(w, `{"height":%s,"block":%s,"id":null,"kind":"reward","amount":%d,"fee":0,"counterparty":null}`+"\n",
				h, bh, b.Reward.Amount); err != nil {
				return err
			}
		}
		for _, t := range b.Txs {
			if t.Sender == addr || t.Receiver == addr {
				if err := event(h, bh, t); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, t := range n.Pool.Txs() {
		if t.Sender == addr || t.Receiver == addr {
			if err := event("null", "null", t); err != nil {
				return err
			}
		}
	}
	return nil
}

func summary(w io.Writer, d *chaindir.Dir) error {
	_, err := fmt.Fprintf(w, `{"ok":true,"height":%d,"blocks":%d}`+"\n", d.Chain().Tip().Height, d.Chain().Len()-1)
	return err
}

// Check verifies the whole directory; the first problem is the error.
func Check(dir string, w io.Writer) error {
	d, err := chaindir.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Check(); err != nil {
		if rule.CodeOf(err) == "" {
			return err
		}
		return fmt.Errorf("check failed: %w", err)
	}
	return summary(w, d)
}

// Reindex rebuilds the derived files from the blocks. Block lines that
// cannot be used are set aside under lost/ and named in the summary's
// "lost" field, so that a damaged directory opens again with the chain up to
// the damage.
func Reindex(dir string, w io.Writer) error {
	moved, err := chaindir.Reindex(dir)
	if err != nil {
		return err
	}
	d, err := chaindir.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	lost, _ := json.Marshal(moved)
	if moved == nil {
		lost = []byte("[]")
	}
	_, err = fmt.Fprintf(w, `{"ok":true,"height":%d,"blocks":%d,"lost":%s}`+"\n", d.Chain().Tip().Height, d.Chain().Len()-1, lost)
	return err
}
