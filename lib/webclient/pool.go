package webclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/coniunctum/cnj/lib/chainhash"
)

// Answer size caps of the pool's calls.
const (
	// maxPoolIDsAnswer: a JSON array of ids, 35 bytes each, for a pool
	// of over 100,000 transfers (a node's bound is 50,000 by default).
	maxPoolIDsAnswer = 4 << 20
	// maxPoolTxsAnswer: the transfer lines of one batch (MaxPoolBatch).
	maxPoolTxsAnswer = 4 << 20
)

// MaxPoolBatch is how many ids one PoolTxs asks for: what the web app's
// /api/mempool/txs takes (web.MaxPoolFetch).
const MaxPoolBatch = 50

// PoolIDs returns the ids of the transfers in a node's pool
// (/api/mempool/txids, Esplora's JSON array of ids), in its order.
func (c *Client) PoolIDs(ctx context.Context, addr string) ([]chainhash.ID, error) {
	const path = "/api/mempool/txids"
	b, err := c.Get(ctx, addr, path, maxPoolIDsAnswer)
	if err != nil {
		return nil, err
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("%s: not a JSON array of strings: %v", path, err)
	}
	ids := make([]chainhash.ID, len(list))
	for i, s := range list {
		if ids[i], err = chainhash.ParseID(s); err != nil {
			return nil, fmt.Errorf("%s: entry %d: %v", path, i+1, err)
		}
	}
	return ids, nil
}

// PoolTxs returns the lines of the transfers a node's pool holds with
// these ids (/api/mempool/txs), at most MaxPoolBatch ids; the lines are
// not checked here (the caller decodes them strictly).
func (c *Client) PoolTxs(ctx context.Context, addr string, ids []chainhash.ID) ([][]byte, error) {
	if len(ids) == 0 || len(ids) > MaxPoolBatch {
		return nil, fmt.Errorf("webclient: %d ids in one pool batch (1 to %d)", len(ids), MaxPoolBatch)
	}
	var q strings.Builder
	for i, id := range ids {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString(id.String())
	}
	b, err := c.Get(ctx, addr, "/api/mempool/txs?ids="+q.String(), maxPoolTxsAnswer)
	if err != nil {
		return nil, err
	}
	var lines [][]byte
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if len(line) > 0 {
			lines = append(lines, line)
		}
	}
	return lines, nil
}
