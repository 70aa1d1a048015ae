// Package webclient is the client side of cnj-serve's web API (package
// web, man cnj-serve(1)): what cnj-sync asks its peers and what
// cnj-chain --remote, and so the wallet, asks its source node.
//
// One Client talks to any number of nodes, each named by the HOST:PORT of
// its web app. Its HTTP client (NewHTTP) uses no proxy, follows no
// redirect (a redirect is an answer like any other, and refused), asks for
// no transparent gzip, and bounds the connect and response-header waits
// and the response header's size. Every request has a deadline and every
// answer a byte cap: Get is the one way a path is fetched.
//
// The calls:
//
//   - Tip (/api/tip), BlockHash (/api/block-height/H), Genesis
//     (/api/genesis) and Peers (/api/peers), read and checked for cnj-sync;
//   - Chain (/api/chain?from=F&to=T), the chain download, zstd when the
//     node offers it, cut past its byte cap, with a deadline for the whole
//     body and one for silence;
//   - TipLine, GenesisLine and BlockLine (/api/block/H/raw): lines
//     cnj-chain prints as the node gives them; TipHeight, Tx, Balance and
//     History (/api/address/A/txs/chain page by page, then
//     /txs/mempool): Esplora's objects read for what cnj-chain --remote
//     prints (cnj's "tx" field, decoded strictly and held to the object's
//     txid, and cnj's balance fields).
//   - Headers (/api/headers/START?count=N, raw 200-byte headers),
//     MerkleProof (/api/tx/TXID/merkle-proof) and Fate (/api/tx/ID/fate):
//     what cnj-wallet checks its source with and waits on after a send.
//
// What it does not do: it judges nothing a node serves beyond its form
// (chainsync verifies blocks; the caller decides what a peer's tip is
// worth), keeps no state between calls, never retries, and never prints,
// logs or exits. It does not import the server side (lib/web) or the chain
// (lib/node, lib/chain, lib/chaindir).
//
// # Errors
//
// Every error names the request's path first ("/api/tip: ..."); the caller
// names the node. An answer other than 200 is a *StatusError: the node's
// own {"error","code"} when it gave one, else the HTTP status. A request
// that got no answer at all (the node could not be reached, or sent no
// response header within the timeout) wraps ErrNoAnswer. A deadline that
// ran out says so ("no answer within 30s", "no data for 30s", "not done
// within 2m0s"); an answer longer than its cap is refused ("answer longer
// than N bytes"; a download wraps ErrTooLong); an answer of the wrong form
// carries the decoder's rule code (bad-json, bad-hex, ...) or says what was
// expected.
package webclient
