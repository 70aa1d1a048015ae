package blockstore

import (
	"bytes"
	"os"
	"testing"

	"github.com/coniunctum/cnj/lib/chaindir"
)

// TestStateHeader: a store opened with Options.StateHeader gives the
// state file's block without reading the ledger's bytes; a file whose
// size is not its header's is refused as a full open refuses it, and the
// store refuses to write.
func TestStateHeader(t *testing.T) {
	d := chaindir.Dir(t.TempDir())
	var g [32]byte
	g[0] = 0x42
	if err := Init(g)(d); err != nil {
		t.Fatal(err)
	}
	ledger := bytes.Repeat([]byte("ledger"), 1000)
	file := encodeState(g, Snapshot{Tip: g, Height: 0, Ledger: ledger})
	state := func(data []byte, header bool) (*Snapshot, *Store) {
		t.Helper()
		if err := os.WriteFile(d.File(chaindir.StateFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Open(d, g, Options{StateHeader: header})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s.State(), s
	}

	sn, s := state(file, true)
	if sn == nil || sn.Tip != g || sn.Height != 0 || sn.Ledger != nil {
		t.Fatalf("header alone: %+v (%v)", sn, s.StateError())
	}
	if err := s.Begin(); err == nil {
		t.Error("a store opened for the state's header began a write")
	}
	if sn, _ := state(file, false); sn == nil || !bytes.Equal(sn.Ledger, ledger) {
		t.Fatalf("full: %+v", sn)
	}
	for name, bad := range map[string][]byte{
		"cut":     file[:len(file)-1],
		"longer":  append(bytes.Clone(file), 0),
		"header":  file[:stateHeaderSize],
		"short":   file[:40],
		"magic":   append([]byte("CNJ-ST-2"), file[8:]...),
		"network": append(append(bytes.Clone(file[:8]), make([]byte, 32)...), file[40:]...),
	} {
		for _, header := range []bool{true, false} {
			if sn, s := state(bad, header); sn != nil || chaindir.CorruptOf(s.StateError()) == nil {
				t.Errorf("%s (header alone %v): %+v, %v", name, header, sn, s.StateError())
			}
		}
	}
	// The checksum covers the whole file: only a full open checks it.
	flipped := bytes.Clone(file)
	flipped[stateHeaderSize+3] ^= 1
	if sn, _ := state(flipped, false); sn != nil {
		t.Error("a full open took a state file whose checksum fails")
	}
	if sn, _ := state(flipped, true); sn == nil {
		t.Error("the header alone refused a state file whose header is sound")
	}
}
