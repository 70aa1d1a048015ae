// Package rule holds the verdicts of Coniunctum's validation: a stable reason
// code for every way a line, a transaction, a block or a chain file can be
// refused, and the error type that carries it.
//
// Codes are part of the product contract: they go into rejects.log, into the
// stderr line of cnj-verify and cnj-sign, and tests assert them instead of
// message wording (as btcd pairs ErrorCode with RuleError). Never rename one.
// I/O failures are not verdicts and are never wrapped in an Error.
package rule

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable reason for a refusal.
type Code string

// Decoding: the line is not a well-formed record.
const (
	BadJSON      Code = "bad-json"      // not strict JSON: syntax, NUL, escapes, nesting, truncation
	TooLarge     Code = "too-large"     // line longer than its limit
	DuplicateKey Code = "duplicate-key" // a key twice, or twice up to case
	UnknownField Code = "unknown-field" // a key the record does not have
	MissingField Code = "missing-field" // a key the record needs is absent
	BadNumber    Code = "bad-number"    // float, sign, leading zero, overflow
	BadHex       Code = "bad-hex"       // not lowercase hex of the field's length
	BadType      Code = "bad-type"      // "type" is not a known record type
	BadField     Code = "bad-field"     // a value of the wrong JSON kind or out of range
)

// Transactions.
const (
	BadAddress        Code = "bad-address"        // malformed address or bad checksum
	WrongNetwork      Code = "wrong-network"      // address or record of another network
	SenderMismatch    Code = "sender-mismatch"    // sender is not the address of pubkey
	BadHash           Code = "bad-hash"           // hash field is not the hash of the record
	BadSignature      Code = "bad-signature"      // Ed25519 (ZIP-215) verification failed
	ZeroAmount        Code = "zero-amount"        // amount is 0
	LowFee            Code = "low-fee"            // fee below the network minimum
	Overflow          Code = "overflow"           // amount, fee or their sum above MaxMoney
	InsufficientFunds Code = "insufficient-funds" // sender cannot cover amount+fee
	ImmatureSpend     Code = "immature-spend"     // covered only by rewards not yet mature
	DuplicateID       Code = "duplicate-id"       // the sender's id already on the chain, in the block or the mempool
	BadTxTime         Code = "bad-tx-time"        // timestamp outside the replay window
)

// Blocks.
const (
	HighHash        Code = "high-hash"        // header hash above target
	BadTarget       Code = "bad-target"       // target is not the retarget rule's value
	BadMerkle       Code = "bad-merkle"       // merkle_root does not commit to the transactions
	BadBlockHash    Code = "bad-block-hash"   // hash field is not the hash of the header
	NoReward        Code = "no-reward"        // no reward, or not first
	ExtraReward     Code = "extra-reward"     // a second reward
	BadReward       Code = "bad-reward"       // reward above subsidy+fees, wrong index or receiver
	TimeTooOld      Code = "time-too-old"     // timestamp not above the median of the last 11
	TimeTooNew      Code = "time-too-new"     // timestamp more than 2 h ahead of the clock
	UnknownParent   Code = "unknown-parent"   // previous_hash names no known block
	BadIndex        Code = "bad-index"        // index is not parent+1
	BlockTooLarge   Code = "block-too-large"  // line longer than max_block_bytes
	InvalidAncestor Code = "invalid-ancestor" // builds on a block known to be invalid
	BadGenesis      Code = "bad-genesis"      // genesis file malformed or of another network
)

// Storage.
const (
	Corrupt Code = "corrupt" // a chain file fails its checksum or does not parse
)

// Node policy: not consensus. What they refuse may be valid, and another
// node, or this one later, may take it.
const (
	ForkTooDeep Code = "fork-too-deep" // a side block forking too far below the tip, with less work than it
	Evicted     Code = "evicted"       // a pooled transfer pushed out of a full mempool by a higher fee
)

// Error is a refusal with its reason code. Msg says what was wrong in words
// for a person; Code says it for a program.
type Error struct {
	Code Code
	Msg  string
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return string(e.Code)
	}
	return string(e.Code) + ": " + e.Msg
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code Code, format string, args ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of the first *Error in err's chain, or "" when err
// is nil or carries no verdict (an I/O error, say).
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }
