// Package holder is cnj-wallet: the whitepaper's wallet holder, who keeps
// no chain and reads and sends through a source node (or several), and
// who checks what the sources say as Bitcoin's simplified payment
// verification does.
//
// What it checks (Session):
//   - the header chain: every header a source serves passes
//     consensus.CheckHeader against the ones below it (proof of work, the
//     target the retarget rule of lib/pow gives, index, time); the source's
//     tip must be the last header and carry its work. The chain with the
//     most work any source proves is held, 200 bytes a block, in the data
//     directory (Store), fetched from where it leaves the held one;
//   - every entry of the address's history a source reports: a transfer
//     passes the network's checks of a transfer (hash over every field,
//     signature), and a confirmed entry names a block of the held chain
//     whose merkle root its merkle proof leads to;
//   - each source's balance against the sum of the entries it proved, and,
//     with several sources, each against what the others prove.
//
// What it cannot check: an entry a source leaves out when no other source
// reports it, and pending transfers (in no block yet). An entry that fails
// is never counted; the source and what it lied about are returned as a
// *LieError beside the output of what was proven.
//
// It never prints but to the writers it is given.
package holder
