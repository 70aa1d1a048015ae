// Package testscripts drives the real cnj binaries with txtar scripts
// (github.com/rogpeppe/go-internal/testscript), one behaviour per file.
//
// The binaries are built once per run into a temporary directory that is put
// first on PATH. Extra commands:
//
//	status N cmd args...   run cmd and fail unless it exits with status N
//	                       (its stdout and stderr are kept for stdout/stderr)
//	liar MODE LISTEN UPSTREAM ADDRFILE
//	                       a lying web app in front of a real one (liar_test.go)
package testscripts

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var binDir string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "cnj-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "./cmd/...")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // static, as make builds them
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the commands:", err)
		return 1
	}
	binDir = dir
	return m.Run()
}

// BinDir is where the freshly built commands are, for Go tests in this
// package that start processes themselves.
func BinDir() string { return binDir }

func TestScripts(t *testing.T) {
	testscript.Run(t, Params("."))
}

// Params are the testscript settings for the scripts in dir.
func Params(dir string) testscript.Params {
	scripts, _ := filepath.Abs(filepath.Join("..", "scripts"))
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", binDir+string(os.PathListSeparator)+scripts+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("XDG_DATA_HOME", filepath.Join(env.WorkDir, ".local", "share"))
			// Key files in tests use a cheap scrypt work factor.
			env.Setenv("CNJ_SCRYPT_WORK_FACTOR", "10")
			// Whatever the role scripts started under the work directory is
			// stopped when the script ends, pass or fail: each part runs in
			// its own process group, named by a run/*.pid file.
			work := env.WorkDir
			env.Defer(func() { stopGroups(work) })
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"status": cmdStatus,
			"liar":   cmdLiar,
		},
	}
}

func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status N cmd args...")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status: %v", err)
	}
	path, err := exec.LookPath(args[1])
	if err != nil {
		// LookPath uses the test process's PATH; use the script's.
		for _, d := range strings.Split(ts.Getenv("PATH"), string(os.PathListSeparator)) {
			if p := filepath.Join(d, args[1]); fileExists(p) {
				path = p
				break
			}
		}
	}
	if path == "" {
		ts.Fatalf("status: %s not found", args[1])
	}
	err = ts.Exec(path, args[2:]...)
	got := 0
	if err != nil {
		var ee *exec.ExitError
		if e, ok := err.(*exec.ExitError); ok {
			ee = e
		}
		if ee == nil {
			ts.Fatalf("status: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d\nstderr: %s", args[1], got, want, bytes.TrimSpace([]byte(ts.ReadFile("stderr"))))
	}
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// stopGroups sends SIGKILL to every process group named by a run/*.pid file
// below dir (up to three levels down).
func stopGroups(dir string) {
	for _, pat := range []string{"*/run/*.pid", "*/*/run/*.pid", "*/*/*/run/*.pid"} {
		files, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
				syscall.Kill(-pid, syscall.SIGKILL)
			}
		}
	}
}
