// Command cnj-keygen makes an Ed25519 key in an age passphrase file and
// prints its wallet address.
package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/coniunctum/cnj/internal/wallet"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/cli"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
)

type flags struct {
	cli.Common
	cli.ChainFlag
	Output         string `short:"o" help:"Write a new key to FILE (never overwritten)." placeholder:"FILE" xor:"mode" required:""`
	Show           string `short:"y" help:"Print the address of the existing key in FILE." placeholder:"FILE" xor:"mode" required:""`
	PassphraseFile string `help:"Read the passphrase from the first line of F instead of the terminal." placeholder:"F"`
	Network        string `help:"Print the address for this built-in network instead of the chain's." placeholder:"NAME"`
}

func main() {
	os.Exit(cli.Main("cnj-keygen", "Make a key pair in an encrypted key file and print its address.", &flags{}, run))
}

func run(f *flags, s cli.Streams) error {
	p, note, err := network(f)
	if err != nil {
		return err
	}
	// The key line, and once before it what network it is for when no one
	// chose it.
	emit := func(pub ed25519.PublicKey) error {
		if note != "" {
			fmt.Fprintln(s.Err, "cnj-keygen: "+note)
		}
		_, err := s.Out.Write(wallet.KeyLine(p, pub))
		return err
	}
	if f.Show != "" {
		priv, err := wallet.OpenKey(f.Show, f.PassphraseFile)
		if err != nil {
			return named(f, err)
		}
		return emit(priv.Public().(ed25519.PublicKey))
	}
	if _, err := os.Lstat(f.Output); err == nil {
		return fmt.Errorf("%s: file exists, not overwriting it", f.Output)
	}
	wf, err := wallet.WorkFactor(os.Getenv("CNJ_SCRYPT_WORK_FACTOR"))
	if err != nil {
		return err
	}
	pass, err := wallet.Passphrase(f.PassphraseFile, true)
	if err != nil {
		return named(f, err)
	}
	priv, err := keys.Generate()
	if err != nil {
		return err
	}
	if err := keys.WriteKeyFile(f.Output, priv, pass, wf); err != nil {
		return named(f, err)
	}
	return emit(priv.Public().(ed25519.PublicKey))
}

// network picks the network the address is printed for, so that no address
// is ever for a network the user did not choose: --network; else the chain
// directory that --chain or CNJ_CHAIN names, which must be one; else the
// default chain directory when it is one; else main, with a note that
// says so.
func network(f *flags) (p *params.Params, note string, err error) {
	if f.Network != "" {
		p, err := wallet.Network(f.Network, "")
		return p, "", err
	}
	if f.Chain != "" {
		p, err := chaindir.Dir(f.Chain).ReadGenesis()
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, "", fmt.Errorf("%s is not a chain directory: no %s (named by --chain or CNJ_CHAIN; for a main-network address unset both, or use --network main)", f.Chain, chaindir.GenesisFile)
		}
		return p, "", err
	}
	dir := cli.DefaultChainDir()
	p, err = chaindir.Dir(dir).ReadGenesis()
	if errors.Is(err, fs.ErrNotExist) {
		return params.Main(), "no chain directory at " + dir + ": the address is for main (--chain DIR for another network)", nil
	}
	return p, "", err
}

// named puts the flag before the error of a file it names, in place of the
// system call ("-y k.key: no such file or directory", not "stat k.key: ...").
func named(f *flags, err error) error {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return err
	}
	for _, c := range []struct{ flag, path string }{{"-y", f.Show}, {"-o", f.Output}, {"--passphrase-file", f.PassphraseFile}} {
		if c.path != "" && pe.Path == c.path {
			return fmt.Errorf("%s %s: %w", c.flag, c.path, pe.Err)
		}
	}
	return err
}
