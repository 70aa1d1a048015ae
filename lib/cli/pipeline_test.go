package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// nonBlocking reports whether fd's open file has O_NONBLOCK set.
func nonBlocking(fd int) bool {
	fl, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
	return errno == 0 && fl&syscall.O_NONBLOCK != 0
}

// TestMain runs the child process of TestPollIn when asked to.
func TestMain(m *testing.M) {
	if os.Getenv("CNJ_POLLIN_CHILD") != "" {
		pollInChild()
		return
	}
	os.Exit(m.Run())
}

// pollInChild reads standard input through PollIn and reports what it saw.
func pollInChild() {
	in, restore := PollIn(os.Stdin)
	polled := in != io.Reader(os.Stdin)
	during := nonBlocking(0)
	lines := 0
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		lines++
	}
	if err := sc.Err(); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	restore()
	fmt.Printf("polled=%v nonblocking=%v lines=%d after=%v\n", polled, during, lines, nonBlocking(0))
}

// TestPollIn checks that a pipe on standard input is read whole through the
// poller and put back in blocking mode, and that a file is left alone.
func TestPollIn(t *testing.T) {
	if r := strings.NewReader("x"); func() bool { in, _ := PollIn(r); return in != io.Reader(r) }() {
		t.Fatal("PollIn replaced a reader that is not standard input")
	}
	child := func(stdin io.Reader) string {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "CNJ_POLLIN_CHILD=1")
		cmd.Stdin = stdin
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	data := bytes.Repeat([]byte(`{"type":"tx"}`+"\n"), 50_000) // over a pipe's buffer
	if got, want := child(bytes.NewReader(data)), "polled=true nonblocking=true lines=50000 after=false"; got != want {
		t.Errorf("a pipe: %s, want %s", got, want)
	}
	file := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, want := child(f), "polled=false nonblocking=false lines=50000 after=false"; got != want {
		t.Errorf("a file: %s, want %s", got, want)
	}
}
