package relay

import (
	"time"

	"github.com/coniunctum/cnj/lib/hostport"
	"github.com/coniunctum/cnj/lib/rule"
)

// DefaultPort is the relay's TCP port (the whitepaper's fixed port).
const DefaultPort = hostport.RelayPort

// Defaults of the limits. Tests lower them; ListenConfig and SendConfig
// fields left zero take these values.
var (
	// HandshakeTimeout bounds the time for the hello of the other side.
	HandshakeTimeout = 5 * time.Second
	// IdleTimeout bounds the time between two lines from a peer; a sender
	// writes an empty keep-alive line after KeepAlive of silence.
	IdleTimeout = 5 * time.Minute
	KeepAlive   = time.Minute
	// WriteTimeout bounds one write to a peer: a peer that takes longer to
	// read what was written is dropped.
	WriteTimeout = 10 * time.Second
	// DialTimeout bounds a connection attempt.
	DialTimeout = 5 * time.Second

	// MaxConns and MaxConnsPerIP bound the listener's connections.
	MaxConns      = 64
	MaxConnsPerIP = 4
	// Rate is the lines per second the listener reads from one peer IP,
	// Burst the lines it reads at once; Rate is also applied in bytes as
	// Rate*RateBytesPerLine per second, so that a peer cannot send many
	// big lines at the line rate.
	Rate             = 1000.0
	Burst            = 2000
	RateBytesPerLine = 2048

	// SeenSize is how many line hashes a seen-set remembers.
	SeenSize = 100_000

	// MaxRejects rejects within RejectWindow cut an IP off for CoolOff,
	// doubled for each repeat offence up to MaxCoolOff; offences are
	// forgotten after ForgetAfter without one.
	MaxRejects   = 10
	RejectWindow = time.Minute
	CoolOff      = time.Minute
	MaxCoolOff   = time.Hour
	ForgetAfter  = 24 * time.Hour
	// Forgiven are the reject reasons that do not count: honest peers
	// send blocks whose parent a node that is behind does not have yet
	// (cnj-sync fetches it).
	Forgiven = []rule.Code{rule.UnknownParent}

	// SendQueue and SendQueueBytes bound the lines queued for one peer.
	// A peer whose queue is full and that took nothing for StallTimeout is
	// dropped; one that reads, but more slowly than lines come, misses the
	// lines that do not fit.
	SendQueue      = 4096
	SendQueueBytes = 8 << 20
	StallTimeout   = 2 * time.Second
	// SendBuffer is the kernel send buffer of an outgoing connection, so
	// that a peer that does not read is noticed after that much.
	SendBuffer = 256 << 10

	// BackoffMin and BackoffMax bound the wait before reconnecting; a peer
	// of another network is retried after BackoffMax.
	BackoffMin = 250 * time.Millisecond
	BackoffMax = 30 * time.Second

	// DrainTimeout is how long Send waits at the end of its input for
	// queued lines to reach the peers.
	DrainTimeout = 10 * time.Second

	// PeersPoll and RejectsPoll are how often the peers file and
	// rejects.log are looked at.
	PeersPoll   = time.Second
	RejectsPoll = 250 * time.Millisecond

	// MaxPeers bounds the peers file the listener adds to and the peers
	// Send connects to.
	MaxPeers = 1000
)
