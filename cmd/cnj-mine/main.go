// Command cnj-mine creates a chain directory (--genesis) or mines blocks on
// its tip, appending each block it finds and printing its line.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/coniunctum/cnj/internal/miner"
	"github.com/coniunctum/cnj/lib/cli"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
)

type flags struct {
	cli.Common
	cli.ChainFlag
	Genesis    bool   `help:"Create the chain directory for --network and print its genesis line." xor:"mode" required:""`
	Network    string `help:"Network of the new chain: devnet (a new one each time) or main." placeholder:"NAME"`
	NoRetarget bool   `help:"With --genesis --network devnet: keep the target fixed (for tests that mine bursts)."`
	Address    string `help:"Mine, paying rewards to ADDR." xor:"mode" required:"" placeholder:"ADDR"`
	Blocks     uint64 `help:"Stop after N blocks (0: mine until interrupted)." default:"0" placeholder:"N"`
	Threads    int    `help:"Mining threads (default: one per CPU)." default:"0" placeholder:"N"`
}

func main() {
	os.Exit(cli.Main("cnj-mine", "Create a chain directory, or mine blocks on its tip.", &flags{}, run))
}

func run(f *flags, s cli.Streams) error {
	if f.Genesis {
		return genesis(f, s)
	}
	if f.Network != "" || f.NoRetarget {
		return cli.Usagef("--network and --no-retarget go with --genesis")
	}
	if f.Threads < 0 || f.Threads > 1024 {
		return cli.Usagef("--threads %d: want 1 to 1024", f.Threads)
	}
	threads := f.Threads
	if threads == 0 {
		threads = runtime.NumCPU()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var progress func(string)
	if cli.IsTerminal(s.Err) {
		progress = func(msg string) { s.Err.Write([]byte("\r\033[K" + msg)) }
	}
	err := miner.Run(ctx, miner.Options{
		Chain: f.Dir(), Address: f.Address, Blocks: f.Blocks, Threads: threads,
		Out: s.Out, Progress: progress, Warn: func(msg string) { s.Err.Write([]byte("cnj-mine: " + msg + "\n")) },
	})
	if progress != nil {
		s.Err.Write([]byte("\r\033[K"))
	}
	return err
}

func genesis(f *flags, s cli.Streams) error {
	if f.Blocks != 0 || f.Threads != 0 {
		return cli.Usagef("--blocks and --threads go with --address")
	}
	var p *params.Params
	var err error
	switch f.Network {
	case "devnet":
		p, err = params.NewDevnet(params.DevnetOptions{Timestamp: time.Now().Unix(), NoRetarget: f.NoRetarget})
	case "main":
		if f.NoRetarget {
			return cli.Usagef("--no-retarget is for devnets")
		}
		p = params.Main()
	default:
		if f.Network == "" {
			return cli.Usagef("--genesis needs --network devnet or --network main")
		}
		return cli.Usagef("--network %s: want devnet or main", f.Network)
	}
	if err != nil {
		return err
	}
	if err := node.Create(f.Dir(), p); err != nil {
		return err
	}
	_, err = s.Out.Write(append(p.JSON(), '\n'))
	return err
}
