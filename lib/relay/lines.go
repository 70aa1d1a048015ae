package relay

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// errTooLong is a line longer than the reader's cap.
var errTooLong = errors.New("line too long")

// readLine returns the next line of r without its newline, in a new slice,
// or errTooLong as soon as more than max bytes came without a newline (the
// rest of that line is left unread). A last line without newline is io.EOF.
// It takes what has arrived rather than waiting to fill r's buffer, so an
// over-long line is noticed at once.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	line := []byte{}
	for {
		if _, err := r.Peek(1); err != nil {
			return nil, err
		}
		buf, _ := r.Peek(r.Buffered())
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			if len(line)+i > max {
				return nil, errTooLong
			}
			line = append(line, buf[:i]...)
			r.Discard(i + 1)
			return line, nil
		}
		if len(line)+len(buf) > max {
			return nil, errTooLong
		}
		line = append(line, buf...)
		r.Discard(len(buf))
	}
}

// HostPort returns a peer address as HOST:PORT, with DefaultPort when addr
// has none; an IP address is written in its canonical form ("[::1]:5050",
// an IPv4-mapped address as IPv4), a host name in lowercase.
func HostPort(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return "", errors.New("empty address")
	}
	if a, err := netip.ParseAddr(strings.Trim(addr, "[]")); err == nil && a.Zone() == "" {
		return netip.AddrPortFrom(a.Unmap(), DefaultPort).String(), nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		if strings.Contains(addr, ":") {
			return "", fmt.Errorf("%q is not HOST[:PORT]", addr)
		}
		host, port = addr, strconv.Itoa(DefaultPort)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return "", fmt.Errorf("%q: port %q is not 1-65535", addr, port)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return "", fmt.Errorf("%q: an address with a zone", addr)
		}
		return netip.AddrPortFrom(a.Unmap(), uint16(n)).String(), nil
	}
	if !hostName(host) {
		return "", fmt.Errorf("%q is not HOST[:PORT]", addr)
	}
	return net.JoinHostPort(strings.ToLower(host), strconv.FormatUint(n, 10)), nil
}

// hostName reports whether s can be a DNS name: letters, digits, '-',
// '_' and '.', at most 253 bytes.
func hostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// remoteIP is the IP address of a connection's other end, IPv4 unmapped.
func remoteIP(c net.Conn) netip.Addr {
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	return netip.Addr{}
}

// localAddrPort is the local address of a connection, IPv4 unmapped.
func localAddrPort(c net.Conn) netip.AddrPort {
	ap, _ := netip.ParseAddrPort(c.LocalAddr().String())
	return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port())
}

// human writes a duration for a log line: "1m" rather than "1m0s".
func human(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
