package testscripts

// The manual agrees with the commands, the scripts and the test vectors:
// every page lints clean, every flag that a command's --help lists is
// documented in its page's OPTIONS and every flag documented there exists,
// every script of scripts/ has a page whose OPTIONS are the script's getopts
// letters (or its usage line's flags), and every test vector of
// lib/vectors/testdata/vectors.txt is printed in cnj-format(5).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/params"
)

const (
	manDir      = "../man"
	cmdDir      = "../cmd"
	scriptDir   = "../scripts"
	vectorsFile = "../lib/vectors/testdata/vectors.txt"
	formatPage  = "../man/cnj-format.5"
	libDir      = "../lib"
)

// Sections every section-1 page has, in this order (signify.1's shape).
var pageSections = []string{
	"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "ENVIRONMENT", "FILES",
	"EXIT STATUS", "EXAMPLES", "SEE ALSO",
}

func manPages(t *testing.T) []string {
	t.Helper()
	var pages []string
	for _, glob := range []string{"*.1", "*.5"} {
		m, err := filepath.Glob(filepath.Join(manDir, glob))
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, m...)
	}
	if len(pages) == 0 {
		t.Fatalf("no pages in %s", manDir)
	}
	sort.Strings(pages)
	return pages
}

func commands(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(cmdDir, "cnj-*"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			names = append(names, filepath.Base(d))
		}
	}
	if len(names) == 0 {
		t.Fatalf("no command directories in %s", cmdDir)
	}
	return names
}

// scripts returns the names of the executable files scripts/cnj-*: the
// role scripts, the devnet and the walkthrough, each with a section-1 page.
func scripts(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(scriptDir, "cnj-*"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			names = append(names, filepath.Base(f))
		}
	}
	return names
}

func TestManLint(t *testing.T) {
	mandoc, err := exec.LookPath("mandoc")
	if err != nil {
		t.Fatal("mandoc is not installed: install it (apt-get install -y mandoc) to lint the man pages; CI installs it")
	}
	args := append([]string{"-Tlint", "-Wwarning"}, manPages(t)...)
	out, err := exec.Command(mandoc, args...).CombinedOutput()
	if len(out) > 0 || err != nil {
		t.Errorf("mandoc -Tlint -Wwarning man/*: %v\n%s", err, out)
	}
}

// TestManSections checks that each section-1 page has the sections of
// STYLE.md in order, and that each page belongs to a command of cmd/ or an
// executable script of scripts/.
func TestManSections(t *testing.T) {
	cmds, scr := commands(t), scripts(t)
	for _, page := range manPages(t) {
		if filepath.Ext(page) != ".1" {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(page), ".1")
		if !slices.Contains(cmds, name) && !slices.Contains(scr, name) {
			t.Errorf("%s: no command %s in cmd/ and no executable scripts/%s", page, name, name)
		}
		src := readPage(t, page)
		var got []string
		for _, line := range strings.Split(src, "\n") {
			if s, ok := strings.CutPrefix(line, ".Sh "); ok {
				got = append(got, strings.Trim(s, `"`))
			}
		}
		if !slices.Equal(got, pageSections) {
			t.Errorf("%s: sections %q, want %q", page, got, pageSections)
		}
		exit := section(src, "EXIT STATUS")
		for _, code := range []string{"0", "1", "2"} {
			if !regexp.MustCompile(`\b` + code + `\b`).MatchString(exit) {
				t.Errorf("%s: EXIT STATUS does not mention exit status %s", page, code)
			}
		}
	}
}

func readPage(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section returns the source lines of section name of an mdoc page, up to
// the next .Sh.
func section(src, name string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(src, "\n") {
		if s, ok := strings.CutPrefix(line, ".Sh "); ok {
			in = strings.Trim(s, `"`) == name
			continue
		}
		if in {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// help is what a command's --help lists.
type help struct {
	flags    []string // "--name" and "-x"
	envs     []string // variables shown as ($NAME) in the flags list
	commands []string // subcommands
}

var (
	// A flag row of kong's help: two spaces, an optional "-x, ", then the
	// long name. Wrapped help text is indented further, so it never matches.
	flagRow = regexp.MustCompile(`^  (?:-([A-Za-z0-9]), |    )--([a-z0-9][a-z0-9-]*)`)
	envRef  = regexp.MustCompile(`\(\$([A-Z_][A-Z0-9_]*)\)`)
	cmdRow  = regexp.MustCompile(`^  ([a-z][a-z0-9-]*)\b`)
)

// parseHelp reads kong's help text: the rows of its "Flags:" and
// "Commands:" lists.
func parseHelp(out string) help {
	var h help
	list := ""
	for _, line := range strings.Split(out, "\n") {
		if line != "" && line[0] != ' ' {
			list = strings.TrimSuffix(strings.TrimSpace(line), ":")
			continue
		}
		switch list {
		case "Flags":
			if m := flagRow.FindStringSubmatch(line); m != nil {
				if m[1] != "" {
					h.flags = append(h.flags, "-"+m[1])
				}
				h.flags = append(h.flags, "--"+m[2])
			}
			for _, m := range envRef.FindAllStringSubmatch(line, -1) {
				h.envs = append(h.envs, m[1])
			}
		case "Commands":
			if m := cmdRow.FindStringSubmatch(line); m != nil {
				h.commands = append(h.commands, m[1])
			}
		}
	}
	return h
}

func runHelp(t *testing.T, bin string, args ...string) help {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(args, "--help")...)
	cmd.Env = append(os.Environ(), "COLUMNS=80")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s --help: %v\n%s", strings.Join(append([]string{filepath.Base(bin)}, args...), " "), err, stderr.Bytes())
	}
	h := parseHelp(stdout.String())
	if len(h.flags) == 0 {
		t.Fatalf("%s --help lists no flags:\n%s", strings.Join(append([]string{filepath.Base(bin)}, args...), " "), stdout.Bytes())
	}
	return h
}

// itFlags returns the flags that the .It lines of an OPTIONS section name:
// each Fl macro's first argument, as "--name" or "-x".
var flMacro = regexp.MustCompile(`\bFl (\\?-?)([A-Za-z0-9][A-Za-z0-9-]*)`)

func itFlags(options string) []string {
	var flags []string
	for _, line := range strings.Split(options, "\n") {
		if !strings.HasPrefix(line, ".It ") {
			continue
		}
		for _, m := range flMacro.FindAllStringSubmatch(line, -1) {
			if m[1] != "" {
				flags = append(flags, "--"+m[2])
			} else {
				flags = append(flags, "-"+m[2])
			}
		}
	}
	return flags
}

func TestManFlags(t *testing.T) {
	if BinDir() == "" {
		t.Fatal("the commands were not built")
	}
	for _, name := range commands(t) {
		t.Run(name, func(t *testing.T) {
			page := filepath.Join(manDir, name+".1")
			if _, err := os.Stat(page); err != nil {
				t.Fatalf("command %s has no page: write man/%s.1", name, name)
			}
			bin := filepath.Join(BinDir(), name)
			top := runHelp(t, bin)
			flags, envs := slices.Clone(top.flags), slices.Clone(top.envs)
			for _, sub := range top.commands {
				h := runHelp(t, bin, sub)
				flags = append(flags, h.flags...)
				envs = append(envs, h.envs...)
			}
			slices.Sort(flags)
			flags = slices.Compact(flags)
			slices.Sort(envs)
			envs = slices.Compact(envs)

			src := readPage(t, page)
			options := section(src, "OPTIONS")
			if options == "" {
				t.Fatalf("%s: no OPTIONS section", page)
			}
			documented := itFlags(options)
			for _, f := range flags {
				if !slices.Contains(documented, f) {
					t.Errorf("%s: %s --help lists %s, OPTIONS has no .It Fl %s", page, name, f, strings.TrimPrefix(f, "-"))
				}
			}
			for _, f := range documented {
				if !slices.Contains(flags, f) {
					t.Errorf("%s: OPTIONS documents %s, which %s --help does not list", page, f, name)
				}
			}
			env := section(src, "ENVIRONMENT")
			for _, v := range envs {
				if !regexp.MustCompile(`\bEv ` + v + `\b`).MatchString(options) {
					t.Errorf("%s: %s --help reads $%s, OPTIONS does not name it (.Ev %s)", page, name, v, v)
				}
				if !regexp.MustCompile(`(?m)^\.It Ev ` + v + `$`).MatchString(env) {
					t.Errorf("%s: %s --help reads $%s, ENVIRONMENT has no .It Ev %s", page, name, v, v)
				}
			}
			for _, sub := range top.commands {
				if !regexp.MustCompile(`\bCm ` + regexp.QuoteMeta(sub) + `\b`).MatchString(src) {
					t.Errorf("%s: subcommand %s is not documented (.Cm %s)", page, sub, sub)
				}
			}
		})
	}
}

// script is what a script of scripts/ says about its interface.
type script struct {
	getopts  string   // the letters of its getopts string, "" if none
	hasOpts  bool     // it calls getopts
	usage    []string // the flags of its usage lines, "-x"
	commands []string // the commands of its usage lines
	envs     []string // the environment variables it reads
}

var (
	// getopts OPTSTRING VAR, the string bare or quoted.
	getoptsRe = regexp.MustCompile(`\bgetopts\s+['"]?([A-Za-z0-9:]+)['"]?\s`)
	// A usage line, in a comment or an echo: up to the closing quote.
	usageRe = regexp.MustCompile(`usage: ([^"\n]*)`)
	// A flag of a usage line: "-x" alone, or in [ ] or after a |.
	usageFlag = regexp.MustCompile(`(?:^|[\s\[|(])-([A-Za-z0-9])(?:[\s\]|)]|$)`)
	// A wrapper hands its arguments to another script: exec cnj-x ...
	execRe = regexp.MustCompile(`\bexec\s+(cnj-[a-z0-9-]+)\b`)
	// Environment reads: ${NAME:-...} (and -, =, :=, ?, :?), or $NAME /
	// ${NAME} of a NAME the script never assigns.
	shEnvDefault = regexp.MustCompile(`\$\{([A-Z][A-Z0-9_]*):?[-=?]`)
	shEnvRef     = regexp.MustCompile(`\$\{?([A-Z][A-Z0-9_]*)`)
	shEnvAssign  = regexp.MustCompile(`(?:^|[\s;(])(?:export\s+)?([A-Z][A-Z0-9_]*)=`)
)

// shellVars are set by the shell itself: not the environment a page
// documents.
var shellVars = []string{"PWD", "OLDPWD", "OPTARG", "OPTIND", "IFS", "PPID", "LINENO"}

// readScript parses scripts/name. A script without getopts or a usage line
// of its own that execs another script of scripts/ (a role script handing
// everything to cnj-node) takes that script's flags and commands; its
// environment is only what it reads itself.
func readScript(t *testing.T, name string, depth int) script {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(scriptDir, name))
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	var s script
	if m := getoptsRe.FindStringSubmatch(src); m != nil {
		s.hasOpts = true
		s.getopts = strings.ReplaceAll(m[1], ":", "")
	}
	for _, m := range usageRe.FindAllStringSubmatch(src, -1) {
		for _, f := range usageFlag.FindAllStringSubmatch(m[1], -1) {
			s.usage = append(s.usage, "-"+f[1])
		}
		for _, w := range strings.FieldsFunc(m[1], func(r rune) bool {
			return r == ' ' || r == '\t' || r == '|' || r == '[' || r == ']' || r == '(' || r == ')'
		}) {
			if regexp.MustCompile(`^[a-z][a-z0-9-]*$`).MatchString(w) && !strings.HasPrefix(w, "cnj-") {
				s.commands = append(s.commands, w)
			}
		}
	}
	var code strings.Builder
	for _, line := range strings.Split(src, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			code.WriteString(line)
			code.WriteByte('\n')
		}
	}
	assigned := map[string]bool{}
	for _, m := range shEnvAssign.FindAllStringSubmatch(code.String(), -1) {
		assigned[m[1]] = true
	}
	for _, m := range shEnvDefault.FindAllStringSubmatch(code.String(), -1) {
		s.envs = append(s.envs, m[1])
	}
	for _, m := range shEnvRef.FindAllStringSubmatch(code.String(), -1) {
		if !assigned[m[1]] && !slices.Contains(shellVars, m[1]) {
			s.envs = append(s.envs, m[1])
		}
	}
	if !s.hasOpts && len(s.usage) == 0 && len(s.commands) == 0 && depth < 3 {
		if m := execRe.FindStringSubmatch(code.String()); m != nil {
			if _, err := os.Stat(filepath.Join(scriptDir, m[1])); err == nil {
				inner := readScript(t, m[1], depth+1)
				s.hasOpts, s.getopts, s.usage, s.commands = inner.hasOpts, inner.getopts, inner.usage, inner.commands
			}
		}
	}
	for _, l := range []*[]string{&s.usage, &s.commands, &s.envs} {
		slices.Sort(*l)
		*l = slices.Compact(*l)
	}
	return s
}

// flags returns the script's flags, "-x": its getopts letters when it
// calls getopts, else the flags of its usage lines.
func (s script) flags() []string {
	if !s.hasOpts {
		return s.usage
	}
	var f []string
	for _, c := range s.getopts {
		f = append(f, "-"+string(c))
	}
	slices.Sort(f)
	return slices.Compact(f)
}

// TestManScripts checks every executable script of scripts/ against its
// page: the page exists; its OPTIONS document (.It Fl x) exactly the
// letters of the script's getopts string, or, for a script without
// getopts, the flags of its usage line; the usage line and getopts agree;
// every command of the usage line is a .Cm of the page; every environment
// variable the script reads is an .Ev of ENVIRONMENT.
func TestManScripts(t *testing.T) {
	names := scripts(t)
	if len(names) == 0 {
		t.Fatalf("no executable cnj-* in %s", scriptDir)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			page := filepath.Join(manDir, name+".1")
			if _, err := os.Stat(page); err != nil {
				t.Fatalf("script %s has no page: write man/%s.1", name, name)
			}
			s := readScript(t, name, 0)
			if s.hasOpts {
				for _, f := range s.usage {
					if !strings.Contains(s.getopts, f[1:]) {
						t.Errorf("scripts/%s: its usage line shows %s, its getopts string %q has no %s", name, f, s.getopts, f[1:])
					}
				}
				if len(s.usage) > 0 {
					for _, c := range s.getopts {
						if !slices.Contains(s.usage, "-"+string(c)) {
							t.Errorf("scripts/%s: getopts takes -%c, its usage line does not show it", name, c)
						}
					}
				}
			}
			src := readPage(t, page)
			options := section(src, "OPTIONS")
			if options == "" {
				t.Fatalf("%s: no OPTIONS section", page)
			}
			flags, documented := s.flags(), itFlags(options)
			for _, f := range flags {
				if !slices.Contains(documented, f) {
					t.Errorf("%s: scripts/%s takes %s, OPTIONS has no .It Fl %s", page, name, f, f[1:])
				}
			}
			for _, f := range documented {
				if !slices.Contains(flags, f) {
					t.Errorf("%s: OPTIONS documents %s, which scripts/%s does not take (getopts %q, usage %q)", page, f, name, s.getopts, s.usage)
				}
			}
			for _, c := range s.commands {
				if !regexp.MustCompile(`\bCm ` + regexp.QuoteMeta(c) + `\b`).MatchString(src) {
					t.Errorf("%s: command %s of scripts/%s's usage line is not documented (.Cm %s)", page, c, name, c)
				}
			}
			env := section(src, "ENVIRONMENT")
			for _, v := range s.envs {
				if !regexp.MustCompile(`\bEv ` + v + `\b`).MatchString(env) {
					t.Errorf("%s: scripts/%s reads $%s, ENVIRONMENT does not name it (.It Ev %s)", page, name, v, v)
				}
			}
		})
	}
}

// Vectors are printed in cnj-format(5), section TEST VECTORS, in one literal
// display: a name alone on a line, then its value on lines indented by four
// spaces, at most 64 characters each, to be joined with nothing between them.
const vectorIndent = "    "

func pageVectors(t *testing.T) (map[string]string, []string) {
	t.Helper()
	sec := section(readPage(t, formatPage), "TEST VECTORS")
	if sec == "" {
		t.Fatalf("%s: no TEST VECTORS section", formatPage)
	}
	vals := map[string]string{}
	var order []string
	in, name := false, ""
	for _, line := range strings.Split(sec, "\n") {
		switch {
		case strings.HasPrefix(line, ".Bd -literal"):
			in = true
			continue
		case line == ".Ed":
			in, name = false, ""
			continue
		case !in:
			continue
		}
		if chunk, ok := strings.CutPrefix(line, vectorIndent); ok {
			if name == "" {
				t.Fatalf("%s: value line before any name: %q", formatPage, line)
			}
			if len(chunk) > 64 {
				t.Errorf("%s: %s: value line of %d characters, at most 64", formatPage, name, len(chunk))
			}
			vals[name] += chunk
			continue
		}
		if line == "" || strings.HasPrefix(line, ".") {
			continue
		}
		name = line
		if _, dup := vals[name]; dup {
			t.Errorf("%s: vector %s printed twice", formatPage, name)
		}
		vals[name] = ""
		order = append(order, name)
	}
	// The page escapes nothing in the vectors, but undo the roff escapes a
	// value could need, so the comparison is on the text a reader sees.
	for k, v := range vals {
		vals[k] = strings.NewReplacer(`\e`, `\`, `\&`, ``).Replace(v)
	}
	return vals, order
}

func TestManVectors(t *testing.T) {
	f, err := os.Open(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	page, _ := pageVectors(t)
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	seen := map[string]bool{}
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("%s:%d: not NAME VALUE", vectorsFile, n)
		}
		seen[name] = true
		got, ok := page[name]
		switch {
		case !ok:
			t.Errorf("cnj-format.5 does not print vector %s", name)
		case got != value:
			t.Errorf("cnj-format.5: vector %s is\n\t%s\nvectors.txt has\n\t%s", name, got, value)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 {
		t.Fatalf("%s holds no vectors", vectorsFile)
	}
	for name := range page {
		if !seen[name] {
			t.Errorf("cnj-format.5 prints vector %s, which vectors.txt does not have", name)
		}
	}
}

// TestManMainGenesis checks the built-in main genesis line and hash that
// cnj-format(5) prints, split as the vectors are.
func TestManMainGenesis(t *testing.T) {
	joined := strings.ReplaceAll(section(readPage(t, formatPage), "GENESIS"), "\n"+vectorIndent, "")
	p := params.Main()
	h := p.Hash()
	for name, want := range map[string]string{
		"main-genesis-json": string(p.JSON()),
		"main-genesis-hash": hex.EncodeToString(h[:]),
	} {
		if !strings.Contains(joined, name+want+"\n") {
			t.Errorf("cnj-format.5, GENESIS: %s is not\n\t%s", name, want)
		}
	}
}

// TestManReasonCodes checks that REASON CODES in cnj-format(5) lists every
// reason code defined in lib (lib/rule and the policy codes of other
// packages), each as .It Cm CODE, and nothing else.
func TestManReasonCodes(t *testing.T) {
	def := regexp.MustCompile(`(?m)^\s*(?:const\s+)?[A-Z]\w*\s+(?:rule\.)?Code\s*=\s*"([a-z][a-z0-9-]*)"`)
	var codes []string
	err := filepath.WalkDir(libDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range def.FindAllSubmatch(b, -1) {
			codes = append(codes, string(m[1]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(codes, "bad-json") || !slices.Contains(codes, "corrupt") {
		t.Fatalf("found only the reason codes %q in %s", codes, libDir)
	}
	sec := section(readPage(t, formatPage), "REASON CODES")
	var listed []string
	for _, line := range strings.Split(sec, "\n") {
		if c, ok := strings.CutPrefix(line, ".It Cm "); ok {
			listed = append(listed, strings.TrimSpace(c))
		}
	}
	for _, c := range codes {
		if !slices.Contains(listed, c) {
			t.Errorf("cnj-format.5: REASON CODES does not list %s (.It Cm %s)", c, c)
		}
	}
	for _, c := range listed {
		if !slices.Contains(codes, c) {
			t.Errorf("cnj-format.5: REASON CODES lists %s, which no package in lib defines", c)
		}
	}
}
