package relay

import (
	"time"

	"github.com/coniunctum/cnj/lib/hostport"
	"github.com/coniunctum/cnj/lib/rule"
)

// DefaultPort is the relay's TCP port (the whitepaper's fixed port).
const DefaultPort = hostport.RelayPort

// Defaults of the limits: ListenConfig, SendConfig and Bans fields left
// zero take these values.
const (
	// DefaultHandshakeTimeout bounds the time for the hello of the other
	// side.
	DefaultHandshakeTimeout = 5 * time.Second
	// DefaultIdleTimeout bounds the time between two lines from a peer; a
	// sender writes an empty keep-alive line after DefaultKeepAlive of
	// silence.
	DefaultIdleTimeout = 5 * time.Minute
	DefaultKeepAlive   = time.Minute
	// DefaultWriteTimeout bounds one write to a peer: a peer that takes
	// longer to read what was written is dropped.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultDialTimeout bounds a connection attempt.
	DefaultDialTimeout = 5 * time.Second

	// DefaultMaxConns, DefaultMaxConnsPerIP and DefaultMaxConnsPerGroup
	// bound the listener's connections: in all, from one IP, from one
	// network group (netGroup: an IPv4 /24, an IPv6 /48). When all are
	// taken, a newcomer evicts one (slots.go), but for the protected:
	// those of the peers file, those of the ProtectBlocks and ProtectTxs
	// IPs that delivered valid blocks and transfers last, and then the
	// ProtectOldest longest-connected.
	DefaultMaxConns         = 64
	DefaultMaxConnsPerIP    = 4
	DefaultMaxConnsPerGroup = 8
	ProtectBlocks           = 4
	ProtectTxs              = 4
	ProtectOldest           = 8
	// DefaultRate is the lines per second the listener reads from one peer
	// IP, DefaultBurst the lines it reads at once; the rate is also
	// applied in bytes as Rate*RateBytesPerLine per second, so that a peer
	// cannot send many big lines at the line rate.
	DefaultRate      = 1000.0
	DefaultBurst     = 2000
	RateBytesPerLine = 2048

	// SeenSize is how many line hashes a seen-set remembers.
	SeenSize = 100_000

	// DefaultMaxRejects rejects within DefaultRejectWindow cut an IP off
	// for DefaultCoolOff, doubled for each repeat offence up to
	// DefaultMaxCoolOff; offences are forgotten after DefaultForgetAfter
	// without one (NewBans).
	DefaultMaxRejects   = 10
	DefaultRejectWindow = time.Minute
	DefaultCoolOff      = time.Minute
	DefaultMaxCoolOff   = time.Hour
	DefaultForgetAfter  = 24 * time.Hour
	// DefaultOrphanWeight orphans (unknown-parent) count as one reject
	// (Bans.Orphan). An honest peer sends a node that is behind at most
	// one orphan per new block of the network, until cnj-sync catches the
	// node up (the role scripts run it every 30 s): about one in ten
	// minutes on main, 30 a minute on devnet (2 s spacing). With
	// DefaultMaxRejects that is 320 orphans a minute before a cut-off, ten
	// times devnet's honest rate, where a flood of free orphans is
	// thousands: what one IP can make a node log for orphans is about 320
	// rejects.log lines per cut-off, and a node stores no orphan.
	DefaultOrphanWeight = 32

	// DefaultSendQueue and DefaultSendQueueBytes bound the lines queued
	// for one peer. A peer whose queue is full and that took nothing for
	// DefaultStallTimeout is dropped; one that reads, but more slowly than
	// lines come, misses the lines that do not fit.
	DefaultSendQueue      = 4096
	DefaultSendQueueBytes = 8 << 20
	DefaultStallTimeout   = 2 * time.Second
	// DefaultSendBuffer is the kernel send buffer of an outgoing
	// connection, so that a peer that does not read is noticed after that
	// much.
	DefaultSendBuffer = 256 << 10

	// DefaultBackoffMin and DefaultBackoffMax bound the wait before
	// reconnecting; a peer of another network is retried after the
	// maximum.
	DefaultBackoffMin = 250 * time.Millisecond
	DefaultBackoffMax = 30 * time.Second

	// DefaultDrainTimeout is how long Send waits at the end of its input
	// for queued lines to reach the peers.
	DefaultDrainTimeout = 10 * time.Second

	// DeliveredEvery is how often Send writes the deliveries it saw to
	// relay-delivered.jsonl (chaindir.MergeDelivered), when it saw some.
	DeliveredEvery = time.Second

	// DefaultPeersPoll and DefaultRejectsPoll are how often the peers file
	// and rejects.log are looked at (the listener also looks at
	// relay-delivered.jsonl and its peers file as often as at
	// rejects.log).
	DefaultPeersPoll   = time.Second
	DefaultRejectsPoll = 250 * time.Millisecond
)

// orphanReasons are the reject reasons that count as orphans, a fraction
// of a reject (Bans.Orphan): honest peers send blocks whose parent a node
// that is behind does not have yet (cnj-sync fetches it).
var orphanReasons = []rule.Code{rule.UnknownParent}
