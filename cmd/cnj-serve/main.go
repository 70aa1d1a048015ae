// Command cnj-serve is a node's web app: the JSON API on Esplora's paths,
// the chain download for cnj-sync, Prometheus metrics, explorer pages and
// the installer, read-only over the chain directory.
package main

import (
	"context"
	"fmt"
	"log"
	"math"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/coniunctum/cnj/lib/cli"
	"github.com/coniunctum/cnj/lib/web"
)

// defaultPort is the web app's port (DESIGN.md).
const defaultPort = "56230"

type flags struct {
	cli.Common
	cli.ChainFlag
	Listen string  `help:"Address to listen on; an IP without a port means port 56230." default:":56230" placeholder:"IP:PORT"`
	Bin    string  `help:"Directory whose cnj-* files /install.sh and /bin/ serve (default: the directory of this executable)." placeholder:"DIR"`
	Man    string  `help:"Directory whose cnj-*.N pages, in manN/ or in it, /install.sh and /man/ serve (default: BIN/../share/man, else BIN/../man)." placeholder:"DIR"`
	Rate   float64 `help:"Requests a second each client IP may make, bursts of five times that; 0 for no limit." default:"20" placeholder:"N"`
}

func main() {
	os.Exit(cli.Main("cnj-serve", "Serve the chain directory over HTTP: JSON API, chain download, metrics, explorer, installer.", &flags{}, run))
}

// listenAddr adds the default port to an address without one.
func listenAddr(a string) string {
	if _, _, err := net.SplitHostPort(a); err == nil {
		return a
	}
	if len(a) > 1 && a[0] == '[' && a[len(a)-1] == ']' {
		a = a[1 : len(a)-1]
	}
	return net.JoinHostPort(a, defaultPort)
}

func run(f *flags, s cli.Streams) error {
	if f.Rate < 0 || math.IsNaN(f.Rate) || math.IsInf(f.Rate, 0) {
		return cli.Usagef("--rate: %v is not a number of requests a second", f.Rate)
	}
	bin := f.Bin
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding the binaries: %w: use --bin", err)
		}
		bin = filepath.Dir(exe)
	}
	if fi, err := os.Stat(bin); err != nil || !fi.IsDir() {
		return fmt.Errorf("--bin: %s is not a directory", bin)
	}
	man := f.Man
	if man == "" {
		man = manDir(bin)
	} else if fi, err := os.Stat(man); err != nil || !fi.IsDir() {
		return fmt.Errorf("--man: %s is not a directory", man)
	}
	dir := f.Dir()
	srv, err := web.New(web.Config{
		Chain:  dir,
		BinDir: bin,
		ManDir: man,
		Rate:   f.Rate,
		Burst:  int(math.Ceil(5 * f.Rate)),
		Log:    log.New(s.Err, "cnj-serve: ", 0),
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", listenAddr(f.Listen))
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	fmt.Fprintf(s.Err, "cnj-serve: serving %s on http://%s\n", dir, ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return srv.Serve(ctx, ln)
}

// manDir is where the pages of the commands in bin are: share/man beside
// bin (make install, install.sh), else man beside it (a checkout, whose
// make puts the commands in bin); "" when neither is a directory.
func manDir(bin string) string {
	for _, d := range []string{filepath.Join(bin, "..", "share", "man"), filepath.Join(bin, "..", "man")} {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	return ""
}
