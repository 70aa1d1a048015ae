package web

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coniunctum/cnj/lib/chain"
	"github.com/klauspost/compress/zstd"
)

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
	end := time.Now().Add(DownloadTimeout)
	var out io.Writer = w
	var enc *zstd.Encoder
	if zst {
		enc = encoders.Get().(*zstd.Encoder)
		enc.Reset(w)
		out = enc
	}
	buf := make([]byte, 0, scanBytes+64<<10)
	err = s.st.scanLines(path, func(nd *chain.Node, line []byte) error {
		buf = append(append(buf, line...), '\n')
		return nil
	}, func() error {
		extendWrite(rc, end)
		if err := writeOut(out, buf); err != nil {
			return err
		}
		buf = buf[:0]
		if enc != nil {
			if err := enc.Flush(); err != nil {
				return &writeErr{err}
			}
		}
		if err := rc.Flush(); err != nil {
			return &writeErr{err}
		}
		return nil
	})
	if enc != nil {
		if err == nil {
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
