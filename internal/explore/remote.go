package explore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/hostport"
	"github.com/coniunctum/cnj/lib/webclient"
)

// remoteTimeout bounds each question to the source node, answer included.
const remoteTimeout = 15 * time.Second

// Remote answers cnj-chain's read questions from a node's web app instead of
// a local chain directory: what a wallet holder, who keeps no chain, asks
// its source node. Answers are the web app's lines, which are cnj-chain's
// (webclient); a malformed reference is refused before anything is asked.
type Remote struct {
	addr string // HOST:PORT of the web app
	c    *webclient.Client
}

// NewRemote returns a Remote for HOST[:PORT] or http://HOST[:PORT].
func NewRemote(source string) (*Remote, error) {
	s, err := hostport.Parse(strings.TrimSuffix(strings.TrimPrefix(source, "http://"), "/"), hostport.WebPort)
	if err != nil {
		return nil, fmt.Errorf("--remote: %w", err)
	}
	return &Remote{addr: s, c: webclient.New(webclient.Config{Timeout: remoteTimeout})}, nil
}

// Addr returns the web app asked, HOST:PORT.
func (r *Remote) Addr() string { return r.addr }

// print writes an answer, or returns the error in one line naming the
// node; a node that did not answer at all is asked whether it runs.
func (r *Remote) print(w io.Writer, lines []byte, err error) error {
	if errors.Is(err, webclient.ErrNoAnswer) {
		return fmt.Errorf("source node %s: %v: is it running?", r.addr, err)
	}
	if err != nil {
		return fmt.Errorf("source node %s: %w", r.addr, err)
	}
	_, err = w.Write(lines)
	return err
}

// Tip prints the node's /api/tip line.
func (r *Remote) Tip(w io.Writer) error {
	line, err := r.c.TipLine(context.Background(), r.addr)
	return r.print(w, line, err)
}

// Genesis prints the network's genesis line.
func (r *Remote) Genesis(w io.Writer) error {
	line, err := r.c.GenesisLine(context.Background(), r.addr)
	return r.print(w, line, err)
}

// Block prints a block by hash or main-chain index (ParseBlockRef).
func (r *Remote) Block(ref string, w io.Writer) error {
	br, err := ParseBlockRef(ref)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if !br.ByHash {
		if br.Hash, err = r.c.BlockHash(ctx, r.addr, br.Height); err != nil {
			return r.print(w, nil, err)
		}
	}
	line, err := r.c.BlockLine(ctx, r.addr, br.Hash)
	return r.print(w, line, err)
}

// Tx prints a transaction with where it is, as cnj-chain tx does: the
// node's answer (/api/tx/TXID) with the confirmations its tip's height
// gives.
func (r *Remote) Tx(ref string, w io.Writer) error {
	txid, err := ParseTxRef(ref)
	if err != nil {
		return err
	}
	ctx := context.Background()
	at, err := r.c.Tx(ctx, r.addr, txid)
	if err != nil {
		return r.print(w, nil, err)
	}
	f := found(at)
	if at.Confirmed {
		tip, err := r.c.TipHeight(ctx, r.addr)
		if err != nil {
			return r.print(w, nil, err)
		}
		// The tip can move between the two questions, even back.
		f.Confirmations = max(tip, at.Height) - at.Height + 1
	}
	return r.print(w, append(AppendTx(nil, f), '\n'), nil)
}

// found turns a transaction the node reported into what the local
// queries print.
func found(at webclient.TxAt) Found {
	f := Found{Tx: at.Transfer, Reward: at.Reward}
	if at.Confirmed {
		f.Block = &chain.BlockNode{Hash: at.Block, Height: at.Height}
	}
	return f
}

// Balance prints an address's balance line, from cnj's fields of the
// node's answer (/api/address/A).
func (r *Remote) Balance(addr string, w io.Writer) error {
	b, err := r.c.Balance(context.Background(), r.addr, addr)
	if err != nil {
		return r.print(w, nil, err)
	}
	return r.print(w, append(appendBalanceLine(nil, addr, b.Confirmed, b.Immature, b.Pending, b.Height), '\n'), nil)
}

// History prints an address's events, one per line, oldest first, then
// its pending transfers, as cnj-chain history does: from the node's pages
// of its history (webclient.History; the mempool's newest 50 at most).
func (r *Remote) History(addr string, w io.Writer) error {
	confirmed, pending, err := r.c.History(context.Background(), r.addr, addr)
	if err != nil {
		return r.print(w, nil, err)
	}
	var out []byte
	for _, at := range append(confirmed, pending...) {
		out = append(AppendEvent(out, EventOf(found(at), addr)), '\n')
	}
	return r.print(w, out, nil)
}
