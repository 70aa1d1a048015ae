package chain

import (
	"math/rand"
	"testing"

	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

// TestPropertyMoneyAndReplay drives a chain with a few hundred random blocks:
// random transfers (some overspending), random burns of part of the reward,
// forks at random depths and bursts on them that force reorganizations
// (some through invalid blocks), with undo data for only a few blocks in
// memory, so that deep reorganizations read it back from the store, or,
// with a store that keeps none (an older directory), replay from genesis. After every step the
// ledger must equal a fresh replay of the main chain, byte for byte, and its
// total must be what the main chain's rewards put in less the fees its
// transfers paid.
func TestPropertyMoneyAndReplay(t *testing.T) {
	for _, run := range []struct {
		seed   int64
		noUndo bool
	}{{1, false}, {1, true}} {
		seed := run.seed
		p := devnet(t, false)
		st := NewMemStore()
		st.NoUndo = run.noUndo
		c := New(p, st)
		c.depth = 6
		m := newMiner(p, seed)
		rng := rand.New(rand.NewSource(seed))
		var ws []wallet
		for i := byte(1); i <= 6; i++ {
			ws = append(ws, newWallet(p, i))
		}
		var reorgs, refused, invalidated, sides int
		known := [][32]byte{p.Hash()}

		transfers := func(parentTS int64) []*tx.Tx {
			led := c.Ledger()
			var out []*tx.Tx
			for i := rng.Intn(4); i > 0; i-- {
				from, to := ws[rng.Intn(len(ws))], ws[rng.Intn(len(ws))]
				fee := p.MinFee + uint64(rng.Intn(3000))
				have := led.Balance(from.addr).Confirmed
				var amt uint64
				switch {
				case rng.Intn(12) == 0:
					amt = have + 1 // overspend
				case have > fee+1:
					amt = 1 + uint64(rng.Int63n(int64((have-fee)/2+1)))
				default:
					continue
				}
				out = append(out, m.pay(from, to.addr, amt, fee, parentTS))
			}
			return out
		}
		add := func(parent [32]byte, withTxs bool) {
			pb := c.Node(parent)
			var txs []*tx.Tx
			if withTxs {
				txs = transfers(pb.Timestamp)
			}
			bs := blockSpec{}
			if rng.Intn(5) == 0 {
				bs.reward = rng.Int63n(int64(p.Reward)) + 1 // burn the rest
			}
			b := m.mine(parent, ws[rng.Intn(len(ws))].addr, bs, txs...)
			res, err := c.Add(b, nil, now)
			switch {
			case err == nil:
				known = append(known, b.Hash)
				if len(res.Disconnected) > 0 {
					reorgs++
				}
				if res.Side {
					sides++
				}
			case rule.CodeOf(err) != "":
				refused++
				if res != nil {
					known = append(known, b.Hash)
					invalidated += len(res.Invalidated)
				}
			default:
				t.Fatalf("seed %d: %v", seed, err)
			}
		}

		for step := 0; step < 300; step++ {
			tip := c.Tip()
			switch r := rng.Intn(10); {
			case r < 6: // extend the tip
				add(tip.Hash, true)
			case r < 9: // fork d blocks down and outgrow the main chain
				d := uint64(1 + rng.Intn(8))
				if d > tip.Height {
					d = tip.Height
				}
				at := c.AtHeight(tip.Height - d).Hash
				withTxs := rng.Intn(2) == 0
				for i := uint64(0); i <= d; i++ {
					add(at, withTxs)
					n := c.Node(at)
					// Follow the newest child of at, valid or not.
					var next *BlockNode
					for ch := n.firstChild; ch != nil; ch = ch.nextSibling {
						if next == nil || ch.Seq > next.Seq {
							next = ch
						}
					}
					if next == nil {
						break
					}
					at = next.Hash
				}
			default: // a block on any known block, invalid ones included
				add(known[rng.Intn(len(known))], false)
			}
			checkConsistent(t, c, m)
		}
		calls, found := st.UndoGets()
		t.Logf("seed %d, store without undo data %v: height %d, %d blocks, %d reorgs, %d side, %d refused, %d invalidated; %d undo reads, %d found",
			seed, run.noUndo, c.Tip().Height, c.Len(), reorgs, sides, refused, invalidated, calls, found)
		if !run.noUndo && found == 0 {
			t.Errorf("seed %d: no reorganization read undo data from the store", seed)
		}
		if reorgs < 10 || refused == 0 || invalidated == 0 {
			t.Errorf("seed %d: too few reorganizations (%d), refusals (%d) or invalidations (%d) to mean much", seed, reorgs, refused, invalidated)
		}
	}
}
