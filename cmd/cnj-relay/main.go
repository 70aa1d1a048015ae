// Command cnj-relay is a node's gossip: "listen" accepts peers on TCP port
// 5050 and prints the lines they send, tagged with their IP, for
// cnj-verify; "send" keeps a connection to every peer and sends them each
// line it reads.
package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/cli"
	"github.com/coniunctum/cnj/lib/hostport"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/relay"
)

type flags struct {
	cli.Common
	cli.ChainFlag
	Listen struct {
		Listen           string        `default:":5050" placeholder:"IP:PORT" help:"Address to accept peers on (default :5050, every address)."`
		MaxConns         int           `default:"64" placeholder:"N" help:"Most connections at once (default 64)."`
		MaxPerIP         int           `name:"max-per-ip" default:"4" placeholder:"N" help:"Most connections at once from one IP (default 4)."`
		MaxPerGroup      int           `name:"max-per-group" default:"8" placeholder:"N" help:"Most connections at once from one network group: an IPv4 /24, an IPv6 /48 (default 8)."`
		Rate             float64       `default:"1000" placeholder:"N" help:"Lines per second read from one peer IP (default 1000)."`
		HandshakeTimeout time.Duration `default:"5s" placeholder:"DURATION" help:"Time a peer has to send its hello (default 5s)."`
		IdleTimeout      time.Duration `default:"5m" placeholder:"DURATION" help:"Time a peer may stay silent (default 5m)."`
		MaxRejects       int           `default:"10" placeholder:"N" help:"Rejects within a minute that cut a peer IP off (default 10)."`
		CoolOff          time.Duration `default:"1m" placeholder:"DURATION" help:"Length of a first cut-off (default 1m); doubled for each repeat, at most 1h."`
	} `cmd:"" help:"Accept peers; print the lines they send, tagged with their IP."`
	Send struct {
		Bind     string   `placeholder:"IP" help:"Local address of outgoing connections: this node's own."`
		Self     string   `placeholder:"IP:PORT" help:"This node's listen address, never connected to (default: --bind IP, port 5050)."`
		Peers    string   `placeholder:"FILE" help:"Peers file: one HOST[:PORT] a line; re-read when it changes."`
		To       []string `placeholder:"HOST[:PORT]" sep:"none" help:"A peer (repeatable)."`
		Genesis  string   `placeholder:"FILE" help:"Take the network from this genesis file instead of the chain directory."`
		Queue    int      `default:"4096" placeholder:"N" help:"Lines queued per peer (default 4096); a connected peer that falls this far behind is dropped."`
		Returned bool     `help:"Also send every transfer a reorganization returns to the pool of the chain directory (its mempool-events.jsonl)."`
	} `cmd:"" help:"Send each input line to every peer."`

	command string
}

func (f *flags) SetCommand(c string) { f.command = c }

func main() {
	cli.OneThread()
	os.Exit(cli.Main("cnj-relay", "Gossip transaction and block lines with peers over TCP.", &flags{}, run))
}

func run(f *flags, s cli.Streams) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var mu sync.Mutex
	logf := func(format string, args ...any) {
		msg := strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " ")
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(s.Err, "cnj-relay: %s\n", msg)
	}
	switch f.command {
	case "listen":
		return listen(ctx, f, s, logf)
	case "send":
		return send(ctx, f, s, logf)
	}
	return cli.Usagef("unknown command %q", f.command)
}

func listen(ctx context.Context, f *flags, s cli.Streams, logf func(string, ...any)) error {
	o := &f.Listen
	if _, _, err := net.SplitHostPort(o.Listen); err != nil {
		return cli.Usagef("--listen: %q is not IP:PORT", o.Listen)
	}
	p, err := readNetwork(f.Dir())
	if err != nil {
		return err
	}
	webPort, err := cli.WebPort()
	if err != nil {
		return err
	}
	bans := relay.NewBans()
	bans.Threshold, bans.CoolOff = o.MaxRejects, o.CoolOff
	l, err := relay.NewListener(relay.ListenConfig{
		Addr: o.Listen, Params: p, Chain: f.Dir(), Out: s.Out, Logf: logf, Bans: bans,
		MaxConns: o.MaxConns, MaxConnsPerIP: o.MaxPerIP, MaxConnsPerGroup: o.MaxPerGroup, Rate: o.Rate, WebPort: webPort,
		HandshakeTimeout: o.HandshakeTimeout, IdleTimeout: o.IdleTimeout,
	})
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	logf("listening on %s", l.Addr())
	return l.Serve(ctx)
}

func send(ctx context.Context, f *flags, s cli.Streams, logf func(string, ...any)) error {
	o := &f.Send
	if o.Peers == "" && len(o.To) == 0 {
		return cli.Usagef("send: no peers: give --peers FILE or --to HOST[:PORT]")
	}
	cfg := relay.SendConfig{PeersFile: o.Peers, Logf: logf, Queue: o.Queue}
	if o.Returned && o.Genesis != "" {
		return cli.Usagef("--returned: follows a chain directory's pool: not with --genesis")
	}
	for _, to := range o.To {
		hp, err := hostport.Parse(to, relay.DefaultPort)
		if err != nil {
			return cli.Usagef("--to: %v", err)
		}
		cfg.To = append(cfg.To, hp)
	}
	var err error
	if o.Bind != "" {
		if cfg.Bind, err = netip.ParseAddr(o.Bind); err != nil || cfg.Bind.Zone() != "" {
			return cli.Usagef("--bind: %q is not an IP address", o.Bind)
		}
	}
	if o.Self != "" {
		if cfg.Self, err = netip.ParseAddrPort(o.Self); err != nil || cfg.Self.Port() == 0 {
			return cli.Usagef("--self: %q is not IP:PORT", o.Self)
		}
	}
	if o.Genesis != "" {
		cfg.Params, err = readGenesisFile(o.Genesis)
	} else {
		// A sender on a chain directory writes its counters there; one
		// with --genesis (a wallet) has none.
		cfg.Params, err = readNetwork(f.Dir())
		cfg.Chain, cfg.Returned = f.Dir(), o.Returned
	}
	if err != nil {
		return err
	}
	in, restore := cli.PollIn(s.In)
	defer restore()
	if err := relay.Send(ctx, cfg, in); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

// readNetwork reads the network of the chain directory dir.
func readNetwork(dir string) (*params.Params, error) {
	return chaindir.Dir(dir).ReadGenesis()
}

func readGenesisFile(path string) (*params.Params, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) > params.MaxGenesisLine+1 {
		return nil, fmt.Errorf("%s: not a genesis file: %d bytes", path, len(b))
	}
	p, err := params.Parse([]byte(strings.TrimSuffix(string(b), "\n")))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}
