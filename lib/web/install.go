package web

import (
	"errors"
	"io/fs"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// binDir is the directory the binaries are served from, opened as an
// os.Root: a name is looked up inside it and nowhere else.
type binDir struct {
	root *os.Root
}

func openBinDir(dir string) (*binDir, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &binDir{root: root}, nil
}

func (b *binDir) close() error { return b.root.Close() }

// binName reports whether name may be served: cnj- and then lowercase
// letters, digits and dashes (no dot, no slash: no key file, no path).
func binName(name string) bool {
	rest, ok := strings.CutPrefix(name, "cnj-")
	if !ok || rest == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// servable reports whether fi is a file to hand out: regular and
// executable (a key file, 0600, never is).
func servable(fi fs.FileInfo) bool {
	return fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// errNoBinary is a name that is not served.
var errNoBinary = &notFoundError{"no such binary"}

// open returns the binary name, open, with its FileInfo.
func (b *binDir) open(name string) (*os.File, fs.FileInfo, error) {
	if !binName(name) {
		return nil, nil, errNoBinary
	}
	f, err := b.root.Open(name)
	if err != nil {
		return nil, nil, errNoBinary
	}
	fi, err := f.Stat()
	if err != nil || !servable(fi) {
		f.Close()
		return nil, nil, errNoBinary
	}
	return f, fi, nil
}

// list returns the names of the binaries served, sorted.
func (b *binDir) list() ([]string, error) {
	d, err := b.root.Open(".")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	ents, err := d.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if !binName(e.Name()) {
			continue
		}
		if fi, err := b.root.Stat(e.Name()); err == nil && servable(fi) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// minDownloadRate is the slowest a binary download may go (bytes a second)
// before its write deadline cuts it.
const minDownloadRate = 16 << 10

func (s *Server) binary(w http.ResponseWriter, r *http.Request) {
	if s.bin == nil {
		s.fail(w, r, errNoBinary)
		return
	}
	f, fi, err := s.bin.open(r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer f.Close()
	d := s.cfg.WriteTimeout + time.Duration(fi.Size()/minDownloadRate)*time.Second
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(min(d, s.cfg.DownloadTimeout)))
	h := w.Header()
	h["Content-Type"] = []string{"application/octet-stream"}
	h["X-Content-Type-Options"] = hdrNosniff
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}

// sourceURL is the address the installer records as the source node: the
// Host the client asked for when it is a plain HOST[:PORT], else the
// address the client reached.
func sourceURL(r *http.Request) string {
	if validHost(r.Host) {
		return "http://" + r.Host
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ap, err := netipAddrPort(a.String()); err == nil {
			return "http://" + ap
		}
	}
	return "http://localhost:56230"
}

// netipAddrPort checks that s is IP:PORT and returns it as a URL host.
func netipAddrPort(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", err
	}
	if net.ParseIP(host) == nil {
		return "", errors.New("not an IP")
	}
	return net.JoinHostPort(host, port), nil
}

// validHost reports whether h is a DNS name, an IPv4 address or a
// bracketed IPv6 address, with an optional port: nothing a shell or a URL
// would read as more than a host.
func validHost(h string) bool {
	host, port := h, ""
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		host, port = h[:i], h[i+1:]
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 || port[0] == '0' {
			return false
		}
	}
	if host == "" || len(host) > 253 {
		return false
	}
	if strings.HasPrefix(host, "[") {
		if !strings.HasSuffix(host, "]") {
			return false
		}
		ip := net.ParseIP(host[1 : len(host)-1])
		return ip != nil && ip.To4() == nil
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// installScript answers /install.sh: a POSIX sh script that downloads the
// binaries this node serves into ${PREFIX:-$HOME/.local}/bin and records
// this node as the source node in $XDG_CONFIG_HOME/coniunctum/source.
func (s *Server) installScript(w http.ResponseWriter, r *http.Request) {
	var names []string
	if s.bin != nil {
		var err error
		if names, err = s.bin.list(); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if len(names) == 0 {
		s.fail(w, r, &notFoundError{"this node serves no binaries"})
		return
	}
	src := sourceURL(r)
	var b strings.Builder
	b.WriteString(`#!/bin/sh
# Coniunctum installer. It downloads the commands of the node it came from
# into ${PREFIX:-$HOME/.local}/bin and records that node as this machine's
# source node in ${XDG_CONFIG_HOME:-$HOME/.config}/coniunctum/source.
#   curl -fsS ` + src + `/install.sh | sh
set -eu
source_node='` + src + `'
bindir="${PREFIX:-$HOME/.local}/bin"
confdir="${XDG_CONFIG_HOME:-$HOME/.config}/coniunctum"
fetch() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsS -o "$2" "$1"
	elif command -v wget >/dev/null 2>&1; then
		wget -q -O "$2" "$1"
	else
		echo "install.sh: neither curl nor wget is installed" >&2
		exit 1
	fi
}
mkdir -p "$bindir" "$confdir"
trap 'rm -f "$bindir"/.cnj-*.part' EXIT
for name in`)
	for _, n := range names {
		b.WriteString(" " + n)
	}
	b.WriteString(`; do
	fetch "$source_node/bin/$name" "$bindir/.$name.part"
	chmod 0755 "$bindir/.$name.part"
	mv -f "$bindir/.$name.part" "$bindir/$name"
done
printf '%s\n' "$source_node" > "$confdir/source.part"
mv -f "$confdir/source.part" "$confdir/source"
echo "install.sh: installed ` + strconv.Itoa(len(names)) + ` commands into $bindir; source node $source_node" >&2
case ":$PATH:" in
*":$bindir:"*) ;;
*) echo "install.sh: add $bindir to PATH" >&2 ;;
esac
`)
	h := w.Header()
	h["Cache-Control"] = hdrNoStore
	write(w, []string{"text/x-shellscript; charset=utf-8"}, []byte(b.String()))
}
