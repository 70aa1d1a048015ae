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
	code := rejectCode(err)
	msg := err.Error()
	var re *rule.Error
	if errors.As(err, &re) {
		msg = re.Msg
	}
	return d.LogReject(chaindir.Reject{Time: now.Unix(), From: from.String(), Reason: code, Line: lineNo, Msg: msg})
}

// rejectCode is the reason a refused line is logged with: its verdict's
// code, bad-json for an error that carries none.
func rejectCode(err error) rule.Code {
	if code := rule.CodeOf(err); code != "" {
		return code
	}
	return rule.BadJSON
}

// rejectTail follows rejects.log from where it ended when the tail
// started (chaindir's RejectTail).
type rejectTail struct{ t *chaindir.RejectTail }

func newRejectTail(d chaindir.Dir) *rejectTail { return &rejectTail{d.TailRejects(true)} }

// tailEntry is a reject of rejects.log: the sender's IP and the reason.
type tailEntry struct {
	ip     netip.Addr
	reason rule.Code
}

// orphan tells whether the reject counts as an orphan (Bans.Orphan).
func (e tailEntry) orphan() bool { return slices.Contains(orphanReasons, e.reason) }

// poll returns the rejects of the lines appended since the last poll, one
// per line; a "from" that is empty or not an IP, and a line without a
// reason, are skipped. restarted says that the file was read from its
// start again (chaindir.RejectTail.Read).
func (t *rejectTail) poll() (es []tailEntry, restarted bool, err error) {
	for {
		rs, rst, more, err := t.t.Read()
		restarted = restarted || rst
		if err != nil {
			return es, restarted, err
		}
		for _, e := range rs {
			if e.From == "" || e.Reason == "" {
				continue
			}
			if ip, err := netip.ParseAddr(e.From); err == nil {
				es = append(es, tailEntry{ip.Unmap().WithZone(""), e.Reason})
			}
		}
		if !more {
			return es, restarted, nil
		}
	}
}
