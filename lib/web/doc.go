// Package web is cnj-serve's HTTP application (DESIGN.md, "Network": the web
// app on port 56230): the JSON API on Esplora's paths, the chain download
// for cnj-sync, Prometheus metrics, small HTML explorer pages, and the
// installer with the binaries it installs.
//
// # What it serves
//
//	/api/blocks/tip/height        tip height, text
//	/api/blocks/tip/hash          tip hash, text
//	/api/tip                      {"height":N,"hash":H,"work":HEX}
//	/api/blocks[/START]           JSON array of up to 10 block summaries,
//	                              descending from START (default the tip)
//	/api/block/HASH               the block line (the genesis line for block 0)
//	/api/block-height/INDEX       hash of the main-chain block, text
//	/api/tx/ID                    cnj-chain tx line
//	/api/tx/ID/events             what the pool did with it: returned
//	                              (pending again), dropped (poolapi.go)
//	/api/address/ADDR             cnj-chain balance line
//	/api/address/ADDR/txs         JSON array of cnj-chain history events
//	/api/mempool                  {"count":N,"total_fee":N}
//	/api/mempool/txids            JSON array of ids
//	/api/mempool/txs?ids=ID,...   the pooled transfers of up to 50 ids,
//	                              application/x-ndjson (poolapi.go)
//	/api/peers                    JSON array of HOST:PORT
//	/api/genesis                  the genesis line
//	/api/chain?from=H[&to=H2]     main-chain block lines, application/x-ndjson,
//	                              zstd when Accept-Encoding names it
//	/metrics                      Prometheus text format
//	/, /block/HASH, /tx/ID, /address/ADDR, /search?q=   HTML pages
//	/install.sh, /bin/cnj-*       the installer and the binaries
//
// JSON answers are the lines cnj-chain prints (package explore), each with
// its newline; text answers have none, as Esplora's. An error is
// {"error":MSG,"code":CODE} with 400 (malformed input: bad-hex, bad-number,
// bad-path, bad-request, or the address rule codes bad-address and
// wrong-network), 404 (not-found), 405 (method-not-allowed, with Allow:
// GET, HEAD), 414 (uri-too-long), 429 (rate-limited, with Retry-After), 500
// (internal) or 503 (unavailable: the chain directory could not be read;
// busy, with Retry-After: no turn to read the whole chain or to download
// it, see scans.go).
//
// # What it guards
//
// Only GET and HEAD are served. The http.Server that Server.HTTPServer
// returns has read-header, read, write and idle timeouts and a header size
// limit (net/http answers 431 beyond it); Server.Serve also closes
// connections beyond Config.MaxConns, or beyond Config.MaxConnsPerIP from
// one client (each field left zero takes the Default constant of its
// name). Handler refuses request targets longer than Config.MaxURLBytes
// (414), paths that are not clean or hold anything but letters, digits
// and "-._~/" (400), and more than the configured rate per client IP (429;
// an IPv6 client counts per /64). A panic in a handler is answered with
// 500 (or ends a response already under way) and the server goes on.
//
// No URL path is ever joined to a file path. The chain directory is read
// through package node (one open node, refreshed at most every
// Config.RefreshEvery, under a read-write lock: queries share it, a
// refresh has it alone, and no lock is held while writing to a client),
// and its other files through package chaindir: the peers file,
// rejects.log (its one tail) and the relay's stats files, the last two
// opened through an os.Root on the chain directory under their own names
// (the stats files under the names of the directory's listing that match
// relay-(listen|send)-PID.json). /bin/NAME
// serves NAME only when it matches cnj-[a-z0-9-]+ and is a regular,
// executable file directly in the binaries directory, opened through an
// os.Root on that directory, so nothing outside it (key files, the chain,
// ../, symbolic links leaving it) is reachable.
//
// # What it does not do
//
// It never writes to the chain directory, accepts no transactions (they go
// through cnj-relay), and never prints or logs unless handed a logger.
//
// # Relay traffic
//
// /metrics reports the relay's traffic from the stats files that each
// cnj-relay listen and send process writes in the chain directory
// (relay-listen-PID.json and relay-send-PID.json, cnj-format(5)),
// labelled direction="in" and "out": the files are found by listing the
// directory (chaindir.ListRelayStats), and the counters and gauges of the fresh
// files of a direction are summed. cnj_relay_running is the number of
// fresh files of the direction, always reported (0: none runs); the other
// relay metrics of a direction are reported only while one runs. A file
// more than Config.RelayStale away from now is that of a relay that was killed:
// it is left out entirely, counters too, until a relay removes it. A
// relay that stops removes its file, and its counts leave the sums; a
// restarted relay counts from 0. Prometheus takes either as a counter
// reset. At most 64 files of a direction are read, the newest by
// modification time, and more are logged. A file that cannot be read
// (not a regular file, over 64 KiB, not one JSON object with a time and
// the pid of its name, a negative or fractional count) is logged and left
// out, and the rest of /metrics is answered.
package web
