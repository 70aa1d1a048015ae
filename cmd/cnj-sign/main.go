// Command cnj-sign signs transfers with a key file and prints signed
// transaction lines, refusing what the chain could not accept.
package main

import (
	"os"

	"github.com/coniunctum/cnj/internal/sign"
	"github.com/coniunctum/cnj/lib/cli"
)

type flags struct {
	cli.Common
	cli.ChainFlag
	Key            string `short:"k" required:"" help:"Key file to sign with." placeholder:"FILE"`
	PassphraseFile string `help:"Read the passphrase from the first line of F instead of the terminal." placeholder:"F"`
	Genesis        string `help:"Sign for the network of this genesis file; no chain directory is read (no balance check)." placeholder:"FILE"`
	To             string `help:"Receiver's address; without it, intents are read from stdin." placeholder:"ADDR"`
	Amount         string `help:"Amount in CNJ, e.g. 1.5 (with --to)." placeholder:"CNJ"`
	Fee            string `help:"Fee in CNJ (default: the network's minimum)." placeholder:"CNJ"`
}

func main() {
	os.Exit(cli.Main("cnj-sign", "Sign transfers and print signed transaction lines.", &flags{}, run))
}

func run(f *flags, s cli.Streams) error {
	if f.To == "" && f.Amount != "" {
		return cli.Usagef("--amount needs --to (or give intents on stdin)")
	}
	if f.To != "" && f.Amount == "" {
		return cli.Usagef("--to needs --amount")
	}
	opts := sign.Options{KeyFile: f.Key, PassphraseFile: f.PassphraseFile, Genesis: f.Genesis, Chain: f.Dir()}
	var intents []sign.Intent
	if f.To != "" {
		in, err := sign.FlagIntent(f.To, f.Amount, f.Fee)
		if err != nil {
			return cli.Usagef("%v", err)
		}
		intents = []sign.Intent{in}
	} else {
		var err error
		if intents, err = sign.ReadIntents(s.In, f.Fee); err != nil {
			return err
		}
	}
	return sign.Run(opts, intents, s.Out)
}
