package holder

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/coniunctum/cnj/internal/sign"
	"github.com/coniunctum/cnj/internal/wallet"
	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/chainhash"
	"github.com/coniunctum/cnj/lib/hostport"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/relay"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/webclient"
)

// Defaults of a zero Holder field.
const (
	// DefaultSendWait bounds how long send waits for the source to take
	// or refuse the transfer: the relay hands it over within seconds, and
	// the source's web app sees its mempool change within a second.
	DefaultSendWait = 30 * time.Second
	// DefaultPoll is how often send asks for the transfer's fate.
	DefaultPoll = 200 * time.Millisecond
)

// Holder is the wallet holder's setup: the key, the sources, where the
// held headers live.
type Holder struct {
	Sources    []string // HOST[:PORT] of the sources' web apps; the first is where send sends
	Key        string   // the key file; its public key is kept in Key+".pub"
	PassFile   string   // the passphrase file, or "" for the terminal
	DataDir    string   // the wallet's data directory: one directory per network, named by its genesis hash
	RelayPort  int      // the port of the sources' relays (relay.DefaultPort)
	WorkFactor int      // scrypt work factor of new key files; 0 is keys' default
	Wait       time.Duration
	Poll       time.Duration
	Client     *webclient.Client
	Now        func() int64
}

func (h *Holder) now() int64 {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now().Unix()
}

func (h *Holder) client() *webclient.Client {
	if h.Client == nil {
		h.Client = webclient.New(webclient.Config{})
	}
	return h.Client
}

// ParseSource reads a source as a user gives it (HOST, HOST:PORT,
// http://HOST:PORT/) into HOST:PORT, on the web app's port by default.
func ParseSource(s string) (string, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "http://")
	s, _, _ = strings.Cut(s, "/")
	return hostport.Parse(s, hostport.WebPort)
}

// Network asks the first source for the network's genesis; every other
// source must be of the same network.
func (h *Holder) Network(ctx context.Context) (*params.Params, error) {
	if len(h.Sources) == 0 {
		return nil, errors.New("no source node: pass -s HOST, set CNJ_SOURCE, or install from a node (GET /install.sh)")
	}
	var p *params.Params
	for _, src := range h.Sources {
		q, err := h.client().Genesis(ctx, src)
		if err != nil {
			return nil, fmt.Errorf("source node %s is offline or not a Coniunctum node: %w", src, err)
		}
		if p != nil && q.Hash() != p.Hash() {
			return nil, fmt.Errorf("source nodes %s and %s are of different networks", h.Sources[0], src)
		}
		p = q
	}
	return p, nil
}

// open starts a session: the network, the held headers brought up to the
// most work the sources prove.
func (h *Holder) open(ctx context.Context) (*Session, error) {
	p, err := h.Network(ctx)
	if err != nil {
		return nil, err
	}
	gh := p.Hash()
	st, err := OpenStore(filepath.Join(h.DataDir, hex.EncodeToString(gh[:])), p, h.now())
	if err != nil {
		return nil, err
	}
	ss := &Session{P: p, Store: st, wc: h.client(), now: h.now}
	for _, src := range h.Sources {
		ss.Sources = append(ss.Sources, &Source{Addr: src})
	}
	if err := ss.sync(ctx, h.now()); err != nil {
		st.Close()
		return nil, err
	}
	return ss, nil
}

// pubFile is where the key's public key is kept, so that reading needs no
// passphrase.
func (h *Holder) pubFile() string { return h.Key + ".pub" }

// PublicKey returns the key's public key: from Key+".pub", or, when that
// is missing (a key made by cnj-keygen), from the key file itself, after
// which it is written there for next time.
func (h *Holder) PublicKey() (ed25519.PublicKey, error) {
	b, err := os.ReadFile(h.pubFile())
	if err == nil {
		pub, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%s: not a public key (64 hex digits): remove it, and it is written again from the key", h.pubFile())
		}
		return pub, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	priv, err := h.privateKey()
	if err != nil {
		return nil, err
	}
	pub := priv.Public().(ed25519.PublicKey)
	h.writePub(pub) // a cache: a key in a read-only place still works
	return pub, nil
}

func (h *Holder) privateKey() (ed25519.PrivateKey, error) {
	if _, err := os.Stat(h.Key); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no key: make one with cnj-wallet init, or restore one with cnj-wallet restore", h.Key)
	}
	return wallet.OpenKey(h.Key, h.PassFile)
}

func (h *Holder) writePub(pub ed25519.PublicKey) error {
	f, err := os.OpenFile(h.pubFile(), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "%x\n", pub)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Address prints the key's address on the sources' network.
func (h *Holder) Address(ctx context.Context, w io.Writer) error {
	p, err := h.Network(ctx)
	if err != nil {
		return err
	}
	pub, err := h.PublicKey()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, keys.Address(p.AddressPrefix, pub))
	return err
}

// Init makes a new key for the sources' network under a passphrase asked
// twice, never overwriting a file, and writes its recovery phrase, the 24
// words on one line, to phrase (the terminal, or a file of the caller's).
// It prints the address.
func (h *Holder) Init(ctx context.Context, phrase io.Writer, w io.Writer) error {
	priv, err := keys.Generate()
	if err != nil {
		return err
	}
	return h.create(ctx, priv, phrase, w)
}

// Restore rebuilds the key file of a recovery phrase.
func (h *Holder) Restore(ctx context.Context, words string, w io.Writer) error {
	seed, err := SeedFromPhrase(words)
	if err != nil {
		return err
	}
	return h.create(ctx, ed25519.NewKeyFromSeed(seed), nil, w)
}

func (h *Holder) create(ctx context.Context, priv ed25519.PrivateKey, phrase io.Writer, w io.Writer) error {
	for _, f := range []string{h.Key, h.pubFile()} {
		if _, err := os.Lstat(f); err == nil {
			return fmt.Errorf("%s: file exists, not overwriting it", f)
		}
	}
	p, err := h.Network(ctx)
	if err != nil {
		return err
	}
	pass, err := wallet.Passphrase(h.PassFile, true)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(h.Key), 0o700); err != nil {
		return err
	}
	if err := keys.WriteKeyFile(h.Key, priv, pass, h.WorkFactor); err != nil {
		return err
	}
	pub := priv.Public().(ed25519.PublicKey)
	if err := h.writePub(pub); err != nil {
		return err
	}
	if phrase != nil {
		words, err := Phrase(priv.Seed())
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(phrase, "%s\n", words); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintln(w, keys.Address(p.AddressPrefix, pub))
	return err
}

// LieError is a run in which sources lied: the output holds only what was
// proven, and the lies are listed.
type LieError struct{ Lies []string }

func (e *LieError) Error() string { return strings.Join(e.Lies, "; ") }

func lies(ss *Session) error {
	if l := ss.Lies(); len(l) > 0 {
		return &LieError{Lies: l}
	}
	return nil
}

// verifiedLine says how much was checked.
func verifiedLine(r *Report) string {
	return fmt.Sprintf("verified: %d of %d confirmed entries against %s headers", r.Verified, r.Confirmed, thousands(r.Headers))
}

func thousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// report opens a session and reads the address's checked history.
func (h *Holder) report(ctx context.Context) (*Session, *Report, error) {
	pub, err := h.PublicKey()
	if err != nil {
		return nil, nil, err
	}
	ss, err := h.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	r, err := ss.history(ctx, keys.Address(ss.P.AddressPrefix, pub))
	if err != nil {
		ss.Close()
		return nil, nil, err
	}
	return ss, r, nil
}

// Balance prints the address's funds as its verified entries add up, and
// how much was verified; a *LieError when a source lied.
func (h *Holder) Balance(ctx context.Context, asJSON bool, w io.Writer) error {
	ss, r, err := h.report(ctx)
	if err != nil {
		return err
	}
	defer ss.Close()
	s := r.Sums(ss.P.Maturity)
	var out bytes.Buffer
	if asJSON {
		b, _ := json.Marshal(struct {
			Address   string `json:"address"`
			Confirmed uint64 `json:"confirmed"`
			Immature  uint64 `json:"immature"`
			Pending   int64  `json:"pending"`
			Height    uint64 `json:"height"`
			Verified  int    `json:"verified"`
			Entries   int    `json:"entries"`
			Headers   uint64 `json:"headers"`
		}{r.Address, s.Confirmed, s.Immature, s.Pending, r.Headers, r.Verified, r.Confirmed, r.Headers})
		out.Write(append(b, '\n'))
	} else {
		fmt.Fprintf(&out, "address    %s\n", r.Address)
		fmt.Fprintf(&out, "spendable  %s CNJ\n", amount.Format(s.Confirmed))
		fmt.Fprintf(&out, "immature   %s CNJ\n", amount.Format(s.Immature))
		fmt.Fprintf(&out, "pending    %s CNJ (not in a block yet: not verifiable)\n", signed(s.Pending))
		fmt.Fprintf(&out, "%s\n", verifiedLine(r))
	}
	if _, err := w.Write(out.Bytes()); err != nil {
		return err
	}
	return lies(ss)
}

func signed(v int64) string {
	if v < 0 {
		return "-" + amount.Format(uint64(-v))
	}
	return amount.Format(uint64(v))
}

// History prints the address's entries, oldest first, then the pending
// ones; an entry that failed its checks is not among them.
func (h *Holder) History(ctx context.Context, asJSON bool, w io.Writer) error {
	ss, r, err := h.report(ctx)
	if err != nil {
		return err
	}
	defer ss.Close()
	var out bytes.Buffer
	for _, e := range r.Entries {
		if asJSON {
			out.Write(entryJSON(&e))
			continue
		}
		where := "pending"
		if e.At.Confirmed {
			where = "block " + strconv.FormatUint(e.At.Height, 10)
		}
		check := "verified, " + strconv.FormatUint(e.Confirmations, 10) + " confirmations"
		switch {
		case !e.At.Confirmed:
			check = "unconfirmed"
		case !e.Verified:
			check = "NOT verified: on a branch the held chain left"
		}
		amt := "+" + amount.Format(e.Amount) + " CNJ"
		switch e.Kind {
		case "out":
			amt = "-" + amount.Format(e.Amount) + " CNJ (fee " + amount.Format(e.Fee) + ")"
		case "self":
			amt = "0 CNJ (fee " + amount.Format(e.Fee) + ")"
		}
		who := ""
		if e.Counterparty != "" {
			who = " " + e.Counterparty
		}
		fmt.Fprintf(&out, "%-12s %-6s %s%s  %s  [%s]\n", where, e.Kind, amt, who, e.TxID(), check)
	}
	if !asJSON {
		fmt.Fprintf(&out, "%s\n", verifiedLine(r))
	}
	if _, err := w.Write(out.Bytes()); err != nil {
		return err
	}
	return lies(ss)
}

// entryJSON is cnj-chain history's line (explore.AppendEvent's fields),
// "kind" "out" for a transfer to oneself too, with the wallet's
// "confirmations" and "verified".
func entryJSON(e *Entry) []byte {
	type line struct {
		Height        *uint64 `json:"height"`
		Block         *string `json:"block"`
		ID            *string `json:"id"`
		TxID          string  `json:"txid"`
		Kind          string  `json:"kind"`
		Amount        uint64  `json:"amount"`
		Fee           uint64  `json:"fee"`
		Counterparty  *string `json:"counterparty"`
		Confirmations uint64  `json:"confirmations"`
		Verified      bool    `json:"verified"`
	}
	l := line{TxID: e.TxID(), Kind: e.Kind, Amount: e.Amount, Fee: e.Fee, Confirmations: e.Confirmations, Verified: e.Verified}
	if e.At.Confirmed {
		hgt, blk := e.At.Height, hex.EncodeToString(e.At.Block[:])
		l.Height, l.Block = &hgt, &blk
	}
	if e.At.Transfer != nil {
		id, cp := hex.EncodeToString(e.At.Transfer.ID[:]), e.Counterparty
		l.ID, l.Counterparty = &id, &cp
	}
	b, _ := json.Marshal(l)
	return append(b, '\n')
}

// Refused is send's error when the source refused the transfer: its
// reason code and message.
type Refused struct {
	Source, Reason, Msg string
}

func (e *Refused) Error() string {
	return fmt.Sprintf("source node %s refused the transfer: %s: %s", e.Source, e.Reason, e.Msg)
}

// Send signs a transfer of amt base units to to, hands it to the first
// source's relay and waits, at most Wait, until that source has it in its
// mempool or a block (then prints the transfer line) or refuses it (a
// *Refused). It never reports success for what the source has not taken.
func (h *Holder) Send(ctx context.Context, to string, amt uint64, w io.Writer) error {
	pub, err := h.PublicKey()
	if err != nil {
		return err
	}
	ss, err := h.open(ctx)
	if err != nil {
		return err
	}
	defer ss.Close()
	if err := lies(ss); err != nil {
		return err // a source that lies about its chain is not sent through
	}
	if err := keys.CheckAddress(to, ss.P.AddressPrefix); err != nil {
		return fmt.Errorf("TO: %w", err)
	}
	var line bytes.Buffer
	err = sign.Run(sign.Options{KeyFile: h.Key, PassphraseFile: h.PassFile, Params: ss.P, Now: h.Now},
		[]sign.Intent{{To: to, Amount: amt}}, &line)
	if err != nil {
		return err
	}
	t, err := tx.Parse(bytes.TrimSuffix(line.Bytes(), []byte("\n")))
	if err != nil {
		return err
	}
	if !bytes.Equal(t.PubKey[:], pub) {
		return fmt.Errorf("%s does not hold the key of %s: remove %s, and it is written again from the key", h.pubFile(), h.Key, h.pubFile())
	}
	src := ss.Sources[0].Addr
	wait := h.Wait
	if wait <= 0 {
		wait = DefaultSendWait
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	host, _, _ := strings.Cut(src, ":")
	if strings.HasPrefix(src, "[") {
		host = src[:strings.Index(src, "]")+1]
	}
	port := h.RelayPort
	if port == 0 {
		port = relay.DefaultPort
	}
	to5050, err := hostport.Parse(host, port)
	if err != nil {
		return err
	}
	err = relay.Send(ctx, relay.SendConfig{Params: ss.P, To: []string{to5050}, DrainTimeout: wait / 2}, bytes.NewReader(line.Bytes()))
	if err != nil {
		return fmt.Errorf("could not hand the transfer to %s's relay: %w", to5050, err)
	}
	poll := h.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	for {
		f, err := h.client().Fate(ctx, src, chainhash.ID(t.ID))
		if err == nil {
			switch f.State {
			case "pending", "confirmed":
				_, err := w.Write(line.Bytes())
				return err
			case "refused", "dropped":
				return &Refused{Source: src, Reason: f.Reason, Msg: f.Msg}
			}
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("source node %s did not say within %s whether it took transfer %x: %w", src, wait, t.ID, err)
			}
			return fmt.Errorf("source node %s has not taken transfer %x within %s: cnj-wallet status %x tells what becomes of it", src, t.ID, wait, t.ID)
		case <-time.After(poll):
		}
	}
}

// Status prints what became of transfer id: confirmed with its
// confirmations (checked against the held chain), pending, refused with
// the reason, or unknown, as each source says.
func (h *Holder) Status(ctx context.Context, id chainhash.ID, asJSON bool, w io.Writer) error {
	ss, err := h.open(ctx)
	if err != nil {
		return err
	}
	defer ss.Close()
	var out bytes.Buffer
	proven := false
	var proof Entry
	for _, s := range ss.Sources {
		if s.Chain == nil {
			continue
		}
		f, err := h.client().Fate(ctx, s.Addr, id)
		if err != nil {
			return fmt.Errorf("source node %s: %w", s.Addr, err)
		}
		type answer struct {
			TxID          string `json:"txid"`
			Source        string `json:"source"`
			State         string `json:"state"`
			Height        uint64 `json:"block_height,omitempty"`
			Confirmations uint64 `json:"confirmations,omitempty"`
			Verified      bool   `json:"verified"`
			Reason        string `json:"reason,omitempty"`
			Msg           string `json:"msg,omitempty"`
			Headers       uint64 `json:"headers"`
			Returned      uint64 `json:"returned"`
		}
		a := answer{TxID: id.String(), Source: s.Addr, State: f.State, Reason: f.Reason, Msg: f.Msg, Headers: ss.Held().Height(), Returned: f.Returned}
		text := ""
		switch f.State {
		case "confirmed":
			at, err := h.client().Tx(ctx, s.Addr, id[:])
			if err != nil {
				return fmt.Errorf("source node %s: %w", s.Addr, err)
			}
			if at.Transfer == nil || !at.Confirmed || at.Height != f.Height || at.Block != f.Block {
				s.lie("transfer %s: its fate and its transaction disagree", id)
				continue
			}
			e, err := ss.check(ctx, s, at.Transfer.Sender, at)
			if IsLie(err) {
				s.lie("%v", err)
				continue
			}
			if err != nil {
				return err
			}
			a.Height, a.Confirmations, a.Verified = at.Height, e.Confirmations, e.Verified
			text = fmt.Sprintf("confirmed: block %d, %d confirmations; verified against %s headers", at.Height, e.Confirmations, thousands(ss.Held().Height()))
			if !e.Verified {
				text = fmt.Sprintf("confirmed: block %d, on a branch the held chain left: NOT verified", at.Height)
			} else if !proven {
				proven, proof = true, e
			}
		case "pending":
			text = "pending: in the source's mempool, not in a block yet"
			if f.Returned > 0 {
				text = fmt.Sprintf("pending again: confirmed, then put back into the source's mempool by a reorganization (%s), not in a block now", times(f.Returned))
			}
		case "refused":
			text = "refused: " + f.Reason + ": " + f.Msg
		case "dropped":
			text = "dropped: the source's mempool let it go unmined: " + f.Reason
		default:
			text = "unknown: the source has no such transfer"
		}
		if asJSON {
			b, _ := json.Marshal(a)
			out.Write(append(b, '\n'))
		} else if len(ss.Sources) > 1 {
			fmt.Fprintf(&out, "%s: %s\n", s.Addr, text)
		} else {
			fmt.Fprintf(&out, "%s\n", text)
		}
	}
	if proven {
		for _, s := range ss.Sources {
			if s.Chain != nil && proof.At.Height <= s.Chain.Height() && s.Chain.Hash(proof.At.Height) == proof.At.Block {
				// Its chain holds the block: it must know the transfer.
				f, err := h.client().Fate(ctx, s.Addr, id)
				if err == nil && f.State != "confirmed" {
					s.lie("an omission: it says transfer %s is %s, %s proves it in block %d", id, f.State, proof.Source, proof.At.Height)
				}
			}
		}
	}
	if _, err := w.Write(out.Bytes()); err != nil {
		return err
	}
	return lies(ss)
}

// times says n times in words: "once", "twice", "3 times".
func times(n uint64) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}
