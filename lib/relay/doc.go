// Package relay is the gossip layer of a node (DESIGN.md, "Network"): TCP
// connections on port 5050 that carry transaction and block lines between
// nodes. A Listener accepts peers and hands every new line it receives,
// tagged with the peer's IP address, to the validator (cnj-verify reads
// them); Send keeps a connection to every peer and writes each line of its
// input to all of them. A validator runs
//
//	cnj-relay listen | cnj-verify | cnj-relay send
//
// # Protocol
//
// A connection opens with a hello line from each side, the connecting side
// first (wire.Hello: the network's genesis hash, the protocol version, the
// address where the sender listens). A hello of another network or version
// is answered with the local hello, logged ("IP: refused: other network
// ...") and the connection closed. Then the connecting side writes tx and
// block lines, one per line, bare JSON; an empty line is a keep-alive that
// the listener skips. The listener writes nothing after its hello.
//
// # Limits
//
// Everything a peer can make a node hold is bounded (fields of
// ListenConfig and SendConfig left zero take the Default constants):
// the length of a line (wire.MaxLine, params.MaxTxLine for a transfer,
// checked with wire.Decode), connections in total, per IP and per network group, the time to
// send a hello (HandshakeTimeout) and between two lines (IdleTimeout), lines
// per second per peer IP (a golang.org/x/time/rate limiter: a faster peer
// is read more slowly), the lines queued for each outgoing peer (when the
// queue is full, a peer that took nothing for StallTimeout is dropped and
// reconnected later, one that reads slowly misses the lines that do not
// fit; the others never wait for either), the seen-sets (SeenSize line
// hashes), the peers file (MaxPeers).
//
// A line from a peer that does not decode (garbage, a transfer or block
// over its limit, a tagged line) is not passed on: it is logged by IP and
// appended to the chain directory's rejects.log as cnj-verify would log it.
// A line too long for the reader closes the connection. A line already seen
// (xxhash of its JSON, seeded per process) is dropped quietly: that is what
// keeps gossip from looping.
//
// # Cut-offs
//
// The listener follows rejects.log, where cnj-verify and the listener log
// what they refuse with the sender's IP. An IP with Bans.Threshold rejects
// within Bans.Window is logged once ("IP: cut off for 1m0s: 10 rejects"),
// its connections are closed, and new ones are refused for a cool-off:
// Bans.CoolOff, doubled for each repeat offence, at most Bans.MaxCoolOff,
// so that a configured peer that misbehaved is never banned for good. An
// IP is forgiven its offences after Bans.Forget without one. An orphan
// (unknown-parent: a node that is behind rejects honest blocks so until
// cnj-sync catches it up) counts as 1/Bans.OrphanWeight of a reject
// (DefaultOrphanWeight says why 32). NewBans takes DefaultMaxRejects,
// DefaultRejectWindow, DefaultCoolOff, DefaultMaxCoolOff,
// DefaultForgetAfter and DefaultOrphanWeight.
//
// The lines the listener drops itself are counted as it drops them (and
// not again when its tail reads them back), so that an IP is cut off at
// its Threshold-th bad line: nothing after it is read or logged, and the
// lines of a cut-off IP still queued for Out are dropped.
//
// # Slots
//
// When the listener is full, a newcomer evicts a connection as Bitcoin
// Core's does, sparing the peers of the peers file, those that delivered
// valid blocks and transfers last, and the longest-connected (slots.go).
// What a peer delivered is what came out of cnj-verify: Send, which reads
// cnj-verify's output tagged with each line's sender, notes the senders in
// the chain directory's relay-delivered.jsonl, which the listener reads.
//
// # Peers
//
// The listener records the hello address of a peer in the chain
// directory's peers file once the address names the IP it connects from
// and the peer proved to be a node of the network: it delivered a valid
// line, or its web app answers as one (record.go). The file holds one
// entry per IP (a later hello changes its port); the entries added age
// out unseen (chaindir.PeerExpiry). Send re-reads its peers file when it
// changes, connects to new peers and leaves removed ones; it never
// connects to its own address (SendConfig.Self).
//
// # Returned transfers
//
// With SendConfig.Returned, Send follows the chain directory's
// mempool-events.jsonl (chaindir's PoolEventTail) and sends each
// transfer a reorganization put back into the pool to every peer, though
// its seen-set holds it (returned.go): the peers on the winning branch
// never had it. Loops end at the peers' cnj-verify, which passes over
// what it holds.
//
// # Counters
//
// A Listener and Send count their traffic in atomics (one add per event,
// no lock on the path of a line): chaindir.RelayListenStats and
// chaindir.RelaySendStats. With a chain directory (ListenConfig.Chain,
// SendConfig.Chain) each process writes its counters there in a file of
// its own (package chaindir names and lays it out: KIND-PID.json, PID its
// process id), one JSON object on one line,
//
//	{"time":T,"pid":P,"connected":N,...}
//
// for cnj-serve's /metrics, which sums the files of each kind (the
// fields are those of the two structs; cnj-format(5) lists them). Two
// processes of a kind on one directory (the two cnj-relay send of a node
// that mines) thus both count. The file is written as the process starts
// and replaced atomically (a temporary file beside it, renamed; no fsync:
// it is not data) at most every StatsEvery when a counter changed and at
// least every StatsHeartbeat, so that a file older than StatsStale is that
// of a process that is gone; it is removed when the process stops.
//
// A process that was killed leaves its file behind. Every relay process
// on the directory, as it starts and then every StatsHeartbeat, removes
// the stats files of other processes, of both kinds, whose time is more
// than StatsStale from now, with their temporary files (by their
// modification time) and relay-listen.json and relay-send.json, which
// older relays wrote; it logs each ("relay-send-PID.json: removed, not
// rewritten for 40s: its process is gone"). It never removes its own,
// nor anything that is not a regular file, nor a file another process
// replaced since it was read. A running process keeps its file fresh;
// were it held up for longer than StatsStale and its file removed, it
// writes it again at its next heartbeat. Process ids name the files:
// relays in separate PID namespaces (containers) that share a chain
// directory could share a name, and count as one.
//
// # What it does not do
//
// It does not judge records (cnj-verify does), fetch missing blocks
// (cnj-sync does) or share peer lists (the web app's /api/peers does). It
// never prints: what it has to say goes to the Logf function of its
// configuration, one line per call, without the command's name.
//
// # Errors
//
// NewListener and Send return I/O errors (an address in use, an unreadable
// peers file, a stdout that fails). Send also returns a *NotDeliveredError
// when its input ended and some peer did not get every line.
package relay
