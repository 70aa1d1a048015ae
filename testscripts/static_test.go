package testscripts

import (
	"debug/elf"
	"path/filepath"
	"testing"
)

// TestStaticCommands: the commands are built static, as make builds them
// (CGO_ENABLED=0): a node's installer hands its bin/ to machines whose C
// library may not be the builder's, so a command must need no dynamic
// loader and no shared library.
func TestStaticCommands(t *testing.T) {
	names, err := filepath.Glob(filepath.Join(BinDir(), "cnj-*"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no commands in %s: %v", BinDir(), err)
	}
	for _, name := range names {
		f, err := elf.Open(name)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(name), err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s asks for a dynamic loader", filepath.Base(name))
			}
		}
		if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
			t.Errorf("%s needs shared libraries %v (%v)", filepath.Base(name), libs, err)
		}
		f.Close()
	}
}
