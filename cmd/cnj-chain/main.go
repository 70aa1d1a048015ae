// Command cnj-chain reads and maintains the local chain directory: the tip,
// blocks, transactions, balances and histories, and the checks and rebuild
// of its files.
package main

import (
	"os"
	"strings"

	"github.com/coniunctum/cnj/internal/explore"
	"github.com/coniunctum/cnj/lib/cli"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/txindex"
)

type flags struct {
	cli.Common
	cli.ChainFlag
	Remote string   `help:"Ask the web app of the node at HOST[:PORT] (default port 56230) instead of reading a chain directory; for tip, block, tx, balance, history and genesis." placeholder:"HOST"`
	Tip    struct{} `cmd:"" help:"Print the tip: height, hash, timestamp, target, work, mempool size."`
	Block  struct {
		Ref string `arg:"" help:"Block hash or index on the main chain." name:"hash|index"`
	} `cmd:"" help:"Print a block line."`
	Tx struct {
		ID string `arg:"" help:"Transaction id (32 hex digits), or a reward's txid (64)." name:"id"`
	} `cmd:"" help:"Print a transaction with where it is."`
	Balance struct {
		Address string `arg:"" help:"Wallet address." name:"address"`
	} `cmd:"" help:"Print an address's confirmed, immature and pending balance."`
	History struct {
		Address string `arg:"" help:"Wallet address." name:"address"`
	} `cmd:"" help:"Print every transfer and reward of an address, oldest first."`
	Genesis struct{} `cmd:"" help:"Print the network's genesis line."`
	Check   struct{} `cmd:"" help:"Verify every block and derived file; exit 1 naming the first problem."`
	Reindex struct{} `cmd:"" help:"Rebuild every derived file from the blocks."`

	command string
}

func (f *flags) SetCommand(c string) { f.command = c }

func main() {
	os.Exit(cli.Main("cnj-chain", "Read and maintain the local chain directory.", &flags{}, run))
}

func run(f *flags, s cli.Streams) error {
	dir := f.Dir()
	cmd := strings.Fields(f.command)[0]
	if f.Remote != "" {
		return remote(f, cmd, s)
	}
	switch cmd {
	case "check":
		return explore.Check(dir, s.Out)
	case "reindex":
		return explore.Reindex(dir, s.Out)
	case "tx":
		// A malformed id is refused before the directory is opened.
		if _, err := explore.ParseTxRef(f.Tx.ID); err != nil {
			return err
		}
	}
	// Only a balance reads the ledger: the other answers need not decode
	// it (node.Options.NoLedger), most of the time an open takes.
	n, err := node.OpenWith(dir, node.Options{NoLedger: cmd != "balance"})
	if err != nil {
		return err
	}
	defer n.Close()
	x := txindex.NewReader(n.Dir(), n.Params().Hash(), 0)
	defer x.Close()
	l := explore.Lookup{N: n, X: x}
	switch cmd {
	case "genesis":
		_, err := s.Out.Write(append(n.Params().JSON(), '\n'))
		return err
	case "tip":
		return explore.Tip(n, s.Out)
	case "block":
		return explore.Block(n, f.Block.Ref, s.Out)
	case "tx":
		return explore.Tx(l, f.Tx.ID, s.Out)
	case "balance":
		return explore.Balance(n, f.Balance.Address, s.Out)
	case "history":
		return explore.History(l, f.History.Address, s.Out)
	}
	return cli.Usagef("unknown command %q", f.command)
}

// remote answers from a node's web app: what a wallet holder, who keeps no
// chain, asks its source node.
func remote(f *flags, cmd string, s cli.Streams) error {
	r, err := explore.NewRemote(f.Remote)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	switch cmd {
	case "tip":
		return r.Tip(s.Out)
	case "genesis":
		return r.Genesis(s.Out)
	case "block":
		return r.Block(f.Block.Ref, s.Out)
	case "tx":
		return r.Tx(f.Tx.ID, s.Out)
	case "balance":
		return r.Balance(f.Balance.Address, s.Out)
	case "history":
		return r.History(f.History.Address, s.Out)
	}
	return cli.Usagef("%s works on a chain directory, not with --remote", cmd)
}
