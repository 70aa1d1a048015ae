// Package pow is the proof-of-work arithmetic of Coniunctum: 256-bit targets,
// the proof check, the work a target stands for, the median time past and the
// retarget rule that fixes every block's target.
//
// It is pure consensus math: no I/O, no clock, no errors, no panics on any
// input, and the same result on every machine (integer math only, math/big
// and fixed 64-bit limbs). It does not read blocks, check timestamps against
// the clock or the median (lib/consensus does, with MedianTime), search for
// proofs, or hash headers (the midstate subpackage and lib/block do).
//
// # Targets and work
//
// A Target is a 256-bit unsigned integer, big-endian. A block is valid when
// its hash, read the same way, is at most its target ([Meets]; DESIGN.md
// "hash matches and meets target"; reason code high-hash). The work of a
// target is the expected number of hashes to meet it,
//
//	Work(T) = floor(2^256 / (T + 1))
//
// so the maximal target 2^256-1 is worth 1, 2^255-1 is worth 2 and the devnet
// initial target 2^244-1 is worth 4096. A branch's cumulative work, which the
// fork choice maximises, is the sum of its blocks' Work.
//
// # Median time past
//
// MTP(i), the median time past of block i, is the median of the timestamps of
// blocks max(0, i-10) .. i: with c = min(i+1, 11) of them, element floor(c/2)
// (from 0) of the sorted list, the upper middle one when c is even
// ([MedianTime]). A block's timestamp must exceed its parent's MTP
// (time-too-old) and be at most 7200 s ahead of the node's clock
// (time-too-new); both are checked by lib/consensus.
//
// # Retarget rule
//
// Every block's target must equal the value of this rule ([Next];
// bad-target). The parameters come from the genesis: S = max(spacing, 1)
// seconds, W = retarget_window blocks, L = initial_target, which is also the
// highest target allowed (a zero L counts as 1). T_i and t_i are the target
// and timestamp of block i; block 0 is the genesis, with T_0 = L. The target
// T_h of a new block h >= 1, whose parent is h-1, is:
//
// If W = 0 (a fixed target, like Bitcoin's regtest): T_h = T_{h-1}, bounded
// into [1, L]. Else if h = 1 (the parent is the genesis): T_1 = L. Otherwise,
// with n = min(W, h-1) blocks:
//
//	avg  = floor((T_{h-n} + ... + T_{h-1}) / n)
//	span = MTP(h-1) - MTP(h-1-n), clamped into [max(1, floor(n*S/4)), 4*n*S]
//	raw  = floor(avg * (n*S + span) / (2*n*S))
//	T_h  = raw clamped into [floor(8*T_{h-1}/9), floor(9*T_{h-1}/8)],
//	       then clamped into [1, L]
//
// All arithmetic is on unbounded integers: nothing overflows and nothing is
// rounded but by the floors shown. In words: the average target of the last
// n blocks, scaled by how long those blocks took against how long they should
// have taken, with only half of the difference applied (DigiShield-style
// damping, which cuts the noise of a short window by about 40%), and never
// more than 12.5% easier or 11.1% harder than the parent's target.
//
// Why this shape: the elapsed time is measured between two medians of 11, so
// no single timestamp moves it, and a miner who sets timestamps far ahead
// only moves the median, at most 2 h past the true time, which then becomes
// the start of later spans: windows overlap, so time gained at one end is
// lost at the other and a time-warp attack buys nothing lasting. The span
// clamp bounds what one measurement can claim (raw is between 5/8 and 5/2 of
// avg), and the per-block clamp bounds one block's step: k blocks can raise
// the target at most by the compounded (9/8)^k (with a floor at each step).
//
// Inputs: [Next] takes the branch ending at the parent, oldest first, as
// [Point] values. It reads the last [Needed] points, W+11 (1 when W = 0): the
// W targets averaged plus the 11 timestamps of the earlier median. A branch
// with more points gives the same result; one with fewer must start at the
// genesis (Next takes its length as the height, and cannot tell otherwise).
//
// Measured behaviour (simulation in sim_test.go, 50 seeds): after a x10 or
// /10 step of the hash rate, the mean of 50 block times is back within ±30%
// of the spacing after at most 50 blocks on devnet (W 20) and 455 on main
// (W 144); the tests assert 5 windows.
package pow
