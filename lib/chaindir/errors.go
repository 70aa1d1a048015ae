package chaindir

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/coniunctum/cnj/lib/rule"
)

// CorruptError names the damaged file of a chain directory, and the line
// when the damage is in a block segment. Its rule code is corrupt.
type CorruptError struct {
	File string // relative to the chain directory, e.g. "blocks/000003.jsonl"
	Line int    // 1-based line in an uncompressed segment; 0 when not known
	Msg  string
}

func (e *CorruptError) Error() string {
	s := e.File
	if e.Line > 0 {
		s += " line " + strconv.Itoa(e.Line)
	}
	return s + ": " + e.Msg
}

// Unwrap gives the verdict, so rule.CodeOf reports corrupt.
func (e *CorruptError) Unwrap() error { return &rule.Error{Code: rule.Corrupt, Msg: e.Error()} }

// Corruptf returns a *CorruptError for file (relative to the directory)
// and line (0 when not known).
func Corruptf(file string, line int, format string, args ...any) error {
	return &CorruptError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// CorruptOf returns the *CorruptError in err's chain, or nil.
func CorruptOf(err error) *CorruptError {
	var ce *CorruptError
	if errors.As(err, &ce) {
		return ce
	}
	return nil
}

// ReindexHint ends the message of damage that cnj-chain reindex repairs.
const ReindexHint = "run cnj-chain reindex"
