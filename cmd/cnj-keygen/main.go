// Command cnj-keygen makes an Ed25519 key in an age passphrase file and
// prints its wallet address.
package main

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"strconv"

	"github.com/coniunctum/cnj/internal/wallet"
	"github.com/coniunctum/cnj/lib/cli"
	"github.com/coniunctum/cnj/lib/keys"
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
	p, err := wallet.Network(f.Network, f.Dir())
	if err != nil {
		return err
	}
	if f.Show != "" {
		priv, err := wallet.OpenKey(f.Show, f.PassphraseFile)
		if err != nil {
			return err
		}
		_, err = s.Out.Write(wallet.KeyLine(p, priv.Public().(ed25519.PublicKey)))
		return err
	}
	if _, err := os.Lstat(f.Output); err == nil {
		return fmt.Errorf("%s: file exists, not overwriting it", f.Output)
	}
	wf, err := workFactor()
	if err != nil {
		return err
	}
	pass, err := wallet.Passphrase(f.PassphraseFile, true)
	if err != nil {
		return err
	}
	priv, err := keys.Generate()
	if err != nil {
		return err
	}
	if err := keys.WriteKeyFile(f.Output, priv, pass, wf); err != nil {
		return err
	}
	_, err = s.Out.Write(wallet.KeyLine(p, priv.Public().(ed25519.PublicKey)))
	return err
}

// workFactor reads CNJ_SCRYPT_WORK_FACTOR: a lower scrypt cost for tests
// and slow machines (each step down halves the work an attacker needs per
// guess, so the default is for keys that hold money). Unset is 0, the
// default.
func workFactor() (int, error) {
	v := os.Getenv("CNJ_SCRYPT_WORK_FACTOR")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 10 || n > keys.DefaultMaxWorkFactor {
		return 0, fmt.Errorf("CNJ_SCRYPT_WORK_FACTOR=%s: want a whole number from 10 to %d", v, keys.DefaultMaxWorkFactor)
	}
	return n, nil
}
