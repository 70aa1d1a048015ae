// Command cnj-chain reads and maintains the local chain directory: the tip,
// blocks, transactions, balances and histories, and the checks and rebuild
// of its files.
package main

import (
	"os"
	"strings"

	"github.com/coniunctum/cnj/lib/cli"
	"github.com/coniunctum/cnj/lib/explore"
	"github.com/coniunctum/cnj/lib/node"
)

type flags struct {
	cli.Common
	cli.ChainFlag
	Tip   struct{} `cmd:"" help:"Print the tip: height, hash, timestamp, target, work, mempool size."`
	Block struct {
		Ref string `arg:"" help:"Block hash or index on the main chain." name:"hash|index"`
	} `cmd:"" help:"Print a block line."`
	Tx struct {
		ID string `arg:"" help:"Transaction id." name:"id"`
	} `cmd:"" help:"Print a transaction with where it is."`
	Balance struct {
		Address string `arg:"" help:"Wallet address." name:"address"`
	} `cmd:"" help:"Print an address's confirmed, immature and pending balance."`
	History struct {
		Address string `arg:"" help:"Wallet address." name:"address"`
	} `cmd:"" help:"Print every transfer and reward of an address, oldest first."`
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
	switch cmd {
	case "check":
		return explore.Check(dir, s.Out)
	case "reindex":
		return explore.Reindex(dir, s.Out)
	case "tx":
		// A malformed id is refused before the directory is opened.
		if _, err := explore.ParseTxID(f.Tx.ID); err != nil {
			return err
		}
	}
	n, err := node.Open(dir)
	if err != nil {
		return err
	}
	defer n.Close()
	switch cmd {
	case "tip":
		return explore.Tip(n, s.Out)
	case "block":
		return explore.Block(n, f.Block.Ref, s.Out)
	case "tx":
		return explore.Tx(n, f.Tx.ID, s.Out)
	case "balance":
		return explore.Balance(n, f.Balance.Address, s.Out)
	case "history":
		return explore.History(n, f.History.Address, s.Out)
	}
	return cli.Usagef("unknown command %q", f.command)
}
