//go:build amd64 && !purego

#include "textflag.h"

// SHA-NI compression of the one final block of a proof-of-work header.
//
// The block is W[0..15] = proof>>32, uint32(proof), 0x80000000, 0 x 11,
// bitlen>>32, uint32(bitlen). Only W[0] and W[1] change between tries, so
// rounds 4..15 take their W+K sums straight from consts.wk and the message
// schedule skips the terms that those zeros make vanish.
//
// SHA256RNDS2 keeps the state in two registers, lane 3 first: ABEF = {A, B,
// E, F} and CDGH = {C, D, G, H}. It runs two rounds with the W+K pair in the
// low half of X0, reading ABEF from its source and CDGH from its
// destination, and leaves the new ABEF in the destination. The old ABEF
// register then holds the new CDGH, so the next call swaps the roles and
// after four rounds both registers are back in their places.
//
// A single hash is a chain of 32 dependent SHA256RNDS2; the unit can start
// a new one before the last one finishes, so searchAsm runs two proofs side
// by side, each with its own state and message registers, to keep it busy.
//
// consts layout (see consts in midstate.go):
//   0(SI)  abef   16(SI) cdgh   32(SI) wk[0..11] (t = 4..15)   80(SI) m3

// LOADW0 sets m to {W0, W1, W2, W3} = {proof>>32, uint32(proof), 0x80000000,
// 0}; r holds the proof and is clobbered, R10 holds 0x80000000.
#define LOADW0(r, m) \
	ROLQ   $32, r; \
	MOVQ   r, m; \
	PINSRD $2, R10, m

// SCHED computes W[t..t+3] into m0, given m0 = W[t-16..t-13],
// m1 = W[t-12..t-9], m2 = W[t-8..t-5], m3 = W[t-4..t-1]:
// W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16].
#define SCHED(m0, m1, m2, m3, tmp) \
	SHA256MSG1 m1, m0; \
	MOVO       m3, tmp; \
	PALIGNR    $4, m2, tmp; \
	PADDD      tmp, m0; \
	SHA256MSG2 m3, m0

// SCHED16, SCHED20 and SCHED24 are SCHED for the first three groups, where
// W[4..12] are zero: the PALIGNR term of W[16..19] and the SHA256MSG1 terms
// of W[20..27] vanish. They take only the registers that are not zero.
// SCHED16: m0 = W[0..3] becomes W[16..19]; m3 = W[12..15]; X15 must be
// zero (it stands for W[4..7]).
#define SCHED16(m0, m3) \
	SHA256MSG1 X15, m0; \
	SHA256MSG2 m3, m0

// SCHED20: m1 becomes W[20..23] = s1 terms + {W13, W14, W15, W16}.
#define SCHED20(m1, m3, m0) \
	MOVO       m0, m1; \
	PALIGNR    $4, m3, m1; \
	SHA256MSG2 m0, m1

// SCHED24: m2 becomes W[24..27] = s1 terms + {W17, W18, W19, W20}.
#define SCHED24(m2, m0, m1) \
	MOVO       m1, m2; \
	PALIGNR    $4, m0, m2; \
	SHA256MSG2 m1, m2

// ROUNDS runs four rounds on one state with message words m and the round
// constants at byte offset koff of K; wk is scratch.
#define ROUNDS(koff, m, abef, cdgh, wk) \
	MOVOU       ·_K+koff(SB), wk; \
	PADDD       m, wk; \
	MOVO        wk, X0; \
	SHA256RNDS2 X0, abef, cdgh; \
	PSHUFD      $0x0e, wk, X0; \
	SHA256RNDS2 X0, cdgh, abef

// CROUNDS runs four rounds whose W+K sums are the constants at off(SI).
#define CROUNDS(off, abef, cdgh) \
	MOVQ        off(SI), X0; \
	SHA256RNDS2 X0, abef, cdgh; \
	MOVQ        off+8(SI), X0; \
	SHA256RNDS2 X0, cdgh, abef

// ROUNDS2 is ROUNDS for both lanes: A in X1/X2 with ma, B in X7/X8 with mb.
#define ROUNDS2(koff, ma, mb) \
	MOVOU       ·_K+koff(SB), X13; \
	MOVO        X13, X14; \
	PADDD       ma, X13; \
	PADDD       mb, X14; \
	MOVO        X13, X0; \
	SHA256RNDS2 X0, X1, X2; \
	MOVO        X14, X0; \
	SHA256RNDS2 X0, X7, X8; \
	PSHUFD      $0x0e, X13, X0; \
	SHA256RNDS2 X0, X2, X1; \
	PSHUFD      $0x0e, X14, X0; \
	SHA256RNDS2 X0, X8, X7

// CROUNDS2 is CROUNDS for both lanes.
#define CROUNDS2(off) \
	MOVQ        off(SI), X0; \
	SHA256RNDS2 X0, X1, X2; \
	MOVQ        off(SI), X0; \
	SHA256RNDS2 X0, X7, X8; \
	MOVQ        off+8(SI), X0; \
	SHA256RNDS2 X0, X2, X1; \
	MOVQ        off+8(SI), X0; \
	SHA256RNDS2 X0, X8, X7

// func hashAsm(c *consts, proof uint64, out *[32]byte)
TEXT ·hashAsm(SB), NOSPLIT, $0-24
	MOVQ c+0(FP), SI
	MOVQ proof+8(FP), AX
	MOVQ out+16(FP), DI
	MOVL $0x80000000, R10

	MOVOU 0(SI), X1
	MOVOU 16(SI), X2
	LOADW0(AX, X3)
	MOVOU 80(SI), X6
	PXOR  X15, X15

	ROUNDS(0, X3, X1, X2, X13)
	CROUNDS(32, X1, X2)
	CROUNDS(48, X1, X2)
	CROUNDS(64, X1, X2)

	SCHED16(X3, X6)
	ROUNDS(64, X3, X1, X2, X13)
	SCHED20(X4, X6, X3)
	ROUNDS(80, X4, X1, X2, X13)
	SCHED24(X5, X3, X4)
	ROUNDS(96, X5, X1, X2, X13)
	SCHED(X6, X3, X4, X5, X15)
	ROUNDS(112, X6, X1, X2, X13)
	SCHED(X3, X4, X5, X6, X15)
	ROUNDS(128, X3, X1, X2, X13)
	SCHED(X4, X5, X6, X3, X15)
	ROUNDS(144, X4, X1, X2, X13)
	SCHED(X5, X6, X3, X4, X15)
	ROUNDS(160, X5, X1, X2, X13)
	SCHED(X6, X3, X4, X5, X15)
	ROUNDS(176, X6, X1, X2, X13)
	SCHED(X3, X4, X5, X6, X15)
	ROUNDS(192, X3, X1, X2, X13)
	SCHED(X4, X5, X6, X3, X15)
	ROUNDS(208, X4, X1, X2, X13)
	SCHED(X5, X6, X3, X4, X15)
	ROUNDS(224, X5, X1, X2, X13)
	SCHED(X6, X3, X4, X5, X15)
	ROUNDS(240, X6, X1, X2, X13)

	// Feed-forward, then {F, E, B, A} and {H, G, D, C} become the digest
	// A B C D E F G H, each word big-endian.
	MOVOU      0(SI), X13
	PADDD      X13, X1
	MOVOU      16(SI), X13
	PADDD      X13, X2
	PSHUFD     $0x1b, X1, X1   // {A, B, E, F}
	PSHUFD     $0x1b, X2, X2   // {C, D, G, H}
	MOVO       X1, X3
	PUNPCKLQDQ X2, X1          // {A, B, C, D}
	PUNPCKHQDQ X2, X3          // {E, F, G, H}
	MOVOU      ·bswap32(SB), X13
	PSHUFB     X13, X1
	PSHUFB     X13, X3
	MOVOU      X1, 0(DI)
	MOVOU      X3, 16(DI)
	RET

// func searchAsm(c *consts, start, n uint64, t0 uint32) uint64
//
// Registers: SI consts, DX proof of lane A (lane B is DX+1), BX index of
// lane A, CX n, R8 t0, R9 midstate A (the feed-forward of the leading
// word), R10 0x80000000.
TEXT ·searchAsm(SB), NOSPLIT, $0-40
	MOVQ c+0(FP), SI
	MOVQ start+8(FP), DX
	MOVQ n+16(FP), CX
	MOVL t0+24(FP), R8
	MOVL 12(SI), R9
	MOVL $0x80000000, R10
	XORQ BX, BX

loop:
	CMPQ BX, CX
	JAE  none

	MOVQ  DX, AX
	LOADW0(AX, X3)
	LEAQ  1(DX), AX
	LOADW0(AX, X9)
	MOVOU 0(SI), X1
	MOVOU 16(SI), X2
	MOVO  X1, X7
	MOVO  X2, X8
	MOVOU 80(SI), X6
	MOVO  X6, X12
	PXOR  X15, X15

	ROUNDS2(0, X3, X9)
	CROUNDS2(32)
	CROUNDS2(48)
	CROUNDS2(64)

	SCHED16(X3, X6)
	SCHED16(X9, X12)
	ROUNDS2(64, X3, X9)
	SCHED20(X4, X6, X3)
	SCHED20(X10, X12, X9)
	ROUNDS2(80, X4, X10)
	SCHED24(X5, X3, X4)
	SCHED24(X11, X9, X10)
	ROUNDS2(96, X5, X11)
	SCHED(X6, X3, X4, X5, X15)
	SCHED(X12, X9, X10, X11, X15)
	ROUNDS2(112, X6, X12)
	SCHED(X3, X4, X5, X6, X15)
	SCHED(X9, X10, X11, X12, X15)
	ROUNDS2(128, X3, X9)
	SCHED(X4, X5, X6, X3, X15)
	SCHED(X10, X11, X12, X9, X15)
	ROUNDS2(144, X4, X10)
	SCHED(X5, X6, X3, X4, X15)
	SCHED(X11, X12, X9, X10, X15)
	ROUNDS2(160, X5, X11)
	SCHED(X6, X3, X4, X5, X15)
	SCHED(X12, X9, X10, X11, X15)
	ROUNDS2(176, X6, X12)
	SCHED(X3, X4, X5, X6, X15)
	SCHED(X9, X10, X11, X12, X15)
	ROUNDS2(192, X3, X9)
	SCHED(X4, X5, X6, X3, X15)
	SCHED(X10, X11, X12, X9, X15)
	ROUNDS2(208, X4, X10)
	SCHED(X5, X6, X3, X4, X15)
	SCHED(X11, X12, X9, X10, X15)
	ROUNDS2(224, X5, X11)
	SCHED(X6, X3, X4, X5, X15)
	SCHED(X12, X9, X10, X11, X15)
	ROUNDS2(240, X6, X12)

	// Only the leading digest word decides: A lives in lane 3 of ABEF.
	PEXTRD $3, X1, AX
	ADDL   R9, AX
	CMPL   AX, R8
	JLS    found
	PEXTRD $3, X7, AX
	ADDL   R9, AX
	CMPL   AX, R8
	JLS    foundB
	ADDQ   $2, BX
	ADDQ   $2, DX
	JMP    loop

foundB:
	// Lane B ran one past the end when n is odd; its result does not count.
	INCQ BX
	CMPQ BX, CX
	JAE  none

found:
	MOVQ BX, ret+32(FP)
	RET

none:
	MOVQ CX, ret+32(FP)
	RET

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET
