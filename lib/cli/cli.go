// Package cli is the wiring every cnj command shares: kong parsing, the
// version flag, the chain directory flag, the one-line error format and exit
// codes (0 success, 1 failure, 2 usage), and terminal detection for progress.
//
// A command's main is one line:
//
//	func main() { os.Exit(cli.Main("cnj-sign", "signs transfers", &flags{}, run)) }
//
// where run receives the parsed flags and the process's streams. Commands
// return errors; cli prints them as "cnj-NAME: what went wrong: why".
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"
	"golang.org/x/term"

	"github.com/coniunctum/cnj/lib/hostport"
)

// Version is the toolkit version, set at build time with
// -ldflags "-X github.com/coniunctum/cnj/lib/cli.Version=...".
var Version = "dev"

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
	// ExitBusy: another process holds a lock the command needs and it did
	// nothing; try again later (EX_TEMPFAIL of sysexits.h, which cron
	// wrappers know).
	ExitBusy = 75
)

// Streams are a command's standard streams.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// Common holds the flags every command has.
type Common struct {
	Version kong.VersionFlag `help:"Print the version and exit."`
}

// ChainFlag is the --chain flag with its CNJ_CHAIN variable.
type ChainFlag struct {
	Chain string `help:"Chain directory (default: $XDG_DATA_HOME/coniunctum/chain)." env:"CNJ_CHAIN" placeholder:"DIR"`
}

// Dir returns the chain directory: the flag, CNJ_CHAIN, or the default under
// $XDG_DATA_HOME (or ~/.local/share).
func (c ChainFlag) Dir() string {
	if c.Chain != "" {
		return c.Chain
	}
	return DefaultChainDir()
}

// DefaultChainDir is $XDG_DATA_HOME/coniunctum/chain.
func DefaultChainDir() string {
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "coniunctum", "chain")
}

// WebPort is the port of the peers' web apps: $CNJ_WEB_PORT, or
// hostport.WebPort when it is unset. A value that is not a port is a
// usage error.
func WebPort() (int, error) {
	s := os.Getenv("CNJ_WEB_PORT")
	if s == "" {
		return hostport.WebPort, nil
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, Usagef("CNJ_WEB_PORT: %q is not a port", s)
	}
	return p, nil
}

// ExitError makes Main exit with Code. With a nil Err nothing is printed:
// the command already said what it had to (cnj-verify's rejects).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Usagef returns an error that exits 2 with the message.
func Usagef(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

type exitPanic int

// Commander is implemented by the flags of commands with subcommands; Run
// tells them which one was chosen (kong's path, e.g. "balance <address>").
type Commander interface{ SetCommand(string) }

// Main parses os.Args into flags and calls run with the process streams.
func Main[F any](name, description string, flags *F, run func(*F, Streams) error) int {
	return Run(name, description, flags, os.Args[1:], Streams{os.Stdin, os.Stdout, os.Stderr}, run)
}

// Run is Main with explicit arguments and streams, for tests.
func Run[F any](name, description string, flags *F, args []string, s Streams, run func(*F, Streams) error) (code int) {
	defer func() {
		if r := recover(); r != nil {
			if c, ok := r.(exitPanic); ok {
				code = int(c)
				return
			}
			panic(r)
		}
	}()
	parser, err := kong.New(flags,
		kong.Name(name),
		kong.Description(description),
		kong.Vars{"version": name + " " + Version},
		kong.Writers(s.Out, s.Err),
		kong.Exit(func(c int) { panic(exitPanic(c)) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, NoExpandSubcommands: false}),
	)
	if err != nil {
		fmt.Fprintf(s.Err, "%s: %v\n", name, err)
		return ExitFailure
	}
	kctx, err := parser.Parse(args)
	if err == nil {
		if c, ok := any(flags).(Commander); ok {
			c.SetCommand(kctx.Command())
		}
	}
	if err != nil {
		fmt.Fprintf(s.Err, "%s: %s\n", name, oneLine(err.Error()))
		fmt.Fprintf(s.Err, "%s: try '%s --help'\n", name, name)
		return ExitUsage
	}
	if err := run(flags, s); err != nil {
		var ee *ExitError
		if errors.As(err, &ee) {
			if ee.Err != nil {
				fmt.Fprintf(s.Err, "%s: %s\n", name, oneLine(ee.Err.Error()))
			}
			return ee.Code
		}
		fmt.Fprintf(s.Err, "%s: %s\n", name, oneLine(err.Error()))
		return ExitFailure
	}
	return ExitOK
}

// oneLine keeps an error to one line whatever a library put in it.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// IsTerminal reports whether w is a terminal (progress and prompts go only
// to terminals).
func IsTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
