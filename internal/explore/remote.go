package explore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coniunctum/cnj/lib/hostport"
	"github.com/coniunctum/cnj/lib/jsonl"
)

// maxRemoteBody bounds what a remote answer may be (a history or a block).
const maxRemoteBody = 64 << 20

// Remote answers cnj-chain's read questions from a node's web app instead of
// a local chain directory: what a wallet holder, who keeps no chain, asks
// its source node. Answers are the web app's lines, which are cnj-chain's.
type Remote struct {
	Base   string // http://HOST:PORT
	client *http.Client
}

// NewRemote returns a Remote for HOST[:PORT] or http://HOST[:PORT].
func NewRemote(source string) (*Remote, error) {
	s, err := hostport.Parse(strings.TrimSuffix(strings.TrimPrefix(source, "http://"), "/"), hostport.WebPort)
	if err != nil {
		return nil, fmt.Errorf("--remote: %w", err)
	}
	return &Remote{Base: "http://" + s, client: &http.Client{
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// get fetches path and returns its body, or an error in one line: the
// node's own {"error","code"} when it gave one.
func (r *Remote) get(path string) ([]byte, error) {
	resp, err := r.client.Get(r.Base + path)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("source node %s: %v: is it running?", strings.TrimPrefix(r.Base, "http://"), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRemoteBody+1))
	if err != nil {
		return nil, fmt.Errorf("source node %s: %v", strings.TrimPrefix(r.Base, "http://"), err)
	}
	if len(body) > maxRemoteBody {
		return nil, fmt.Errorf("source node %s: answer larger than %d MiB", strings.TrimPrefix(r.Base, "http://"), maxRemoteBody>>20)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error, Code string }
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			if e.Code != "" && !carriesCode(e.Error, e.Code) {
				return nil, fmt.Errorf("%s: %s", e.Code, e.Error)
			}
			return nil, errors.New(e.Error)
		}
		return nil, fmt.Errorf("source node %s: %s", strings.TrimPrefix(r.Base, "http://"), resp.Status)
	}
	return body, nil
}

// carriesCode reports whether a node's error message already names its
// rule code, at its head ("bad-hex: ...") or after what it is about
// ("ADDR: wrong-network: ..."), as the same error printed from a chain
// directory would: the code is then not added a second time.
func carriesCode(msg, code string) bool {
	return msg == code || strings.HasPrefix(msg, code+": ") || strings.Contains(msg, ": "+code+": ")
}

// line writes a one-line JSON answer, checked to be a JSON object.
func (r *Remote) line(path string, w io.Writer) error {
	body, err := r.get(path)
	if err != nil {
		return err
	}
	body = bytes.TrimSuffix(body, []byte("\n"))
	if _, err := jsonl.Parse(body); err != nil && len(body) > 0 && body[0] != '{' {
		return fmt.Errorf("source node %s: not a JSON line: %v", strings.TrimPrefix(r.Base, "http://"), err)
	}
	_, err = w.Write(append(body, '\n'))
	return err
}

// Tip prints the node's /api/tip line.
func (r *Remote) Tip(w io.Writer) error { return r.line("/api/tip", w) }

// Genesis prints the network's genesis line.
func (r *Remote) Genesis(w io.Writer) error { return r.line("/api/genesis", w) }

// Block prints a block by hash or main-chain index.
func (r *Remote) Block(ref string, w io.Writer) error {
	if len(ref) != 64 {
		if _, err := strconv.ParseUint(ref, 10, 64); err != nil {
			return fmt.Errorf("%s: not a block hash (64 hex digits) or index", ref)
		}
		h, err := r.get("/api/block-height/" + ref)
		if err != nil {
			return err
		}
		ref = strings.TrimSpace(string(h))
	}
	return r.line("/api/block/"+url.PathEscape(ref), w)
}

// Tx prints a transfer with where it is.
func (r *Remote) Tx(id string, w io.Writer) error {
	if _, err := ParseTxID(id); err != nil {
		return err
	}
	return r.line("/api/tx/"+id, w)
}

// Balance prints an address's balance line.
func (r *Remote) Balance(addr string, w io.Writer) error {
	return r.line("/api/address/"+url.PathEscape(addr), w)
}

// History prints an address's events, one per line, as cnj-chain history
// does (the web app answers a JSON array).
func (r *Remote) History(addr string, w io.Writer) error {
	body, err := r.get("/api/address/" + url.PathEscape(addr) + "/txs")
	if err != nil {
		return err
	}
	var events []json.RawMessage
	if err := json.Unmarshal(body, &events); err != nil {
		return fmt.Errorf("source node %s: history is not a JSON array: %v", strings.TrimPrefix(r.Base, "http://"), err)
	}
	var out bytes.Buffer
	for _, e := range events {
		if err := json.Compact(&out, e); err != nil {
			return err
		}
		out.WriteByte('\n')
	}
	_, err = w.Write(out.Bytes())
	return err
}
