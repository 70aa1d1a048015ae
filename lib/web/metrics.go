package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// rejectsLog is the chain directory's reject log (cnj-format(5)), read
// through an os.Root on the directory under this fixed name only.
const rejectsLog = "rejects.log"

// maxReasons bounds the reason labels of cnj_rejects_total; further
// reasons are counted as "other".
const maxReasons = 100

// maxTailRead bounds what one scrape reads of rejects.log; the rest is
// read by the next scrapes.
const maxTailRead = 64 << 20

// rejectCounter counts rejects.log lines by reason, reading only what was
// appended since the last scrape. A file that was replaced or shrank is
// counted again from its start.
type rejectCounter struct {
	root *os.Root

	mu      sync.Mutex
	fi      fs.FileInfo // the file as last read
	off     int64       // bytes counted
	partial []byte      // a line not yet complete
	counts  map[string]uint64
}

func newRejectCounter(root *os.Root) *rejectCounter {
	return &rejectCounter{root: root, counts: map[string]uint64{}}
}

// read brings the counts up to date and returns a copy of them.
func (rc *rejectCounter) read() (map[string]uint64, error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err := rc.update(); err != nil {
		return nil, err
	}
	out := make(map[string]uint64, len(rc.counts))
	for k, v := range rc.counts {
		out[k] = v
	}
	return out, nil
}

func (rc *rejectCounter) update() error {
	f, err := rc.root.Open(rejectsLog)
	if errors.Is(err, fs.ErrNotExist) {
		rc.fi, rc.off, rc.partial = nil, 0, nil
		clear(rc.counts)
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return errors.New(rejectsLog + " is not a regular file")
	}
	if rc.fi == nil || !os.SameFile(fi, rc.fi) || fi.Size() < rc.off {
		rc.off, rc.partial = 0, nil
		clear(rc.counts)
	}
	rc.fi = fi
	if fi.Size() == rc.off {
		return nil
	}
	data := make([]byte, min(fi.Size()-rc.off, maxTailRead))
	k, err := f.ReadAt(data, rc.off)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	rc.off += int64(k)
	data = append(rc.partial, data[:k]...)
	last := bytes.LastIndexByte(data, '\n')
	rc.partial = slices.Clone(data[last+1:])
	for line := range bytes.SplitSeq(data[:last+1], []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var rec struct {
			Reason string `json:"reason"`
		}
		if json.Unmarshal(line, &rec) != nil || rec.Reason == "" || len(rec.Reason) > 64 {
			rec.Reason = "unreadable"
		}
		if _, ok := rc.counts[rec.Reason]; !ok && len(rc.counts) >= maxReasons {
			rec.Reason = "other"
		}
		rc.counts[rec.Reason]++
	}
	return nil
}

// metrics answers in the Prometheus text format (version 0.0.4).
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	snap := s.st.snap.Load().mempool()
	peers, perr := s.readPeers()
	rejects, rerr := s.rejects.read()
	var b bytes.Buffer
	metric := func(name, typ, help string) {
		b.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + typ + "\n")
	}
	value := func(name string, v uint64) {
		b.WriteString(name + " " + strconv.FormatUint(v, 10) + "\n")
	}
	metric("cnj_tip_height", "gauge", "Height of the main chain's tip.")
	value("cnj_tip_height", snap.tip.Height)
	metric("cnj_tip_timestamp_seconds", "gauge", "Timestamp of the main chain's tip.")
	value("cnj_tip_timestamp_seconds", uint64(max(snap.tip.Timestamp, 0)))
	if perr == nil {
		metric("cnj_peers", "gauge", "Peers in the peers file.")
		value("cnj_peers", uint64(len(peers)))
	} else {
		s.log.Printf("metrics: peers: %v", perr)
	}
	metric("cnj_mempool_txs", "gauge", "Transfers in the mempool.")
	value("cnj_mempool_txs", uint64(snap.poolCount))
	metric("cnj_mempool_fees", "gauge", "Sum of the fees of the mempool's transfers, in base units.")
	value("cnj_mempool_fees", snap.poolFee)
	if rerr == nil {
		metric("cnj_rejects_total", "counter", "Refused transfers and blocks in rejects.log, by reason.")
		reasons := make([]string, 0, len(rejects))
		for k := range rejects {
			reasons = append(reasons, k)
		}
		slices.Sort(reasons)
		for _, k := range reasons {
			value(`cnj_rejects_total{reason="`+labelEscaper.Replace(k)+`"}`, rejects[k])
		}
	} else {
		s.log.Printf("metrics: %s: %v", rejectsLog, rerr)
	}
	metric("cnj_http_rate_limited_total", "counter", "Requests refused with 429.")
	value("cnj_http_rate_limited_total", s.limited.Load())
	metric("cnj_http_panics_total", "counter", "Requests whose handler panicked.")
	value("cnj_http_panics_total", s.panics.Load())
	write(w, []string{"text/plain; version=0.0.4; charset=utf-8"}, b.Bytes())
}

// labelEscaper escapes a label value of the text format.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
