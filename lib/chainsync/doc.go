// Package chainsync fetches the valid chain with the most work from the
// web apps of a node's peers (cnj-sync; DESIGN.md, "Network": sync) over
// the API of cnj-serve: /api/tip, /api/block-height/:h, /api/chain,
// /api/genesis and /api/peers; and the pending transfers of their pools
// that its own lacks (/api/mempool/txids, /api/mempool/txs).
//
// # A run
//
// Sync asks every peer for its tip (a few at a time) and checks that a
// peer whose tip it does not know is on its network (/api/genesis). The
// claims that beat the local tip are tried best first: the most work, and
// between tips of equal work the one the most peers hold (the whitepaper's
// majority breaks the tie). For a claim, the fork point is found by a
// binary search of /api/block-height against the local main chain (the
// local tip is tried first, so catching up costs one request), the peer's
// main chain is downloaded from just above it (/api/chain?from=F&to=T,
// zstd when the peer offers it) and staged, then every block goes through
// node.Submit, the path of cnj-verify, in batches (Options.Batch blocks,
// Options.BatchBytes bytes), so memory stays bounded however long the
// chain. When a peer fails, the next peer holding the same tip is tried,
// then the next claim. Then each peer's pool: its ids, and the transfers
// of those this pool lacks, fetched in batches and judged by node.Submit
// (pool.go), at most Options.PoolPerPeer from one peer and
// Options.PoolPerRun in all. Last, the peers' /api/peers lists are merged
// into the peers file.
//
// # The switch
//
// The tip moves to the new branch only when the branch has more work than
// the old tip: the chain's fork choice (package chain) guarantees it
// whatever the batches, and the download is staged whole before any of it
// is submitted. So a reorganization happens in one step, inside one
// Submit, when the block that gives the branch more work arrives; blocks
// below it wait on a side branch until then, and blocks after it extend
// the new tip batch by batch (the tip moves forward, never back). Abandoned
// transfers of the old branch return to the mempool (node.Submit), which
// records them in mempool-events.jsonl for cnj-relay send --returned.
// Between branches of equal work the one the node already has stays, as
// the chain's rule says: the majority of peers only chooses between
// branches that beat the local tip.
//
// # Lying peers
//
// What a peer serves is checked before anything reaches the directory:
// every answer has a byte cap; every request a deadline (Options.Timeout;
// a download gets the timeout plus its byte cap at Options.MinRate, and
// fails after Options.Timeout without a byte, or when it falls below
// Options.ProgressRate over a window of waiting: webclient.Chain); a
// peer that was too slow is logged in rejects.log (SlowPeer) and tried
// after the others for a day (chaindir's NoteSlowPeer), so that a peer
// claiming the most work and dripping its chain cannot hold every run
// first; the download's byte cap is
// its height range times the block size limit (plus newlines), each line
// at most the block size limit, so an endless body is cut. The staged
// download must hold exactly the heights asked for, each block on the one
// before it, its hash its header's and within its target, the target
// within the network's limit; the blocks of a side branch (those that the
// node would store before the branch beats the tip) are checked in full
// but for the ledger (header against their branch, body, signatures); the
// branch must end with more work than the local tip. Garbage, a truncated
// or endless body, a chain of another genesis or one that does not build
// on the local chain, a long chain with little work, or a block failing
// those checks is refused with nothing written, and reported as a
// PeerError naming the peer. node.Submit then applies every rule; a block
// it refuses is logged in rejects.log with the peer's IP and ends the sync
// from that peer, but the valid blocks before it stay: they are valid, and
// either extend the tip with more work or wait on a side branch. The only
// case that leaves blocks of a refused branch in the directory is a side
// branch whose blocks pass every check but the ledger's (funds, maturity,
// duplicate ids): like cnj-verify, the node keeps them, marked invalid,
// and the tip does not move.
//
// # Peers
//
// The peers file names relays (HOST:PORT, as cnj-relay writes it); the web
// app of a node is on the same host at the web port (hostport.Web). Entries
// learned from /api/peers are checked (hostport.Parse) and added by host
// after the existing ones (chaindir's AddPeers), up to chaindir.MaxPeers
// entries; the file is rewritten only when it gains one. The peers whose
// web apps answered are noted as seen (chaindir's SeePeers), so that the
// entries of live peers do not age out. Join starts a directory from a node's
// genesis and records the node as the source.
//
// # What it does not do
//
// It does not take the SYNC lock (the command does, chaindir's LockSync),
// never prints, logs or exits (Bar draws progress on a writer it is given),
// does not serve the API (package web), and asks it only through package
// webclient (its HTTP client, deadlines, byte caps and the download).
//
// # Errors
//
// A peer's failure is a *PeerError in Report.Problems; the run goes on.
// Sync's own error is ErrNoPeer when no peer could be used, the context's
// error when it was cancelled, or the directory's I/O error, which stops
// the run.
package chainsync
