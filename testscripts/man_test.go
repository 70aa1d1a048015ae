package testscripts

// The manual agrees with the commands, the scripts and the test vectors:
// every page lints clean, every flag that a command's --help lists is
// documented in its page's OPTIONS and every flag documented there exists,
// every script of scripts/ has a page whose OPTIONS are the flags its
// --help lists, which are its getopts letters, and every test vector of
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

// script is what a script of scripts/ says about its interface: its
// source's getopts string and environment, and its --help.
type script struct {
	getopts string   // the letters of its getopts string, "" if none
	hasOpts bool     // it calls getopts
	envs    []string // the environment variables it reads
	help    scriptHelp
}

// scriptHelp is what a script's --help lists.
type scriptHelp struct {
	usage    []string // the usage lines, "usage: " and the indent cut
	flags    []string // the flags of the usage lines and option rows, "-x", "--name"
	short    []string // the one-letter flags of those, "-x"
	commands []string // the commands of the usage lines
}

var (
	// getopts OPTSTRING VAR, the string bare or quoted.
	getoptsRe = regexp.MustCompile(`\bgetopts\s+['"]?([A-Za-z0-9:]+)['"]?\s`)
	// A flag of a usage line: "-x" or "--name", alone, or in [ ] or
	// after a |.
	usageFlag = regexp.MustCompile(`(?:^|[\s\[|(])(--?[A-Za-z0-9][A-Za-z0-9-]*)(?:[\s\]|)]|$)`)
	// A row of the Options list: two spaces, then the flag.
	optionRow = regexp.MustCompile(`^  (--?[A-Za-z0-9][A-Za-z0-9-]*)\b`)
	// A command of a usage line: a lowercase word that is not a flag.
	usageWord = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
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

// readScript parses scripts/name. A script without getopts that execs
// another script of scripts/ (a role script handing everything to
// cnj-node) takes that script's getopts string; its environment is only
// what it reads itself.
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
	if !s.hasOpts && depth < 3 {
		if m := execRe.FindStringSubmatch(code.String()); m != nil {
			if _, err := os.Stat(filepath.Join(scriptDir, m[1])); err == nil {
				inner := readScript(t, m[1], depth+1)
				s.hasOpts, s.getopts = inner.hasOpts, inner.getopts
			}
		}
	}
	slices.Sort(s.envs)
	s.envs = slices.Compact(s.envs)
	return s
}

// runScript runs scripts/name with args, the scripts and the built
// commands first on PATH, and returns its exit status and streams.
func runScript(t *testing.T, name string, args ...string) (int, string, string) {
	t.Helper()
	scripts, err := filepath.Abs(scriptDir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(scripts, name), args...)
	cmd.Env = append(os.Environ(), "PATH="+scripts+string(os.PathListSeparator)+BinDir()+string(os.PathListSeparator)+os.Getenv("PATH"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("scripts/%s %s: %v", name, strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return code, stdout.String(), stderr.String()
}

// parseScriptHelp reads a script's --help: its usage lines, the first
// line "usage: NAME ..." and the lines indented under it, and the rows of
// its "Options:" list, each "  -x ..." or "  --name ...".
func parseScriptHelp(out string) scriptHelp {
	var h scriptHelp
	inUsage, inOptions := false, false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "usage: "):
			inUsage = true
			h.usage = append(h.usage, strings.TrimPrefix(line, "usage: "))
			continue
		case inUsage && strings.HasPrefix(line, "       "):
			h.usage = append(h.usage, strings.TrimSpace(line))
			continue
		case line == "Options:":
			inOptions = true
		case line == "":
			inOptions = false
		case inOptions:
			if m := optionRow.FindStringSubmatch(line); m != nil {
				h.flags = append(h.flags, m[1])
			}
		}
		inUsage = false
	}
	for _, u := range h.usage {
		for _, m := range usageFlag.FindAllStringSubmatch(u, -1) {
			h.flags = append(h.flags, m[1])
		}
		for _, w := range strings.FieldsFunc(u, func(r rune) bool {
			return r == ' ' || r == '\t' || r == '|' || r == '[' || r == ']' || r == '(' || r == ')'
		}) {
			if usageWord.MatchString(w) && !strings.HasPrefix(w, "cnj-") {
				h.commands = append(h.commands, w)
			}
		}
	}
	slices.Sort(h.flags)
	h.flags = slices.Compact(h.flags)
	for _, f := range h.flags {
		if len(f) == 2 {
			h.short = append(h.short, f)
		}
	}
	slices.Sort(h.commands)
	h.commands = slices.Compact(h.commands)
	return h
}

// TestManScripts checks every executable script of scripts/ against its
// page and itself: the page exists; --help, alone or after any command of
// the usage lines, prints usage lines on standard output and exits 0,
// --version prints "NAME dev" (make build writes the version over dev)
// and exits 0, an unknown option is a usage error (2)
// that prints the usage lines on standard error only; the flags of --help
// (its usage lines and Options rows) are exactly the flags the page's
// OPTIONS document (.It Fl x, .It Fl -name); its one-letter flags are
// exactly the letters of the script's getopts string, when it has one;
// every command of the usage lines is a .Cm of the page; every environment
// variable the script reads is an .Ev of ENVIRONMENT.
func TestManScripts(t *testing.T) {
	if BinDir() == "" {
		t.Fatal("the commands were not built")
	}
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

			code, out, errOut := runScript(t, name, "--help")
			usageLine := regexp.MustCompile(`(?m)^usage: ` + regexp.QuoteMeta(name) + `( |$)`)
			if code != 0 || errOut != "" || !usageLine.MatchString(out) || !strings.HasPrefix(out, "usage: ") {
				t.Fatalf("scripts/%s --help: exit %d, want 0 with usage lines on standard output only\nstdout: %s\nstderr: %s", name, code, out, errOut)
			}
			s.help = parseScriptHelp(out)
			code, out, errOut = runScript(t, name, "--version")
			if code != 0 || errOut != "" || out != name+" dev\n" {
				t.Errorf("scripts/%s --version: exit %d, stdout %q, stderr %q; want 0 and %q", name, code, out, errOut, name+" dev\n")
			}
			// --help after a command, as the commands answer it.
			for _, c := range s.help.commands {
				if code, out, errOut := runScript(t, name, c, "--help"); code != 0 || errOut != "" || !usageLine.MatchString(out) {
					t.Errorf("scripts/%s %s --help: exit %d, want 0 with usage lines on standard output only\nstdout: %s\nstderr: %s", name, c, code, out, errOut)
				}
			}
			code, out, errOut = runScript(t, name, "-Z")
			if code != 2 || out != "" || !usageLine.MatchString(errOut) {
				t.Errorf("scripts/%s -Z: exit %d, stdout %q, stderr %q; want 2 and the usage lines on standard error", name, code, out, errOut)
			}

			for _, f := range []string{"--help", "--version"} {
				if !slices.Contains(s.help.flags, f) {
					t.Errorf("scripts/%s --help does not list %s", name, f)
				}
			}
			if s.hasOpts {
				for _, f := range s.help.short {
					if !strings.Contains(s.getopts, f[1:]) {
						t.Errorf("scripts/%s: --help lists %s, its getopts string %q has no %s", name, f, s.getopts, f[1:])
					}
				}
				for _, c := range s.getopts {
					if !slices.Contains(s.help.short, "-"+string(c)) {
						t.Errorf("scripts/%s: getopts takes -%c, --help does not list it", name, c)
					}
				}
			}
			src := readPage(t, page)
			options := section(src, "OPTIONS")
			if options == "" {
				t.Fatalf("%s: no OPTIONS section", page)
			}
			documented := itFlags(options)
			for _, f := range s.help.flags {
				if !slices.Contains(documented, f) {
					t.Errorf("%s: scripts/%s --help lists %s, OPTIONS has no .It Fl %s", page, name, f, f[1:])
				}
			}
			for _, f := range documented {
				if !slices.Contains(s.help.flags, f) {
					t.Errorf("%s: OPTIONS documents %s, which scripts/%s --help does not list (usage %q)", page, f, name, s.help.usage)
				}
			}
			for _, c := range s.help.commands {
				if !regexp.MustCompile(`\bCm ` + regexp.QuoteMeta(c) + `\b`).MatchString(src) {
					t.Errorf("%s: command %s of scripts/%s's usage lines is not documented (.Cm %s)", page, c, name, c)
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
