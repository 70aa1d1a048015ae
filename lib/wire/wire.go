package wire

import (
	"bytes"
	"net/netip"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/jsonl"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

// MaxPrefix is the room a line has for its sender tag: the longest IPv6
// address text (45 bytes, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255")
// and the space, rounded up.
const MaxPrefix = 64

// MaxLine is the longest line of network p, without its newline: a block
// line of p.MaxBlockBytes and its sender tag. Readers cut lines at this cap.
func MaxLine(p *params.Params) int { return int(p.MaxBlockBytes) + MaxPrefix }

// Line is one decoded tx or block line. Exactly one of Tx and Block is set.
type Line struct {
	// From is the address of the peer the line came from, or the zero
	// Addr when the line is bare JSON (read from a file or a wallet).
	From netip.Addr
	// Raw is the JSON text, without the tag: what cnj-verify writes to
	// stdout when the record is valid. It aliases the decoded line, but
	// for a block line with blanks between its tokens: then it is the
	// block's canonical line (block.JSON).
	Raw   []byte
	Tx    *tx.Tx
	Block *block.Block
}

// Decode reads one line (without its newline) of network p: an optional
// sender tag, then a transfer or a block. It checks the limits and the
// encoding, not the validity of the record. Every error is a *rule.Error.
func Decode(line []byte, p *params.Params) (*Line, error) {
	if len(line) > MaxLine(p) {
		return nil, rule.Errorf(rule.TooLarge, "line of %d bytes, limit %d", len(line), MaxLine(p))
	}
	from, raw, err := split(line)
	if err != nil {
		return nil, err
	}
	// The whole line is parsed before the limit of its type is known; the
	// reader cap bounds what that costs.
	v, err := jsonl.Parse(raw)
	typ := ""
	if err == nil {
		typ, err = recordType(v)
	}
	// A block's limit is on the block (consensus: its canonical line), not
	// on the blanks around its tokens; the reader cap bounds the line.
	if uint64(len(raw)) > p.MaxBlockBytes && typ != "block" {
		return nil, rule.Errorf(rule.TooLarge, "line of %d bytes, limit %d", len(raw), p.MaxBlockBytes)
	}
	if err != nil {
		return nil, err
	}
	if raw[len(raw)-1] != '}' {
		return nil, rule.Errorf(rule.BadJSON, "blanks after the JSON object")
	}
	l := &Line{From: from, Raw: raw}
	switch typ {
	case "tx":
		if len(raw) > params.MaxTxLine {
			return nil, rule.Errorf(rule.TooLarge, "transaction line of %d bytes, limit %d", len(raw), params.MaxTxLine)
		}
		if l.Tx, err = tx.FromValue(v); err != nil {
			return nil, err
		}
	case "block":
		if l.Block, err = block.FromValue(v); err != nil {
			return nil, err
		}
		// A padded line is passed on as the block's canonical line, so
		// that what a node relays never depends on a peer's blanks.
		if len(raw) != l.Block.CanonicalSize() {
			l.Raw = l.Block.JSON()
		}
	default:
		return nil, rule.Errorf(rule.BadType, "a %s line is not sent on its own", typ)
	}
	return l, nil
}

// split separates the sender tag from the JSON, which must start with '{'.
// Decode refuses blanks after it too: package jsonl would accept them, but
// Raw is exactly the object.
func split(line []byte) (netip.Addr, []byte, error) {
	var from netip.Addr
	raw := line
	if len(line) == 0 {
		return from, nil, rule.Errorf(rule.BadJSON, "empty line")
	}
	if line[0] != '{' {
		i := bytes.IndexByte(line, ' ')
		if i < 0 {
			return from, nil, rule.Errorf(rule.BadJSON, "line is neither a JSON object nor an address, a space and a JSON object")
		}
		var err error
		if from, err = parseAddr(line[:i]); err != nil {
			return netip.Addr{}, nil, err
		}
		raw = line[i+1:]
		if len(raw) == 0 || raw[0] != '{' {
			return netip.Addr{}, nil, rule.Errorf(rule.BadJSON, "no JSON object right after the sender address and one space")
		}
	}
	return from, raw, nil
}

// recordType returns the type of a parsed record line.
func recordType(v jsonl.Value) (string, error) {
	_, typ, err := tx.Typed(v)
	return typ, err
}

// parseAddr reads a sender tag: an IP address in netip's canonical form.
func parseAddr(b []byte) (netip.Addr, error) {
	if len(b) > MaxPrefix-1 {
		return netip.Addr{}, rule.Errorf(rule.BadJSON, "sender address of %d bytes", len(b))
	}
	a, err := netip.ParseAddr(string(b))
	if err != nil {
		return netip.Addr{}, rule.Errorf(rule.BadJSON, "sender tag is not an IP address")
	}
	if a.Zone() != "" {
		return netip.Addr{}, rule.Errorf(rule.BadJSON, "sender address has a zone")
	}
	if a.String() != string(b) {
		return netip.Addr{}, rule.Errorf(rule.BadJSON, "sender address %s is not written in its canonical form", a)
	}
	return a, nil
}

// Tag returns the line for raw as received from the peer at from: the
// address, one space and raw. A zero from (no sender) or an address with a
// zone returns a copy of raw alone, since Decode would not read the zone.
func Tag(from netip.Addr, raw []byte) []byte {
	if !from.IsValid() || from.Zone() != "" {
		return append([]byte(nil), raw...)
	}
	b := make([]byte, 0, len(raw)+MaxPrefix)
	b = from.AppendTo(b)
	b = append(b, ' ')
	return append(b, raw...)
}

// Sender returns the IP a line is tagged with, or the zero Addr when it has
// none or the tag does not parse; it lets a rejects.log entry name the peer
// even when the rest of the line is garbage.
func Sender(line []byte) netip.Addr {
	from, _, err := split(line)
	if err != nil {
		return netip.Addr{}
	}
	return from
}
