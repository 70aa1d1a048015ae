package explore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

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

// Tx prints a transfer with where it is.
func (r *Remote) Tx(id string, w io.Writer) error {
	raw, err := ParseTxID(id)
	if err != nil {
		return err
	}
	line, err := r.c.TxLine(context.Background(), r.addr, raw)
	return r.print(w, line, err)
}

// Balance prints an address's balance line.
func (r *Remote) Balance(addr string, w io.Writer) error {
	line, err := r.c.BalanceLine(context.Background(), r.addr, addr)
	return r.print(w, line, err)
}

// History prints an address's events, one per line, as cnj-chain history
// does (the web app answers a JSON array).
func (r *Remote) History(addr string, w io.Writer) error {
	lines, err := r.c.HistoryLines(context.Background(), r.addr, addr)
	return r.print(w, lines, err)
}
