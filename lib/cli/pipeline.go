package cli

import (
	"io"
	"os"
	"runtime"
	"syscall"
)

// PollIn returns what a streaming command (cnj-verify, cnj-relay send)
// should read instead of in, and a function to call before it exits.
//
// When in is the process's standard input and that is a pipe or a socket,
// the result reads a duplicate of it in non-blocking mode, through the Go
// runtime's poller. A goroutine waiting there for the next line then holds
// no thread: a plain read(2) on the pipe keeps its thread, and the goroutine
// it has just handed a line to waits until the runtime takes the thread
// back, which on a loaded machine is up to milliseconds. The function
// puts the pipe back in blocking mode, for whoever else holds it.
//
// Anything else (a terminal, a file, a test's reader) is returned as it is.
func PollIn(in io.Reader) (io.Reader, func()) {
	nothing := func() {}
	if f, ok := in.(*os.File); !ok || f != os.Stdin {
		return in, nothing
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(0, &st); err != nil {
		return in, nothing
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFIFO && st.Mode&syscall.S_IFMT != syscall.S_IFSOCK {
		return in, nothing
	}
	fd, err := syscall.Dup(0)
	if err != nil {
		return in, nothing
	}
	syscall.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return in, nothing
	}
	polled := os.NewFile(uintptr(fd), "/dev/stdin")
	return polled, func() {
		polled.Close()
		syscall.SetNonblock(0, false) // the flag belongs to the pipe, shared with fd 0
	}
}

// OneThread has the Go runtime run the process's goroutines on one thread
// at a time (GOMAXPROCS=1) unless the GOMAXPROCS variable is set. It is for
// the stages of a node's pipeline (cnj-relay, cnj-verify), which handle one
// line at a time and run three to a node: with the default of one thread
// per core, every line handed from one goroutine to another wakes a second
// thread, and a machine running ten nodes spends more on those wake-ups
// than on the lines (BenchmarkPropagation in testscripts measures it).
// cnj-sync and cnj-mine, which spread their work over every core, do not
// call this.
func OneThread() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}
