package relay

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"net/netip"
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
