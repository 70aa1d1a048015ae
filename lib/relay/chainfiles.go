package relay

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/rule"
)

// The files of the chain directory that the relay uses: peers and
// rejects.log as package chaindir lays them out (chaindir offers them only
// through an opened Dir, which loads the whole chain), and the relay's own
// stats files (cnj-format(5)), one per process: KIND-PID.json, where KIND
// is listenStats or sendStats (statsName). These are the only paths the
// relay joins inside a chain directory.
const (
	peersName   = "peers"
	rejectsName = "rejects.log"
	listenStats = "relay-listen"
	sendStats   = "relay-send"
)

// peersPath is the peers file of the chain directory dir.
func peersPath(dir string) string { return chainPath(dir, peersName) }

func rejectsPath(dir string) string { return chainPath(dir, rejectsName) }

// chainPath is the file name, one of the names above, in the chain
// directory dir.
func chainPath(dir, name string) string { return filepath.Join(dir, name) }

// statsName is the stats file of the process pid of kind (listenStats or
// sendStats): relay-listen-PID.json, relay-send-PID.json.
func statsName(kind string, pid int) string { return kind + "-" + strconv.Itoa(pid) + ".json" }

// parseStatsName tells whether name is a relay stats file of either kind,
// or a temporary file of one (NAME.tmp*, see replaceFile), and returns
// its process id: KIND-PID.json, PID a decimal over 0 without leading
// zeros. KIND.json, the one file per kind that cnj-relay wrote before each
// process had its own, is one too, of pid 0.
func parseStatsName(name string) (pid int, tmp, ok bool) {
	var rest string
	switch {
	case strings.HasPrefix(name, listenStats):
		rest = name[len(listenStats):]
	case strings.HasPrefix(name, sendStats):
		rest = name[len(sendStats):]
	default:
		return 0, false, false
	}
	base, after, found := strings.Cut(rest, ".json")
	switch {
	case !found:
		return 0, false, false
	case after == "":
	case strings.HasPrefix(after, ".tmp"):
		tmp = true
	default:
		return 0, false, false
	}
	if base == "" {
		return 0, tmp, true
	}
	digits, found := strings.CutPrefix(base, "-")
	pid, err := strconv.Atoi(digits)
	if !found || err != nil || pid <= 0 || strconv.Itoa(pid) != digits {
		return 0, false, false
	}
	return pid, tmp, true
}

// logReject appends one rejects.log line for a line the listener refused,
// in the format of chaindir.Reject, with a single O_APPEND write.
func logReject(path string, from netip.Addr, lineNo int, err error, now time.Time) error {
	code := rule.CodeOf(err)
	if code == "" {
		code = rule.BadJSON
	}
	msg := err.Error()
	var re *rule.Error
	if errors.As(err, &re) {
		msg = re.Msg
	}
	r := chaindir.Reject{Time: now.Unix(), From: from.String(), Reason: code, Line: lineNo, Msg: msg}
	line := append(r.AppendJSON(make([]byte, 0, 256)), '\n')
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// rejectTail follows rejects.log from where it ended when the tail
// started: each poll returns the sender IPs of the complete lines appended
// since. A file that shrank or was replaced is read from its start.
type rejectTail struct {
	path string
	off  int64
	ino  os.FileInfo
	part []byte // an incomplete last line
}

// maxTailRead bounds what one poll reads.
const maxTailRead = 4 << 20

func newRejectTail(path string) *rejectTail {
	t := &rejectTail{path: path}
	if fi, err := os.Stat(path); err == nil {
		t.off, t.ino = fi.Size(), fi
	}
	return t
}

// poll returns the IPs named by the lines appended since the last poll, one
// per line; a "from" that is empty or not an IP, and a forgiven reason,
// are skipped.
func (t *rejectTail) poll() ([]netip.Addr, error) {
	fi, err := os.Stat(t.path)
	if errors.Is(err, fs.ErrNotExist) {
		t.off, t.ino, t.part = 0, nil, nil
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if t.ino != nil && !os.SameFile(t.ino, fi) || fi.Size() < t.off {
		t.off, t.part = 0, nil
	}
	t.ino = fi
	if fi.Size() == t.off {
		return nil, nil
	}
	f, err := os.Open(t.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, min(fi.Size()-t.off, maxTailRead))
	n, err := f.ReadAt(buf, t.off)
	if err != nil && err != io.EOF {
		return nil, err
	}
	t.off += int64(n)
	data := append(t.part, buf[:n]...)
	t.part = nil
	var ips []netip.Addr
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if len(data) < 64<<10 { // a line being written; a longer one is junk
				t.part = append([]byte(nil), data...)
			}
			break
		}
		var e struct {
			From   string    `json:"from"`
			Reason rule.Code `json:"reason"`
		}
		if json.Unmarshal(data[:i], &e) == nil && e.From != "" && !slices.Contains(forgiven, e.Reason) {
			if ip, err := netip.ParseAddr(e.From); err == nil {
				ips = append(ips, ip.Unmap().WithZone(""))
			}
		}
		data = data[i+1:]
	}
	return ips, nil
}
