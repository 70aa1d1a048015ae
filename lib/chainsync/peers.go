package chainsync

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// The network's default ports (DESIGN.md, "Network"): HOST without a port
// means one of them.
const (
	WebPort   = 56230 // cnj-serve: the web app, the API cnj-sync asks
	RelayPort = 5050  // cnj-relay: what the peers file names
)

// MaxPeers bounds how many peers Sync writes into the peers file; the
// entries already there are always kept.
const MaxPeers = 64

// HostPort returns s, HOST or HOST:PORT, as HOST:PORT with defPort when s
// has no port. HOST is an IP address (IPv6 in brackets when a port
// follows) or a DNS name; IP addresses are written in their canonical form
// and names in lowercase, so that equal peers compare equal.
func HostPort(s string, defPort int) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		// No port: a name, an IPv4 address, or an IPv6 address, bare or
		// in brackets; checkHost refuses anything else.
		host, port = s, strconv.Itoa(defPort)
		if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
			host = s[1 : len(s)-1]
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || port[0] == '0' || port[0] == '+' {
		return "", fmt.Errorf("%q: port %q is not a number from 1 to 65535", s, port)
	}
	h, err := checkHost(host)
	if err != nil {
		return "", fmt.Errorf("%q: %w", s, err)
	}
	return net.JoinHostPort(h, port), nil
}

// checkHost returns host in canonical form, or why it is not a host.
func checkHost(host string) (string, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" || a.IsUnspecified() || a.IsMulticast() {
			return "", fmt.Errorf("%s is not a peer's address", host)
		}
		return a.Unmap().String(), nil
	}
	host = strings.ToLower(host)
	if host == "" || len(host) > 253 {
		return "", errors.New("host name of bad length")
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", fmt.Errorf("%q is not a host name", host)
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return "", fmt.Errorf("%q is not a host name", host)
			}
		}
	}
	return host, nil
}

// WebAddr returns the address of the web app of the node that a peers
// file entry names. An entry is HOST or HOST:PORT where PORT is the node's
// relay port (cnj-relay writes the file); the web app is on the same host
// at webPort.
func WebAddr(entry string, webPort int) (string, error) {
	hp, err := HostPort(entry, RelayPort)
	if err != nil {
		return "", err
	}
	host, _, _ := net.SplitHostPort(hp)
	return net.JoinHostPort(host, strconv.Itoa(webPort)), nil
}

// RelayAddr returns the relay address of the node whose web app is at
// web (HOST:PORT): the same host at RelayPort.
func RelayAddr(web string) string {
	host, _, err := net.SplitHostPort(web)
	if err != nil {
		host = web
	}
	return net.JoinHostPort(host, strconv.Itoa(RelayPort))
}

// ReadPeersFile reads a peers file: one HOST[:PORT] a line, blank lines
// and lines starting with "#" ignored. A missing file is an empty list.
func ReadPeersFile(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		hp, err := HostPort(line, RelayPort)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		out = append(out, hp)
	}
	return out, nil
}

// mergePeers returns have followed by the entries of learned that it does
// not hold yet, in order, up to max entries in all (have is kept whole
// even when longer), and the entries added.
func mergePeers(have, learned []string, max int) (merged, added []string) {
	seen := make(map[string]bool, len(have)+len(learned))
	for _, p := range have {
		if hp, err := HostPort(p, RelayPort); err == nil {
			seen[hp] = true
		}
		seen[p] = true
		merged = append(merged, p)
	}
	for _, p := range learned {
		if len(merged) >= max {
			break
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		merged = append(merged, p)
		added = append(added, p)
	}
	return merged, added
}
