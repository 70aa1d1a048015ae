package chainsync

import (
	"context"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/hostport"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
)

// Join makes dir, which must be missing or empty, a chain directory of the
// network of the node whose web app is at from (HOST:PORT): it takes the
// genesis from /api/genesis and records from as the source node
// (http://HOST:PORT in the file source) and the node's relay
// (HOST:hostport.RelayPort) as the first peer, all at once (node.Create). The
// chain itself comes with Sync. A failure to reach the node is a
// *PeerError.
func Join(ctx context.Context, dir, from string, o Options) (*params.Params, error) {
	o = o.withDefaults()
	p, err := o.client().Genesis(ctx, from)
	if err != nil {
		return nil, &PeerError{Peer: from, Err: err}
	}
	o2 := chaindir.CreateOptions{Source: "http://" + from, Peers: []string{hostport.Relay(from)}}
	if err := node.CreateWith(dir, p, o2); err != nil {
		return nil, err
	}
	return p, nil
}
