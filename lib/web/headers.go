package web

import (
	"net/http"
	"strconv"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
)

// MaxHeaders is the most headers one /api/headers answer holds
// (400,000 bytes): a wallet fetches a long chain in several requests.
const MaxHeaders = 2000

// contentTypeOctets is the type of an answer of raw bytes.
const contentTypeOctets = "application/octet-stream"

var hdrOctets = []string{contentTypeOctets}

// headers answers GET /api/headers/{start}[?count=N]: the canonical
// 200-byte headers (cnj-format(5)) of the main chain's blocks from height
// start on, at most count of them (default and most MaxHeaders), up to
// the tip, back to back with nothing between them. Block 0, the genesis,
// has no header (/api/genesis), so start is at least 1; a start above the
// tip is an empty answer. This is what a wallet that keeps only headers
// (cnj-wallet) checks the work of its source's chain with.
func (s *Server) headers(w http.ResponseWriter, r *http.Request) {
	start, ok := parseHeight(r.PathValue("start"))
	if !ok || start == 0 {
		writeError(w, http.StatusBadRequest, codeBadNumber, "the start height is a decimal number from 1 (block 0 is the genesis: /api/genesis)")
		return
	}
	count := uint64(MaxHeaders)
	if v := r.URL.Query().Get("count"); v != "" || r.URL.Query().Has("count") {
		c, ok := parseHeight(v)
		if !ok || c == 0 || c > MaxHeaders {
			writeError(w, http.StatusBadRequest, codeBadNumber, "count is a decimal number from 1 to "+strconv.Itoa(MaxHeaders))
			return
		}
		count = c
	}
	n := s.st.rlock()
	if n == nil {
		s.unavailable(w)
		return
	}
	c := n.Chain()
	var out []byte
	for h := start; h < start+count; h++ {
		nd := c.AtHeight(h)
		if nd == nil {
			break
		}
		line, err := n.Line(nd)
		var hdr *block.Block
		if err == nil {
			hdr, err = block.ParseHeader(line)
		}
		if err == nil && hdr.ComputeHash() != nd.Hash {
			err = chaindir.Corruptf(chaindir.SegmentName(nd.Loc.Segment), 0, "the line of block %x does not hold its header: %s", nd.Hash[:8], chaindir.ReindexHint)
		}
		if err != nil {
			s.st.runlock()
			s.fail(w, r, err)
			return
		}
		if out == nil {
			out = make([]byte, 0, min(count, c.Tip().Height-start+1)*block.HeaderSize)
		}
		b := hdr.Bytes()
		out = append(out, b[:]...)
	}
	s.st.runlock()
	write(w, hdrOctets, out)
}
