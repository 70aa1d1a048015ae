package wire

import (
	"encoding/hex"
	"net/netip"
	"strconv"

	"github.com/coniunctum/cnj/lib/jsonl"
	"github.com/coniunctum/cnj/lib/rule"
)

// Version is the relay protocol version this package speaks.
const Version = 1

// MaxHelloLine bounds a hello line; a real one is about 150 bytes.
const MaxHelloLine = 512

// Hello is the first line of a relay connection.
type Hello struct {
	Network [32]byte // genesis hash of the sender's network
	Version uint64   // protocol version, 1 or above
	// Address is where the sender listens, "IP:PORT" as netip.AddrPort
	// writes it ("127.0.0.2:5050", "[2001:db8::7]:5050").
	Address string
}

// Encode returns the hello line, without newline, fields in the order
// type, network, version, address. It does not check Address: a hello with
// an address that DecodeHello would refuse encodes to a line it refuses.
func (h *Hello) Encode() []byte {
	b := make([]byte, 0, 160)
	b = append(b, `{"type":"hello","network":"`...)
	b = hex.AppendEncode(b, h.Network[:])
	b = append(b, `","version":`...)
	b = strconv.AppendUint(b, h.Version, 10)
	b = append(b, `,"address":`...)
	b = strconv.AppendQuote(b, h.Address)
	return append(b, '}')
}

// DecodeHello reads a hello line strictly: exactly the four fields, a
// version of 1 or above, and an address that is a canonical IP:PORT
// without zone and with a port above 0. Every error is a *rule.Error.
func DecodeHello(line []byte) (*Hello, error) {
	o, typ, err := jsonl.ParseRecord(line, "hello", MaxHelloLine)
	if err != nil {
		return nil, err
	}
	if typ != "hello" {
		return nil, rule.Errorf(rule.BadType, "type %q where a hello was expected", typ)
	}
	h := &Hello{}
	if err := o.HexTo("network", h.Network[:]); err != nil {
		return nil, err
	}
	if h.Version, err = o.Uint("version"); err != nil {
		return nil, err
	}
	if h.Address, err = o.String("address"); err != nil {
		return nil, err
	}
	if err := o.Done(); err != nil {
		return nil, err
	}
	if h.Version == 0 {
		return nil, rule.Errorf(rule.BadField, "version 0")
	}
	if err := checkAddrPort(h.Address); err != nil {
		return nil, err
	}
	return h, nil
}

func checkAddrPort(s string) error {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return rule.Errorf(rule.BadField, "address is not IP:PORT")
	}
	switch {
	case ap.Addr().Zone() != "":
		return rule.Errorf(rule.BadField, "address has a zone")
	case ap.Port() == 0:
		return rule.Errorf(rule.BadField, "address has port 0")
	case ap.String() != s:
		return rule.Errorf(rule.BadField, "address %s is not written in its canonical form", ap)
	}
	return nil
}
