//go:build linux

package keys

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openPTY returns a new pseudo-terminal pair, or skips the test when the
// machine has none to give.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		m.Close()
		t.Skipf("no pseudo-terminal: unlockpt: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		m.Close()
		t.Skipf("no pseudo-terminal: ptsname: %v", e)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("no pseudo-terminal: %v", err)
	}
	return m, s
}

// step waits for the terminal to show expect, then types send.
type step struct{ expect, send string }

// echoOff reports whether the terminal has echo turned off, as it is while a
// program reads a passphrase. (On Linux the master side reads the settings
// of the slave.)
func echoOff(master *os.File) bool {
	var tio syscall.Termios
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&tio)))
	return e == 0 && tio.Lflag&syscall.ECHO == 0
}

// onTerminal runs cmd in a new session whose controlling terminal is a
// fresh pseudo-terminal, plays steps on it, and returns what the terminal
// showed. cmd's standard streams are left to the caller.
func onTerminal(t *testing.T, cmd *exec.Cmd, steps ...step) string {
	t.Helper()
	master, slave := openPTY(t)
	defer master.Close()
	cmd.ExtraFiles = []*os.File{slave}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 3}
	if err := cmd.Start(); err != nil {
		slave.Close()
		t.Fatal(err)
	}
	slave.Close()

	var (
		mu    sync.Mutex
		shown bytes.Buffer
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		buf := make([]byte, 1024)
		for {
			n, err := master.Read(buf)
			mu.Lock()
			shown.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	seen := 0
	for _, s := range steps {
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			i := strings.Index(shown.String()[seen:], s.expect)
			mu.Unlock()
			// Type only once the program reads: before it turns echo off,
			// the terminal would echo what a fast typist sends.
			if i >= 0 && echoOff(master) {
				seen += i + len(s.expect)
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				mu.Lock()
				defer mu.Unlock()
				t.Fatalf("terminal never showed %q; it showed %q", s.expect, shown.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if _, err := master.WriteString(s.send); err != nil {
			t.Fatal(err)
		}
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("%s: %v; terminal showed %q", cmd.Args[0], err, shown.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("%s did not finish", cmd.Args[0])
	}
	master.Close()
	<-done
	return shown.String()
}

const helperEnv = "CNJ_KEYS_PROMPT_HELPER"

// TestPromptHelper is not a test: it is the child process of the
// PromptPassphrase tests, which run it on a pseudo-terminal.
func TestPromptHelper(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper process for TestPromptPassphrase")
	}
	p, err := PromptPassphrase("Passphrase for wallet.key: ", mode == "confirm")
	if err != nil {
		fmt.Printf("error: %v\n", err)
	} else {
		fmt.Printf("passphrase: %s\n", hex.EncodeToString(p))
	}
	os.Exit(0)
}

func helper(mode string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestPromptHelper$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	return cmd, &out
}

func TestPromptPassphrase(t *testing.T) {
	const prompt = "Passphrase for wallet.key: "
	const confirm = "Confirm passphrase: "
	tests := []struct {
		name  string
		mode  string
		steps []step
		want  string
	}{
		{"once", "once", []step{{prompt, "hunter2\n"}}, "passphrase: " + hex.EncodeToString([]byte("hunter2"))},
		{"spaces kept", "once", []step{{prompt, " two words \n"}}, "passphrase: " + hex.EncodeToString([]byte(" two words "))},
		{"confirmed", "confirm", []step{{prompt, "hunter2\n"}, {confirm, "hunter2\n"}}, "passphrase: " + hex.EncodeToString([]byte("hunter2"))},
		{"mismatch", "confirm", []step{{prompt, "hunter2\n"}, {confirm, "hunter3\n"}}, "error: passphrases do not match"},
		{"empty", "once", []step{{prompt, "\n"}}, "error: empty passphrase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, out := helper(tt.mode)
			shown := onTerminal(t, cmd, tt.steps...)
			if got := strings.TrimSpace(out.String()); got != tt.want {
				t.Fatalf("helper printed %q, want %q", got, tt.want)
			}
			if strings.Contains(shown, "hunter") || strings.Contains(shown, "two words") {
				t.Fatalf("the passphrase was echoed: terminal showed %q", shown)
			}
		})
	}
}

func TestPromptPassphraseNoTerminal(t *testing.T) {
	cmd, out := helper("once")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // a session without a terminal
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := "error: no terminal to ask for a passphrase: use --passphrase-file"
	if got := strings.TrimSpace(out.String()); got != want {
		t.Fatalf("helper printed %q, want %q", got, want)
	}
}

// TestAgeCLI checks both directions against the age command: `age -d`
// opens a key file, and a file made with `age -p` opens with ReadKeyFile.
// age reads passphrases only from a terminal, so it runs on a
// pseudo-terminal. CI installs age; elsewhere the test is skipped without it.
func TestAgeCLI(t *testing.T) {
	agePath, err := exec.LookPath("age")
	if err != nil {
		t.Skip("age is not installed (apt install age)")
	}
	priv := vecKey(t)
	dir := t.TempDir()

	t.Run("age -d opens a key file", func(t *testing.T) {
		keyPath := filepath.Join(dir, "wallet.key")
		if err := WriteKeyFile(keyPath, priv, testPass, testWorkFactor); err != nil {
			t.Fatal(err)
		}
		plain := filepath.Join(dir, "plain")
		cmd := exec.Command(agePath, "-d", "-o", plain, keyPath)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		onTerminal(t, cmd, step{"passphrase", string(testPass) + "\n"})
		got, err := os.ReadFile(plain)
		if err != nil {
			t.Fatalf("%v (age said %q)", err, stderr.String())
		}
		if string(got) != vecLine {
			t.Fatalf("age -d printed %q, want %q", got, vecLine)
		}
	})

	t.Run("a file made with age -p opens", func(t *testing.T) {
		plain := filepath.Join(dir, "line")
		if err := os.WriteFile(plain, []byte(vecLine), 0o600); err != nil {
			t.Fatal(err)
		}
		keyPath := filepath.Join(dir, "from-age.key")
		cmd := exec.Command(agePath, "-p", "-o", keyPath, plain)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		onTerminal(t, cmd,
			step{"passphrase", string(testPass) + "\n"},
			step{"onfirm", string(testPass) + "\n"})
		// age creates its output with the umask's mode: the key file check
		// refuses it until the user runs the chmod the error names.
		if err := os.Chmod(keyPath, 0o644); err != nil {
			t.Fatalf("%v (age said %q)", err, stderr.String())
		}
		want := fmt.Sprintf("%s is readable by others (mode 0644): chmod 600 %s", keyPath, keyPath)
		if _, err := ReadKeyFile(keyPath, testPass, 0); err == nil || err.Error() != want {
			t.Fatalf("ReadKeyFile = %v, want %q", err, want)
		}
		if err := os.Chmod(keyPath, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadKeyFile(keyPath, testPass, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, priv) {
			t.Fatal("ReadKeyFile returned another key")
		}
	})
}
