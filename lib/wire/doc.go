// Package wire defines the lines that the relay carries and cnj-verify reads:
// a transfer or a block as one JSON line, optionally tagged with the IP
// address of the peer it came from, and the hello line that opens a relay
// connection. It knows no sockets: lib/relay reads and writes the bytes.
//
// # Lines
//
// A line (without its newline) is either bare JSON or the sender's address,
// one space and the JSON, as cnj-relay listen tags what it receives:
//
//	{"type":"tx",...}
//	127.0.0.2 {"type":"tx",...}
//	2001:db8::7 {"type":"block",...}
//
// The address is an IPv4 or IPv6 address in the canonical text form of
// net/netip (no zone, no port, no leading zeros, lowercase hex); the JSON
// starts right after the single space with '{' and ends with '}'. Tag writes
// that form and Decode reads it. Decode returns the raw JSON bytes unchanged,
// which is what cnj-verify passes on when the record is valid, and the
// decoded transfer or block. Whether the record is valid (signatures, funds,
// proof of work) is for packages consensus and ledger to say.
//
// Limits (DESIGN.md, "Network": each line is bounded): a whole line is at
// most MaxLine(p) bytes, the reader cap; the JSON of a transfer at most
// params.MaxTxLine bytes; the JSON of a block at most p.MaxBlockBytes.
//
// # Hello
//
// A relay connection opens with one hello line naming the network by its
// genesis hash, the protocol version and the node's own address:
//
//	{"type":"hello","network":HEX64,"version":1,"address":"IP:PORT"}
//
// DecodeHello reads it strictly; it does not decide whether the peer's
// network or version is acceptable: that is for the relay.
//
// # Errors
//
// Every refusal is a *rule.Error:
//
//   - too-large: the line is longer than MaxLine(p), a transfer's JSON is
//     longer than params.MaxTxLine, any JSON longer than p.MaxBlockBytes, or
//     a hello line longer than MaxHelloLine.
//   - block-too-large: a block's JSON is longer than p.MaxBlockBytes.
//   - bad-json: the sender prefix is not an address followed by exactly one
//     space and a JSON object ("127.0.0.2:5050 {...}", two spaces, a tab,
//     nothing after the space), or the JSON itself is not strict
//     (package jsonl).
//   - bad-type: a type other than "tx" and "block"; a "reward" or a "genesis"
//     is never sent on its own, and a hello is only the first line of a
//     connection. DecodeHello refuses any type but "hello".
//   - bad-field: in a hello, a version of 0 or an address that is not a
//     canonical IP:PORT with a port above 0.
//   - the decoding codes of packages jsonl, tx and block for the record.
package wire
