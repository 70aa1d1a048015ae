// Package hostport is the one reader of peer addresses: HOST or HOST:PORT
// as the commands' flags (--to, --from, --self, --remote, --listen) and
// the chain directory's peers file give them, and the network's two
// default ports. Every command reads an address with Parse, so that an
// address means the same to all of them and equal peers compare equal.
package hostport

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// The network's default ports (DESIGN.md, "Network"): HOST without a port
// means one of them.
const (
	RelayPort = 5050  // cnj-relay: what the peers file names
	WebPort   = 56230 // cnj-serve: the web app, the API cnj-sync asks
)

// Parse returns s, HOST or HOST:PORT, as HOST:PORT with defPort when s
// has no port. HOST is an IP address (IPv6 in brackets when a port
// follows) or a DNS name; IP addresses are written in their canonical form
// and names in lowercase, so that equal peers compare equal.
func Parse(s string, defPort int) (string, error) {
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
		return "", fmt.Errorf("%q is not HOST[:PORT]: %w", s, err)
	}
	return net.JoinHostPort(h, port), nil
}

// checkHost returns host in canonical form, or why it is not a host.
func checkHost(host string) (string, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" || a.IsUnspecified() || a.IsMulticast() {
			return "", errors.New("not an address a peer can have")
		}
		return a.Unmap().String(), nil
	}
	host = strings.ToLower(host)
	if host == "" || len(host) > 253 {
		return "", errors.New("an empty host, or a name over 253 bytes")
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", errors.New("not an IP address or a host name")
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return "", errors.New("not an IP address or a host name")
			}
		}
	}
	return host, nil
}

// Web returns the address of the web app of the node whose relay is at
// relay (HOST or HOST:PORT, as the peers file names it): the same host at
// webPort.
func Web(relay string, webPort int) (string, error) {
	hp, err := Parse(relay, RelayPort)
	if err != nil {
		return "", err
	}
	host, _, _ := net.SplitHostPort(hp)
	return net.JoinHostPort(host, strconv.Itoa(webPort)), nil
}

// Relay returns the relay address of the node whose web app is at web
// (HOST:PORT): the same host at RelayPort.
func Relay(web string) string {
	host, _, err := net.SplitHostPort(web)
	if err != nil {
		host = web
	}
	return net.JoinHostPort(host, strconv.Itoa(RelayPort))
}
