// Package crashpoint lets tests kill a writer of the chain directory at
// each place where a crash leaves the files in a distinct state, as kill
// -9 would, without killing the test process: the writers (packages
// chaindir and blockstore) call At before each such write, and a test that
// sets Hook can write a part of that write and then panic.
//
// Only tests set Hook; in a command it stays nil and At does nothing.
package crashpoint

import "os"

// Hook, when set, is called by At. Tests set it and reset it to nil; no
// program does.
var Hook func(point string, f *os.File, data []byte, off int64)

// At marks a crash point: point names it; f, data and off describe the
// write about to happen (off < 0: an O_APPEND write; f nil: no write, a
// rename or a removal), so that the hook can write a part of it and then
// panic.
func At(point string, f *os.File, data []byte, off int64) {
	if Hook != nil {
		Hook(point, f, data, off)
	}
}
