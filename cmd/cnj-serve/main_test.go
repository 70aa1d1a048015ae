package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestListenAddr(t *testing.T) {
	for in, want := range map[string]string{
		":56230":          ":56230",
		"127.0.0.80:8080": "127.0.0.80:8080",
		"127.0.0.80":      "127.0.0.80:56230",
		"localhost":       "localhost:56230",
		"::1":             "[::1]:56230",
		"[::1]":           "[::1]:56230",
		"[::1]:80":        "[::1]:80",
		"":                ":56230",
	} {
		if got := listenAddr(in); got != want {
			t.Errorf("listenAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestManDir: the pages are found beside the commands however they were
// installed: share/man (make install, install.sh) before man (a checkout).
func TestManDir(t *testing.T) {
	for _, c := range []struct {
		name string
		dirs []string
		want string
	}{
		{"make install", []string{"bin", "share/man/man1"}, "share/man"},
		{"checkout", []string{"bin", "man"}, "man"},
		{"both", []string{"bin", "man", "share/man"}, "share/man"},
		{"none", []string{"bin"}, ""},
	} {
		root := t.TempDir()
		for _, d := range c.dirs {
			if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		want := ""
		if c.want != "" {
			want = filepath.Join(root, c.want)
		}
		if got := manDir(filepath.Join(root, "bin")); got != want {
			t.Errorf("%s: manDir = %q, want %q", c.name, got, want)
		}
	}
}
