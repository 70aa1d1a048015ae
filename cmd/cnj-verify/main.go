// Command cnj-verify is the validator's filter: it reads transaction and
// block lines, passes the valid ones to stdout unchanged, keeps them in the
// chain directory, and logs every reject with its reason code.
package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/coniunctum/cnj/internal/verify"
	"github.com/coniunctum/cnj/lib/cli"
	"github.com/coniunctum/cnj/lib/node"
)

type flags struct {
	cli.Common
	cli.ChainFlag
	DryRun bool `help:"Check lines against the chain but change nothing: no chain, mempool or rejects.log writes."`
}

func main() {
	cli.OneThread()
	os.Exit(cli.Main("cnj-verify", "Pass valid transaction and block lines through; keep them; log rejects.", &flags{}, run))
}

func run(f *flags, s cli.Streams) error {
	n, err := node.Open(f.Dir())
	if err != nil {
		return err
	}
	defer n.Close()
	in, restore := cli.PollIn(s.In)
	defer restore()
	out := bufio.NewWriterSize(s.Out, 64<<10)
	rejected := 0
	err = verify.Stream(n, in, f.DryRun, func(it node.Item, v node.Verdict) error {
		switch {
		case v.Known, v.Held:
			return nil
		case v.Err != nil:
			rejected++
			fmt.Fprintf(s.Err, "cnj-verify: line %d: %v\n", it.Number, v.Err)
			if f.DryRun {
				return nil
			}
			return n.LogReject(it, v.Err)
		}
		out.Write(it.Line.Raw)
		return out.WriteByte('\n')
	}, out.Flush)
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	if rejected > 0 {
		return &cli.ExitError{Code: cli.ExitFailure}
	}
	return nil
}
