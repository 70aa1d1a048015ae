package web

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/coniunctum/cnj/lib/blockstore"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/node"
)

// maxPassWindow is the largest zstd window a stored frame may need to be
// passed on in a download: 8 MiB, the limit RFC 9659 sets for the zstd
// content coding (browsers and curl keep to it). Sealed segments use 4 MiB.
const maxPassWindow = 8 << 20

// sealedRun returns, when rest starts with the whole of a sealed segment
// (its first block at offset 0, every later block right after the one
// before, the last one ending the segment) and the segment's frame can be
// passed on as stored, the frame (read into buf) and how many blocks of
// rest it holds. Otherwise it returns k = 0: the blocks are read one by one.
func sealedRun(st *blockstore.Store, rest []*chain.BlockNode, buf []byte) (frame []byte, k int, err error) {
	seg := rest[0].Loc.Segment
	if rest[0].Loc.Offset != 0 {
		return nil, 0, nil
	}
	end := uint64(0)
	for k < len(rest) && rest[k].Loc.Segment == seg && rest[k].Loc.Offset == end {
		end += uint64(rest[k].Loc.Length) + 1
		k++
	}
	frame, err = st.SealedFrame(seg, int64(end), buf)
	if err != nil || frame == nil {
		return nil, 0, err
	}
	var h zstd.Header
	err = h.Decode(frame)
	if err == nil && h.Skippable {
		// The frame table: the first frame of lines follows it; the
		// others are of the same size.
		if next := h.HeaderSize + int(h.SkippableSize); next < len(frame) {
			err = h.Decode(frame[next:])
		}
	}
	if err != nil || h.WindowSize > maxPassWindow || h.SingleSegment && h.FrameContentSize > maxPassWindow {
		return nil, 0, nil // not a frame this server would send as it is
	}
	return frame, k, nil
}

// encoders are zstd encoders kept between downloads: making one costs far
// more than resetting it.
var encoders = sync.Pool{New: func() any {
	e, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(1<<20),
		zstd.WithLowerEncoderMem(true))
	if err != nil {
		panic(err) // only for invalid options
	}
	return e
}}

// acceptsZstd reports whether an Accept-Encoding header names zstd with a
// non-zero quality.
func acceptsZstd(h []string) bool {
	for _, v := range h {
		for _, item := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(item, ";")
			if !strings.EqualFold(strings.TrimSpace(name), "zstd") {
				continue
			}
			q := strings.ReplaceAll(params, " ", "")
			if q == "q=0" || strings.HasPrefix(q, "q=0.") && strings.Trim(q[4:], "0") == "" {
				return false
			}
			return true
		}
	}
	return false
}

// download answers /api/chain?from=H[&to=H2]: the main-chain block lines
// from height H (default 1) to H2 (default the tip; above it, the tip), as
// the chain was when the request came, each line as the directory stores
// it (the syncing peer checks every block; this side checks each line is
// whole). The body is written a piece at a
// time, never held whole; an error after the first piece cuts the
// connection.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, to := uint64(1), ^uint64(0)
	if v, ok := q["from"]; ok {
		h, ok := parseHeight(v[0])
		if !ok || len(v) > 1 {
			badNumber(w, "from")
			return
		}
		if h == 0 {
			writeError(w, http.StatusBadRequest, codeBadRequest, "from: block 0 is the genesis: GET /api/genesis")
			return
		}
		from = h
	}
	if v, ok := q["to"]; ok {
		h, ok := parseHeight(v[0])
		if !ok || len(v) > 1 {
			badNumber(w, "to")
			return
		}
		if h < from {
			writeError(w, http.StatusBadRequest, codeBadRequest, "to is below from")
			return
		}
		to = h
	}
	path, err := s.st.path(from, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if r.Method != http.MethodHead {
		release, err := s.downloadTurn(r.Context(), r.RemoteAddr)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		defer release()
	}
	zst := acceptsZstd(r.Header["Accept-Encoding"])
	h := w.Header()
	h["Content-Type"] = []string{contentTypeLines}
	h["X-Content-Type-Options"] = hdrNosniff
	h["Vary"] = []string{"Accept-Encoding"}
	if zst {
		h["Content-Encoding"] = []string{"zstd"}
	}
	if r.Method == http.MethodHead {
		return
	}
	rc := http.NewResponseController(w)
	end := time.Now().Add(s.cfg.DownloadTimeout)
	var out io.Writer = w
	var enc *zstd.Encoder
	if zst {
		enc = encoders.Get().(*zstd.Encoder)
		enc.Reset(w)
		out = enc
	}
	var (
		buf   = make([]byte, 0, s.st.scanBytes+64<<10) // block lines to write
		frame []byte                                   // or a sealed segment's frame
		whole []byte                                   // frame's buffer, kept
		open  = enc != nil                             // enc has a frame open
	)
	err = s.st.scanPieces(path, func(n *node.Node, rest []*chain.BlockNode) (int, error) {
		if enc != nil {
			f, k, err := sealedRun(n.Store(), rest, whole)
			if err != nil {
				return 0, err
			}
			if k > 0 {
				whole, frame = f, f
				return k, nil
			}
		}
		k := 0
		for size := 0; k < len(rest) && size < s.st.scanBytes; k++ {
			if k > 0 && enc != nil && rest[k].Loc.Offset == 0 {
				break // a segment starts: it may go whole
			}
			line, err := n.Line(rest[k])
			if err != nil {
				return k, err
			}
			buf = append(append(buf, line...), '\n')
			size += len(line)
		}
		return k, nil
	}, func() error {
		extendWrite(rc, s.cfg.WriteTimeout, end)
		switch {
		case frame != nil:
			// The encoder's frame ends, the stored one follows as it is:
			// a zstd stream is a sequence of frames.
			if open {
				if err := enc.Close(); err != nil {
					return &writeErr{err}
				}
				open = false
			}
			if err := writeOut(w, frame); err != nil {
				return err
			}
			frame = nil
		case len(buf) > 0:
			if enc != nil && !open {
				enc.Reset(w)
				open = true
			}
			if err := writeOut(out, buf); err != nil {
				return err
			}
			buf = buf[:0]
			if enc != nil {
				if err := enc.Flush(); err != nil {
					return &writeErr{err}
				}
			}
		}
		if err := rc.Flush(); err != nil {
			return &writeErr{err}
		}
		return nil
	})
	if enc != nil {
		if err == nil && open {
			if cerr := enc.Close(); cerr != nil {
				err = &writeErr{cerr}
			}
		}
		enc.Reset(nil)
		encoders.Put(enc)
	}
	if err != nil {
		s.cut(w, r, rc, err)
	}
}
