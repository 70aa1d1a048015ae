// Command cnj-wallet is the wallet holder: it keeps a key and the headers
// of the chain, no blocks, and reads and sends through its source node,
// checking what the source says (package holder).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/coniunctum/cnj/internal/wallet"
	"github.com/coniunctum/cnj/internal/wallet/holder"
	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/chainhash"
	"github.com/coniunctum/cnj/lib/cli"
	"github.com/coniunctum/cnj/lib/relay"
)

type flags struct {
	cli.Common
	Source         []string `short:"s" env:"CNJ_SOURCE" help:"A source node's web app, HOST[:PORT]; give it several times to check the sources against each other (default: the installer's)." placeholder:"HOST"`
	Sources        string   `help:"Read more sources from FILE, one HOST[:PORT] a line." placeholder:"FILE"`
	Key            string   `short:"k" env:"CNJ_WALLET_KEY" help:"The key file (default: $XDG_CONFIG_HOME/coniunctum/wallet.key)." placeholder:"FILE"`
	PassphraseFile string   `short:"P" help:"Read the key's passphrase from the first line of F instead of the terminal." placeholder:"F"`
	RelayPort      int      `env:"CNJ_RELAY_PORT" default:"5050" help:"The port of the source's relay, where send hands transfers (default 5050)." placeholder:"PORT"`

	Init struct {
		PhraseFile string `help:"Write the recovery phrase to the new file F instead of the terminal." placeholder:"F"`
	} `cmd:"" help:"Make a new key for the source's network and show its recovery phrase once."`
	Restore struct {
		PhraseFile string `help:"Read the recovery phrase from F instead of the terminal." placeholder:"F"`
	} `cmd:"" help:"Make the key file again from its recovery phrase."`
	Address struct{} `cmd:"" help:"Print the key's address (no passphrase)."`
	Balance struct {
		JSON bool `help:"Print one JSON line in base units."`
	} `cmd:"" help:"Print what the address holds, as its verified entries add up."`
	History struct {
		JSON bool `help:"Print JSON lines in base units."`
	} `cmd:"" help:"Print the address's transfers and rewards, oldest first, each checked."`
	Send struct {
		To     string        `arg:"" help:"The receiver's address." name:"to"`
		Amount string        `arg:"" passthrough:"" help:"The amount in CNJ, e.g. 1.5." name:"amount"`
		Wait   time.Duration `default:"30s" help:"How long to wait for the source to take or refuse the transfer (default 30s)." placeholder:"DURATION"`
	} `cmd:"" help:"Send AMOUNT CNJ to TO; exit 0 once the source has the transfer."`
	Status struct {
		ID   string `arg:"" help:"The transfer's id, 32 hex digits." name:"txid"`
		JSON bool   `help:"Print JSON lines."`
	} `cmd:"" help:"Say whether a transfer is confirmed, pending, refused or unknown."`

	command string
}

func (f *flags) SetCommand(c string) { f.command = c }

func main() {
	os.Exit(cli.Main("cnj-wallet", "Hold coins without a copy of the chain: read and send through a source node, checking what it says.", &flags{}, run))
}

func run(f *flags, s cli.Streams) error {
	cmd := strings.Fields(f.command)[0]
	h, err := setup(f, cmd)
	if err != nil {
		return err
	}
	ctx := context.Background()
	switch cmd {
	case "init":
		return initKey(ctx, h, f, s)
	case "restore":
		phrase, err := readPhrase(f.Restore.PhraseFile)
		if err != nil {
			return err
		}
		return h.Restore(ctx, phrase, s.Out)
	case "address":
		return h.Address(ctx, s.Out)
	case "balance":
		return lied(s, h.Balance(ctx, f.Balance.JSON, s.Out))
	case "history":
		return lied(s, h.History(ctx, f.History.JSON, s.Out))
	case "send":
		amt, err := amount.Parse(f.Send.Amount)
		if err == nil && amt == 0 {
			err = fmt.Errorf("%q is nothing", f.Send.Amount)
		}
		if err != nil {
			return cli.Usagef("send: AMOUNT: %v; write CNJ as digits with at most one dot and 8 decimals, above 0, e.g. 1.5 or 0.00000001", err)
		}
		h.Wait = f.Send.Wait
		return lied(s, h.Send(ctx, f.Send.To, amt, s.Out))
	case "status":
		id, err := chainhash.ParseID(f.Status.ID)
		if err != nil {
			return cli.Usagef("status: TXID %q: a transfer's id is 32 lowercase hex digits", f.Status.ID)
		}
		return lied(s, h.Status(ctx, id, f.Status.JSON, s.Out))
	}
	return cli.Usagef("unknown command %q", f.command)
}

// setup reads where the key, the sources and the data are.
func setup(f *flags, cmd string) (*holder.Holder, error) {
	conf := os.Getenv("XDG_CONFIG_HOME")
	data := os.Getenv("XDG_DATA_HOME")
	home, _ := os.UserHomeDir()
	if conf == "" {
		conf = filepath.Join(home, ".config")
	}
	if data == "" {
		data = filepath.Join(home, ".local", "share")
	}
	conf = filepath.Join(conf, "coniunctum")
	h := &holder.Holder{Key: f.Key, PassFile: f.PassphraseFile, RelayPort: f.RelayPort,
		DataDir: filepath.Join(data, "coniunctum", "wallet")}
	if h.Key == "" {
		h.Key = filepath.Join(conf, "wallet.key")
	}
	if f.RelayPort < 1 || f.RelayPort > 65535 {
		return nil, cli.Usagef("--relay-port: %d is not a port", f.RelayPort)
	}
	if h.RelayPort == relay.DefaultPort {
		h.RelayPort = 0
	}
	wf, err := wallet.WorkFactor(os.Getenv("CNJ_SCRYPT_WORK_FACTOR"))
	if err != nil {
		return nil, err
	}
	h.WorkFactor = wf
	srcs := f.Source
	if f.Sources != "" {
		b, err := chaindir.ReadFileMax(f.Sources, 64<<10, nil)
		if err != nil {
			return nil, fmt.Errorf("--sources: %w", err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				srcs = append(srcs, l)
			}
		}
	}
	if len(srcs) == 0 {
		src, err := chaindir.Dir(conf).ReadSource()
		if err != nil {
			return nil, err
		}
		if src != "" {
			srcs = []string{src}
		}
	}
	for _, src := range srcs {
		hp, err := holder.ParseSource(src)
		if err != nil {
			return nil, cli.Usagef("source %q: %v", src, err)
		}
		h.Sources = append(h.Sources, hp)
	}
	return h, nil
}

// lied prints each lie on a line of its own and exits 1.
func lied(s cli.Streams, err error) error {
	var le *holder.LieError
	if !errors.As(err, &le) {
		return err
	}
	for _, l := range le.Lies {
		fmt.Fprintf(s.Err, "cnj-wallet: %s\n", l)
	}
	return &cli.ExitError{Code: cli.ExitFailure}
}

// initKey makes the key; the recovery phrase goes to the terminal or to a
// new file of its own, never to stdout or stderr.
func initKey(ctx context.Context, h *holder.Holder, f *flags, s cli.Streams) error {
	var phrase io.WriteCloser
	if pf := f.Init.PhraseFile; pf != "" {
		file, err := os.OpenFile(pf, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("--phrase-file: %w", err)
		}
		phrase = file
		defer func() {
			if phrase != nil {
				file.Close()
				os.Remove(pf)
			}
		}()
		if err := h.Init(ctx, file, s.Out); err != nil {
			return err
		}
		if err := file.Sync(); err != nil {
			return err
		}
		phrase = nil
		return file.Close()
	}
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		return errors.New("no terminal to show the recovery phrase on: give --phrase-file FILE")
	}
	defer tty.Close()
	return h.Init(ctx, &ttyPhrase{w: tty}, s.Out)
}

// ttyPhrase shows the recovery phrase on the terminal with what it is.
type ttyPhrase struct{ w io.Writer }

func (t *ttyPhrase) Write(b []byte) (int, error) {
	if _, err := io.WriteString(t.w, "Recovery phrase: write it down and keep it safe; it is the key, and it is shown only now:\n"); err != nil {
		return 0, err
	}
	return t.w.Write(b)
}

// readPhrase reads the recovery phrase from a file, or from the terminal
// without echo.
func readPhrase(file string) (string, error) {
	if file != "" {
		b, err := chaindir.ReadFileMax(file, 4<<10, nil)
		if err != nil {
			return "", fmt.Errorf("--phrase-file: %w", err)
		}
		return string(b), nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil || !term.IsTerminal(int(tty.Fd())) {
		return "", errors.New("no terminal to read the recovery phrase from: give --phrase-file FILE")
	}
	defer tty.Close()
	io.WriteString(tty, "recovery phrase (24 words): ")
	b, err := term.ReadPassword(int(tty.Fd()))
	io.WriteString(tty, "\n")
	return string(b), err
}
