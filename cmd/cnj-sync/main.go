// Command cnj-sync fetches the valid chain with the most work from the web
// apps of the node's peers, verifies it and switches to it; from cron,
// every minute, it keeps a node in step with its network.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/chainsync"
	"github.com/coniunctum/cnj/lib/cli"
	"github.com/coniunctum/cnj/lib/hostport"
	"github.com/coniunctum/cnj/lib/node"
)

type flags struct {
	cli.Common
	cli.ChainFlag
	Peers string `help:"Peers file: HOST[:PORT] lines naming relays, each asked at HOST on the web port (default: the chain directory's peers file)." placeholder:"FILE" xor:"source"`
	From  string `help:"Sync from the web app at HOST[:PORT] (port 56230 by default) only; into an empty or missing directory, join its network." placeholder:"HOST[:PORT]" xor:"source"`
	Quiet bool   `short:"q" help:"Print nothing when all went well."`
	Self  string `help:"This node's own relay address IP:PORT, never recorded as a peer when peers list it back." placeholder:"IP:PORT"`
}

func main() {
	os.Exit(cli.Main("cnj-sync", "Fetch the valid chain with the most work from the peers' web apps.", &flags{}, run))
}

func run(f *flags, s cli.Streams) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return syncChain(ctx, f, s, cli.IsTerminal(s.Err))
}

// syncChain is the command; tty says that s.Err is a terminal.
func syncChain(ctx context.Context, f *flags, s cli.Streams, tty bool) (err error) {
	dir := f.Dir()
	webPort, err := cli.WebPort()
	if err != nil {
		return err
	}
	var o chainsync.Options
	if f.Self != "" {
		self, err := hostport.Parse(f.Self, hostport.RelayPort)
		if err != nil {
			return cli.Usagef("--self: %v", err)
		}
		o.Self = []string{self}
	}
	joined := ""
	if f.From != "" {
		from, err := hostport.Parse(f.From, webPort)
		if err != nil {
			return cli.Usagef("--from: %v", err)
		}
		if !chaindir.Dir(dir).IsChainDir() {
			p, err := chainsync.Join(ctx, dir, from, o)
			if err != nil {
				return fmt.Errorf("joining the network of %s: %w", from, err)
			}
			h := p.Hash()
			joined = fmt.Sprintf("joined %s %x through %s; ", p.Network, h[:8], from)
		}
		o.Peers = []string{from}
		o.Record = []string{hostport.Relay(from)}
	}
	if !chaindir.Dir(dir).IsChainDir() {
		return fmt.Errorf("%s is not a chain directory: create one with cnj-mine --genesis, or join a network with cnj-sync --from HOST", dir)
	}
	release, err := chaindir.Dir(dir).LockSync()
	if errors.Is(err, chaindir.ErrSyncBusy) {
		// Said even with -q: a run that never ends (a peer stalling it)
		// must not go unnoticed from cron.
		return &cli.ExitError{Code: cli.ExitBusy, Err: fmt.Errorf("another run holds %s: nothing done, try again later",
			chaindir.Dir(dir).File(chaindir.SyncLockFile))}
	}
	if err != nil {
		return err
	}
	defer release()
	n, err := node.Open(dir)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := n.Close(); err == nil {
			err = cerr
		}
	}()

	source := "the peers file"
	if f.From == "" {
		entries, bad, err := peerEntries(f, n)
		if err != nil {
			return err
		}
		for _, b := range bad {
			fmt.Fprintf(s.Err, "cnj-sync: %s: %s: skipped\n", peersName(f, n), b)
		}
		for _, e := range entries {
			a, err := hostport.Web(e, webPort)
			if err != nil {
				return err
			}
			o.Peers = append(o.Peers, a)
		}
		if f.Peers != "" {
			source = f.Peers
		}
	}
	var bar *chainsync.Bar
	if tty && !f.Quiet {
		bar = chainsync.NewBar(s.Err)
		o.Progress = bar.Update
	}
	rep, err := chainsync.Sync(ctx, n, o)
	if bar != nil {
		bar.Clear()
	}
	if rep != nil {
		for _, p := range rep.Problems {
			fmt.Fprintf(s.Err, "cnj-sync: %v\n", p)
		}
	}
	switch {
	case errors.Is(err, chainsync.ErrNoPeer):
		return fmt.Errorf("no peer could be used: %d asked, every one failed", rep.Asked)
	case errors.Is(err, context.Canceled):
		return errors.New("interrupted")
	case err != nil:
		return err
	}
	if !f.Quiet {
		fmt.Fprintf(s.Err, "cnj-sync: %s%s\n", joined, summary(rep, source))
	}
	return nil
}

// peerEntries reads --peers FILE, or the chain directory's peers file:
// the peers, and the lines that are not peers.
func peerEntries(f *flags, n *node.Node) (peers, bad []string, err error) {
	return chaindir.ReadPeersFile(peersName(f, n))
}

// peersName is the peers file: --peers FILE, or the chain directory's.
func peersName(f *flags, n *node.Node) string {
	if f.Peers != "" {
		return f.Peers
	}
	return n.Dir().File(chaindir.PeersFile)
}

// summary is the line printed without -q.
func summary(r *chainsync.Report, source string) string {
	var s string
	switch {
	case r.Asked == 0:
		s = fmt.Sprintf("no peers in %s: nothing to do at height %d", source, r.After.Height)
	case r.Blocks > 0:
		s = fmt.Sprintf("height %d: %d blocks from %s", r.After.Height, r.Blocks, r.From)
	default:
		s = fmt.Sprintf("up to date at height %d (%d of %d peers answered)", r.After.Height, r.Usable, r.Asked)
	}
	if r.PoolTxs > 0 {
		s += fmt.Sprintf("; %d pending transfers from the peers' pools", r.PoolTxs)
	}
	if n := len(r.AddedPeers); n > 0 {
		s += fmt.Sprintf("; %d new peers", n)
	}
	return s
}
