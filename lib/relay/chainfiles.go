package relay

import (
	"errors"
	"net/netip"
	"slices"
	"time"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/rule"
)

// The relay's files in a chain directory (package chaindir owns their
// names and formats): peers (it adds the address a peer's hello names),
// rejects.log (it logs the lines it drops, and follows the file for every
// process's rejects to cut the senders off) and its own stats files.

// logReject appends one rejects.log line for a line the listener refused.
func logReject(d chaindir.Dir, from netip.Addr, lineNo int, err error, now time.Time) error {
	code := rule.CodeOf(err)
	if code == "" {
		code = rule.BadJSON
	}
	msg := err.Error()
	var re *rule.Error
	if errors.As(err, &re) {
		msg = re.Msg
	}
	return d.LogReject(chaindir.Reject{Time: now.Unix(), From: from.String(), Reason: code, Line: lineNo, Msg: msg})
}

// rejectTail follows rejects.log from where it ended when the tail
// started (chaindir's RejectTail).
type rejectTail struct{ t *chaindir.RejectTail }

func newRejectTail(d chaindir.Dir) *rejectTail { return &rejectTail{d.TailRejects(true)} }

// poll returns the IPs named by the lines appended since the last poll, one
// per line; a "from" that is empty or not an IP, and a forgiven reason,
// are skipped.
func (t *rejectTail) poll() ([]netip.Addr, error) {
	var ips []netip.Addr
	for {
		es, _, more, err := t.t.Read()
		if err != nil {
			return ips, err
		}
		for _, e := range es {
			if e.From == "" || e.Reason == "" || slices.Contains(forgiven, e.Reason) {
				continue
			}
			if ip, err := netip.ParseAddr(e.From); err == nil {
				ips = append(ips, ip.Unmap().WithZone(""))
			}
		}
		if !more {
			return ips, nil
		}
	}
}
