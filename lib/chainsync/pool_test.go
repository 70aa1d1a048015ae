package chainsync_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/chainsync"
)

// TestPoolConvergence: a node on the same tip as its peer takes the
// pending transfers of the peer's pool it lacks, in one run, by ids and a
// batch fetch; what its pool already holds is not fetched again; a
// transfer it refuses (no funds) is logged in rejects.log without the
// peer's IP; and the bounds hold: per peer, per run.
func TestPoolConvergence(t *testing.T) {
	nw := newNetwork(t, false)
	dir := base(t, nw, 10)
	fp, addr := peerOf(t, dir)
	a, b, c := nw.transfer(0, 1, 100), nw.transfer(0, 2, 200), nw.transfer(0, 3, 300)
	broke := nw.transfer(3, 1, 1) // key 3 has nothing
	n := open(t, dir)
	submitTx(t, n, a) // the node holds a already
	n.Close()
	fp.Pool = [][]byte{a.AppendJSON(nil), b.AppendJSON(nil), broke.AppendJSON(nil), c.AppendJSON(nil)}

	// One from the peer in this run: b (a is held).
	rep, err := run(t, dir, chainsync.Options{Peers: []string{addr}, KeepPeers: true, PoolPerPeer: 1})
	if err != nil || rep.PoolTxs != 1 || len(rep.Problems) > 0 {
		t.Fatalf("bounded run: %v, %+v\n%s", err, rep, problems(rep))
	}
	n = open(t, dir)
	if !n.Pool.Has(b.Hash) || n.Pool.Has(c.Hash) || n.Pool.Len() != 2 {
		t.Fatalf("after a run bounded to one transfer: %d pooled, b %v, c %v", n.Pool.Len(), n.Pool.Has(b.Hash), n.Pool.Has(c.Hash))
	}
	n.Close()

	// The rest: broke is refused, c taken.
	rep, err = run(t, dir, chainsync.Options{Peers: []string{addr}, KeepPeers: true})
	if err != nil || rep.PoolTxs != 1 || len(rep.Problems) > 0 {
		t.Fatalf("second run: %v, %+v\n%s", err, rep, problems(rep))
	}
	n = open(t, dir)
	defer n.Close()
	if !n.Pool.Has(c.Hash) || n.Pool.Has(broke.Hash) || n.Pool.Len() != 3 {
		t.Fatalf("after the second run: %d pooled", n.Pool.Len())
	}
	log, _ := os.ReadFile(filepath.Join(dir, chaindir.RejectsFile))
	if bytes.Count(log, []byte("\n")) != 1 || !bytes.Contains(log, []byte(`"reason":"insufficient-funds"`)) || !bytes.Contains(log, []byte(`"from":"",`)) {
		t.Errorf("rejects.log: %s", log)
	}

	// Bounded per run, across peers: two peers, one transfer in all.
	d := nw.transfer(0, 1, 400)
	fp.Pool = [][]byte{a.AppendJSON(nil), d.AppendJSON(nil)}
	fp2, addr2 := peerOf(t, dir)
	e := nw.transfer(0, 2, 500)
	fp2.Pool = [][]byte{e.AppendJSON(nil)}
	rep, err = run(t, dir, chainsync.Options{Peers: []string{addr, addr2}, KeepPeers: true, PoolPerRun: 1})
	if err != nil || rep.PoolTxs != 1 {
		t.Fatalf("run bounded to one: %v, %+v", err, rep)
	}
	if rep, err = run(t, dir, chainsync.Options{Peers: []string{addr, addr2}, KeepPeers: true, NoPool: true}); err != nil || rep.PoolTxs != 0 {
		t.Fatalf("NoPool: %v, %+v", err, rep)
	}
}
