package chaindir

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// moduleRoot is the repository's top directory, from this package's.
const moduleRoot = "../.."

// goFiles returns the non-test Go files under the module's lib, internal
// and cmd directories, by package directory.
func goFiles(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, top := range []string{"lib", "internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(moduleRoot, top), func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() && e.Name() == "testdata" {
				return filepath.SkipDir
			}
			if !e.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
				rel, _ := filepath.Rel(moduleRoot, filepath.Dir(path))
				out[rel] = append(out[rel], path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestOneOwnerOfFileNames: no package but this one spells the name of a
// file of the chain directory. Distinctive names are refused anywhere in
// a string; names that are also plain words (index, state, peers, source,
// blocks, lost) only where they make a path: an argument of a path or
// file function, or joined with a slash.
func TestOneOwnerOfFileNames(t *testing.T) {
	distinct := []string{GenesisFile, MempoolFile, MempoolBinFile, RejectsFile, LockFile, SyncLockFile, RelayListen, RelaySend, ".jsonl.zst",
		RejectsOldFile, PeersSeenFile, DeliveredFile, SyncSlowFile, TxIndexFile, TxIndexLockFile, MempoolEventsFile, PeerTipsFile}
	words := []string{IndexFile, StateFile, UndoFile, PeersFile, SourceFile, BlocksDir, LostDir}
	pathFuncs := []string{"Join", "Open", "OpenFile", "OpenInRoot", "OpenRoot", "ReadFile", "WriteFile", "Create", "CreateTemp",
		"Stat", "Lstat", "Remove", "RemoveAll", "Rename", "Mkdir", "MkdirAll", "ReadDir", "Glob", "File"}
	for dir, files := range goFiles(t) {
		if dir == filepath.Join("lib", "chaindir") {
			continue
		}
		for _, path := range files {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			flag := func(lit *ast.BasicLit, why string) {
				t.Errorf("%s: %s names a chain-directory file (%s): ask package chaindir", fset.Position(lit.Pos()), lit.Value, why)
			}
			tags := map[*ast.BasicLit]bool{} // a struct tag is not a file name
			ast.Inspect(f, func(n ast.Node) bool {
				if fd, ok := n.(*ast.Field); ok && fd.Tag != nil {
					tags[fd.Tag] = true
				}
				return true
			})
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ImportSpec:
					return false
				case *ast.BasicLit:
					if !tags[n] {
						checkLit(n, distinct, flag)
					}
				case *ast.CallExpr:
					name := ""
					switch fn := n.Fun.(type) {
					case *ast.SelectorExpr:
						name = fn.Sel.Name
					case *ast.Ident:
						name = fn.Name
					}
					if slices.Contains(pathFuncs, name) {
						for _, a := range n.Args {
							if lit, ok := a.(*ast.BasicLit); ok && lit.Kind == token.STRING {
								if s, _ := strconv.Unquote(lit.Value); slices.Contains(words, s) {
									flag(lit, "a path argument")
								}
							}
						}
					}
				case *ast.BinaryExpr:
					if n.Op == token.ADD {
						for _, side := range []ast.Expr{n.X, n.Y} {
							if lit, ok := side.(*ast.BasicLit); ok && lit.Kind == token.STRING {
								s, _ := strconv.Unquote(lit.Value)
								for _, w := range words {
									if strings.HasPrefix(s, "/"+w) || strings.HasPrefix(s, w+"/") {
										flag(lit, "joined into a path")
									}
								}
							}
						}
					}
				}
				return true
			})
		}
	}
}

// checkLit flags a string literal holding a distinctive name as a word of
// its own (LOCK, not CNJ_LOCK_X).
func checkLit(lit *ast.BasicLit, distinct []string, flag func(*ast.BasicLit, string)) {
	if lit.Kind != token.STRING {
		return
	}
	s, err := strconv.Unquote(lit.Value)
	if err != nil {
		return
	}
	for _, name := range distinct {
		if regexp.MustCompile(`(^|[^A-Za-z0-9_])` + regexp.QuoteMeta(name) + `($|[^A-Za-z0-9_])`).MatchString(s) {
			flag(lit, "holds "+strconv.Quote(name))
			return
		}
	}
}

// TestLayers: this package is the cheap layer (nothing heavier than
// params), and the block store sits under validation (it never imports
// the chain, the ledger or the consensus rules).
func TestLayers(t *testing.T) {
	const mod = "github.com/coniunctum/cnj/"
	allowed := map[string][]string{
		filepath.Join("lib", "chaindir"):   {"lib/params", "lib/rule", "lib/hostport", "lib/chainhash", "internal/crashpoint"},
		filepath.Join("lib", "blockstore"): {"lib/chaindir", "lib/block", "lib/rule", "internal/crashpoint"},
	}
	files := goFiles(t)
	for dir, ok := range allowed {
		if len(files[dir]) == 0 {
			t.Fatalf("no files in %s", dir)
		}
		for _, path := range files[dir] {
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if rest, ours := strings.CutPrefix(p, mod); ours && !slices.Contains(ok, rest) {
					t.Errorf("%s imports %s: %s may import only %v of this module", path, p, dir, ok)
				}
			}
		}
	}
	// And what the module's own packages are allowed of those layers is
	// checked the other way too: nothing under lib/ but lib/node and the
	// tests opens the block store's files itself.
	for dir, paths := range files {
		for _, path := range paths {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(src), `"`+mod+"lib/blockstore\"") && !slices.Contains([]string{
				filepath.Join("lib", "chain"), filepath.Join("lib", "node"), filepath.Join("lib", "web"),
			}, dir) {
				t.Errorf("%s imports lib/blockstore: only chain (its types), node (which composes it) and web (sealed frames) do", path)
			}
		}
	}
}
