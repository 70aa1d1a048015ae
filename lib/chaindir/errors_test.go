package chaindir

import (
	"errors"
	"fmt"
	"testing"

	"github.com/coniunctum/cnj/lib/rule"
)

func TestCorruptErrorCode(t *testing.T) {
	err := Corruptf("blocks/000001.jsonl", 17, "bad")
	if rule.CodeOf(err) != rule.Corrupt {
		t.Fatalf("code %q", rule.CodeOf(err))
	}
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Line != 17 || err.Error() != "blocks/000001.jsonl line 17: bad" {
		t.Fatalf("%v", err)
	}
	if CorruptOf(fmt.Errorf("opening: %w", err)) != ce {
		t.Fatal("CorruptOf does not find a wrapped CorruptError")
	}
	if CorruptOf(errors.New("disk full")) != nil {
		t.Fatal("CorruptOf found damage in an I/O error")
	}
}
