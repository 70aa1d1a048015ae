package miner

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
)

// TestStatsFile: while it mines, cnj-mine keeps its counters in its stats
// file (proofs tried, blocks stored), for cnj-serve's /metrics; when it
// stops, the file is gone.
func TestStatsFile(t *testing.T) {
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: time.Now().Unix() - 60, NoRetarget: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "chain")
	if err := node.Create(dir, p); err != nil {
		t.Fatal(err)
	}
	d := chaindir.Dir(dir)
	name := chaindir.RelayStatsName(chaindir.MineKind, os.Getpid())
	pub := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	found := 0
	err = Run(context.Background(), Options{Chain: dir, Address: keys.Address(p.AddressPrefix, pub), Blocks: 3, Threads: 1,
		Out: io.Discard, Warn: func(msg string) { t.Error(msg) },
		Found: func(*block.Block) {
			found++
			if found < 2 {
				return
			}
			// The file of the block before: written as it was stored.
			b, err := os.ReadFile(d.File(name))
			if err != nil {
				t.Fatal(err)
			}
			var st struct {
				Time   int64  `json:"time"`
				PID    int    `json:"pid"`
				Hashes uint64 `json:"hashes"`
				Blocks uint64 `json:"blocks"`
			}
			if err := json.Unmarshal(b, &st); err != nil || st.PID != os.Getpid() || st.Blocks != uint64(found-1) || st.Hashes < st.Blocks || st.Time <= 0 {
				t.Fatalf("stats file after %d blocks: %s (%v)", found-1, b, err)
			}
		}})
	if err != nil || found != 3 {
		t.Fatalf("Run: %v, %d blocks", err, found)
	}
	if _, err := os.Stat(d.File(name)); !os.IsNotExist(err) {
		t.Fatalf("the stats file outlived the miner: %v", err)
	}
}
