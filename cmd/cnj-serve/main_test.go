package main

import "testing"

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
