package web

import (
	"errors"
	"io/fs"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// minDownloadRate is the slowest a download of the toolkit may go (bytes
// a second) before its write deadline cuts it.
const minDownloadRate = 16 << 10

// binary answers /bin/NAME: a binary of the binaries directory.
func (s *Server) binary(w http.ResponseWriter, r *http.Request) {
	if s.bin == nil {
		s.fail(w, r, errNoBinary)
		return
	}
	s.serveFile(w, r, "application/octet-stream", s.bin.open)
}

// page answers /man/NAME.N: a page of the man directory.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	if s.man == nil {
		s.fail(w, r, errNoPage)
		return
	}
	s.serveFile(w, r, "text/troff; charset=utf-8", s.man.open)
}

// serveFile answers with the file that open returns for the path's name,
// as ct, with ranges, and a write deadline extended for its size.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, ct string, open func(string) (*os.File, fs.FileInfo, error)) {
	f, fi, err := open(r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer f.Close()
	d := s.cfg.WriteTimeout + time.Duration(fi.Size()/minDownloadRate)*time.Second
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(min(d, s.cfg.DownloadTimeout)))
	h := w.Header()
	h["Content-Type"] = []string{ct}
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

// toolkitFiles is what /SHA256SUMS covers: the binaries as bin/NAME, the
// pages as man/NAME.N.
func (s *Server) toolkitFiles(bins, pages []string) []toolkitFile {
	var files []toolkitFile
	for _, n := range bins {
		files = append(files, toolkitFile{path: "bin/" + n, open: func() (*os.File, fs.FileInfo, error) { return s.bin.open(n) }})
	}
	for _, n := range pages {
		files = append(files, toolkitFile{path: "man/" + n, open: func() (*os.File, fs.FileInfo, error) { return s.man.open(n) }})
	}
	return files
}

// checksums answers /SHA256SUMS: the SHA-256 of every file the installer
// installs, as sha256sum(1) prints them, paths relative to the web app's
// root.
func (s *Server) checksums(w http.ResponseWriter, r *http.Request) {
	bins, pages, err := s.toolkit()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body := s.sums.lines(s.toolkitFiles(bins, pages))
	w.Header()["Cache-Control"] = hdrNoStore
	write(w, []string{"text/plain; charset=utf-8"}, body)
}

// installScript answers /install.sh: a POSIX sh script that installs the
// toolkit this node serves (installScriptText) and records this node as
// the source node.
func (s *Server) installScript(w http.ResponseWriter, r *http.Request) {
	bins, pages, err := s.toolkit()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b strings.Builder
	// Every value is safe inside single quotes: names are of binName and
	// pageName, the source of validHost, the platform of the Go runtime.
	err = installTmpl.Execute(&b, map[string]string{
		"Source":   sourceURL(r),
		"Platform": runtime.GOOS + "/" + runtime.GOARCH,
		"Bins":     strings.Join(bins, " "),
		"Pages":    strings.Join(pages, " "),
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header()["Cache-Control"] = hdrNoStore
	write(w, []string{"text/x-shellscript; charset=utf-8"}, []byte(b.String()))
}

var installTmpl = template.Must(template.New("install.sh").Parse(installScriptText))

// installScriptText is the installer; cnj-serve(1) says what it does.
const installScriptText = `#!/bin/sh
# Coniunctum installer of the node at {{.Source}}.
#
# It installs the toolkit this node serves (its commands, its role scripts
# and their manual pages) into ${PREFIX:-$HOME/.local}/bin and
# ${PREFIX:-$HOME/.local}/share/man, and records this node as the source
# node in ${XDG_CONFIG_HOME:-$HOME/.config}/coniunctum/source. With a
# role other than wallet, it also fetches the whole chain from this node.
#
#   curl -fsS {{.Source}}/install.sh | sh
#   curl -fsS {{.Source}}/install.sh | sh -s -- --role fullnode
#
# Every file is checked against {{.Source}}/SHA256SUMS before anything is
# installed, and a run that fails leaves the previous install as it was.
# The checksums come from this same node: they catch a download that is
# broken or cut short, not a node that lies (cnj-serve(1)).
#
# The script is functions and one call on its last line: a download of it
# that is cut short runs nothing.
set -eu

source_node='{{.Source}}'
node_platform='{{.Platform}}'
bins='{{.Bins}}'
pages='{{.Pages}}'

usage_text() {
	echo "usage: install.sh [--role wallet | validator | miner | fullnode]"
	echo "                  [--ip IP] [--address ADDR] [--systemd]"
	echo "       install.sh --help"
}

help() {
	usage_text
	echo
	echo "Install the Coniunctum toolkit of $source_node and make that node"
	echo "this machine's source node; for a validator, miner or fullnode, also"
	echo "fetch the whole chain from it and say what starts the role."
	echo
	echo "Options:"
	echo "  --role ROLE     wallet (the default), validator, miner or fullnode."
	echo "  --ip IP         The node's own IPv4 address, for the start command."
	echo "  --address ADDR  The address a miner's or fullnode's rewards go to."
	echo "  --systemd       Write a systemd user unit that starts the role."
	echo "  --help          Print this help and exit."
	echo
	echo "The toolkit goes to \$PREFIX/bin and \$PREFIX/share/man (PREFIX: ~/.local)."
}

usage() {
	echo "install.sh: $*" >&2
	usage_text >&2
	exit 2
}

die() {
	echo "install.sh: $*" >&2
	exit 1
}

say() {
	echo "install.sh: $*" >&2
}

# platform: this machine as OS/ARCH, in the Go names the node gives.
platform() {
	case $(uname -s) in
	Linux) p_os=linux ;;
	Darwin) p_os=darwin ;;
	FreeBSD) p_os=freebsd ;;
	OpenBSD) p_os=openbsd ;;
	NetBSD) p_os=netbsd ;;
	*) p_os=$(uname -s | tr '[:upper:]' '[:lower:]') ;;
	esac
	case $(uname -m) in
	x86_64 | amd64) p_arch=amd64 ;;
	aarch64 | arm64) p_arch=arm64 ;;
	i386 | i486 | i586 | i686) p_arch=386 ;;
	armv*) p_arch=arm ;;
	*) p_arch=$(uname -m) ;;
	esac
	echo "$p_os/$p_arch"
}

# fetch PATH FILE: GET the node's PATH into FILE.
fetch() {
	case $fetcher in
	curl) curl -fsS -o "$2" "$source_node/$1" </dev/null ;;
	wget) wget -q -O "$2" "$source_node/$1" </dev/null ;;
	esac || die "downloading $source_node/$1 failed; nothing was installed"
}

# sha256 FILE: prints the SHA-256 of FILE in hex.
sha256() {
	case $hasher in
	sha256sum) s_out=$(sha256sum "$1") ;;
	shasum) s_out=$(shasum -a 256 "$1") ;;
	esac
	echo "${s_out%% *}"
}

# check PATH: the file staged as PATH has the hash SHA256SUMS gives PATH.
check() {
	c_want=$(awk -v f="$1" '$2 == f { print $1; exit }' "$stage/SHA256SUMS")
	[ -n "$c_want" ] || die "$1 is not in $source_node/SHA256SUMS; nothing was installed"
	c_got=$(sha256 "$stage/$1")
	[ "$c_got" = "$c_want" ] ||
		die "$1: the download does not match $source_node/SHA256SUMS (sha256 $c_got, not $c_want); nothing was installed: run again"
}

main() {
	role=wallet ip='' addr='' systemd=false
	while [ $# -gt 0 ]; do
		case $1 in
		--role | --ip | --address)
			[ $# -ge 2 ] || usage "$1 needs a value"
			case $1 in
			--role) role=$2 ;;
			--ip) ip=$2 ;;
			*) addr=$2 ;;
			esac
			shift
			;;
		--role=*) role=${1#--role=} ;;
		--ip=*) ip=${1#--ip=} ;;
		--address=*) addr=${1#--address=} ;;
		--systemd) systemd=true ;;
		--help)
			help
			exit 0
			;;
		*) usage "unknown argument $1" ;;
		esac
		shift
	done
	case $role in validator | miner | fullnode | wallet) ;; *) usage "--role $role: wallet, validator, miner or fullnode" ;; esac
	case $ip in *[!0-9.]*) usage "--ip $ip: an IPv4 address, as 192.0.2.7" ;; esac
	case $addr in *[!0-9a-z]*) usage "--address $addr: an address, as cnj-wallet address prints it" ;; esac
	if $systemd; then
		[ "$role" != wallet ] || usage "--systemd: a wallet holder runs no service; give --role"
		[ -n "$ip" ] || usage "--systemd: the unit needs the node's own address: --ip IP"
		[ "$role" = validator ] || [ -n "$addr" ] || usage "--systemd: a $role's unit needs --address ADDR for its rewards"
	fi

	here=$(platform)
	[ "$here" = "$node_platform" ] ||
		die "this node serves commands for $node_platform, and this machine is $here ($(uname -s) $(uname -m)): they would not run here; nothing was installed: install from a node of this machine's platform, or build from source (make install)"
	if command -v curl >/dev/null 2>&1; then
		fetcher=curl
	elif command -v wget >/dev/null 2>&1; then
		fetcher=wget
	else
		die "neither curl nor wget is installed; nothing was installed"
	fi
	if command -v sha256sum >/dev/null 2>&1; then
		hasher=sha256sum
	elif command -v shasum >/dev/null 2>&1; then
		hasher=shasum
	else
		die "neither sha256sum nor shasum is installed, so nothing could be checked; nothing was installed"
	fi

	prefix=${PREFIX:-$HOME/.local}
	bindir=$prefix/bin
	mandir=$prefix/share/man
	confdir=${XDG_CONFIG_HOME:-$HOME/.config}/coniunctum

	# Everything is downloaded into a staging directory beside the
	# install and checked there; nothing is installed before all is.
	mkdir -p "$prefix"
	stage=$(mktemp -d "$prefix/.cnj-install.XXXXXX") || die "cannot make a staging directory in $prefix"
	trap 'rm -rf "$stage"' EXIT
	trap 'exit 1' INT TERM HUP
	mkdir "$stage/bin" "$stage/man"
	fetch SHA256SUMS "$stage/SHA256SUMS"
	nbins=0 npages=0
	for name in $bins; do
		fetch "bin/$name" "$stage/bin/$name"
		check "bin/$name"
		chmod 0755 "$stage/bin/$name"
		nbins=$((nbins + 1))
	done
	for page in $pages; do
		fetch "man/$page" "$stage/man/$page"
		check "man/$page"
		chmod 0644 "$stage/man/$page"
		npages=$((npages + 1))
	done
	printf '%s\n' "$source_node" >"$stage/source"
	mkdir -p "$bindir" "$confdir"
	for page in $pages; do
		mkdir -p "$mandir/man${page##*.}"
	done

	# All is here and checked: rename it into place, without letting a
	# signal cut the renames in the middle.
	trap '' INT TERM HUP
	for name in $bins; do
		mv -f "$stage/bin/$name" "$bindir/$name"
	done
	for page in $pages; do
		mv -f "$stage/man/$page" "$mandir/man${page##*.}/$page"
	done
	mv -f "$stage/source" "$confdir/source"
	trap 'exit 1' INT TERM HUP
	say "installed $nbins commands into $bindir and $npages manual pages into $mandir, each checked against SHA256SUMS; source node $source_node"
	case ":$PATH:" in
	*":$bindir:"*) ;;
	*) say "add $bindir to PATH" ;;
	esac

	if [ "$role" = wallet ]; then
		say "next: cnj-wallet init"
		return 0
	fi
	from=${source_node#http://}
	chain=${CNJ_CHAIN:-${XDG_DATA_HOME:-$HOME/.local/share}/coniunctum/chain}
	say "fetching the whole chain from $from into $chain"
	"$bindir/cnj-sync" --from="$from" --chain="$chain" </dev/null ||
		die "fetching the chain from $from failed (cnj-sync said why above); the toolkit is installed: run cnj-sync --from $from --chain $chain"
	start="cnj-$role start -c $chain -a ${ip:-IP}"
	[ "$role" = validator ] || start="$start -m ${addr:-ADDR}"
	if ! $systemd; then
		[ -n "$addr" ] || [ "$role" = validator ] || say "ADDR: the address of a key of yours (cnj-wallet init, then cnj-wallet address)"
		say "next: $start"
		return 0
	fi
	case $bindir in /*) ;; *) die "--systemd: $bindir is not an absolute path; the toolkit and the chain are installed" ;; esac
	case $bindir$chain in *[!A-Za-z0-9/._-]*) die "--systemd: $bindir or $chain has characters a unit file would need escaped; the toolkit and the chain are installed: start the role with $start" ;; esac
	unitdir=${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user
	unit=$unitdir/cnj-$role.service
	mkdir -p "$unitdir"
	{
		echo "# The Coniunctum $role installed from $source_node (cnj-$role(1))."
		echo "[Unit]"
		echo "Description=Coniunctum $role on $ip"
		echo "After=network-online.target"
		echo
		echo "[Service]"
		echo "# cnj-$role start starts the parts and returns; they run on in this unit."
		echo "Type=oneshot"
		echo "RemainAfterExit=yes"
		echo "Environment=PATH=$bindir:/usr/local/bin:/usr/bin:/bin"
		echo "ExecStart=$bindir/$start"
		echo "ExecStop=$bindir/cnj-$role stop -c $chain"
		echo
		echo "[Install]"
		echo "WantedBy=default.target"
	} >"$unit.part"
	mv -f "$unit.part" "$unit"
	say "wrote $unit; start it with: systemctl --user daemon-reload && systemctl --user enable --now cnj-$role"
}

main "$@"
`
