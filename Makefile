# Coniunctum toolkit. `make` builds every command into ./bin; `make test` is
# everything CI runs; `make demo` runs a local devnet, `make walkthrough`
# the single-node walkthrough.
GO       ?= go
PREFIX   ?= /usr/local
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/coniunctum/cnj/lib/cli.Version=$(VERSION)
CMDS     := $(notdir $(wildcard cmd/cnj-*))
MAN1     := $(wildcard man/*.1)
MAN5     := $(wildcard man/*.5)
SCRIPTS  := $(wildcard scripts/*)
# CNJ_KILLS sets how many times the crash test kills a process, CNJ_SOAK how
# long the hostile-peer soak lasts (make soak raises both, and the timeout).
CNJ_KILLS ?= 200
CNJ_SOAK  ?= 60s
TEST_TIMEOUT ?= 14m

.PHONY: all build deps test bench install demo walkthrough lint soak fuzz clean

# The tools the tests run, as COMMAND:DEBIAN-PACKAGE. `make deps` installs
# the missing ones with apt-get when run as root, and otherwise names them
# in one line and fails; `make test` runs it first, so that a fresh clone
# on a machine with only Go, git, make and apt passes `make test`.
TEST_TOOLS := mandoc:mandoc age:age shellcheck:shellcheck jq:jq curl:curl zstd:zstd setsid:util-linux pgrep:procps promtool:prometheus chromium:chromium xxd:xxd

all: build

# bin/ is the whole toolkit: the commands and the role scripts, the
# scripts with the version in their "version=dev" line, which their
# --version prints. A node run from here (make demo) serves bin/ and ../man
# to its installer. The commands are static (CGO_ENABLED=0: Go's own DNS
# resolver and user lookup): the installer hands them to machines whose C
# library may differ, a machine with a C compiler would otherwise link
# one and a machine without would not, and a command starts 3 to 5 ms
# sooner without the dynamic loader.
build:
	@case '$(VERSION)' in '' | *[!A-Za-z0-9._+-]*) echo 'make: VERSION must be letters, digits and ._+- only' >&2; exit 1 ;; esac
	@mkdir -p bin
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/ ./cmd/...
	@for s in $(SCRIPTS); do \
	  sed 's/^version=dev /version=$(VERSION) /' "$$s" >"bin/.$${s##*/}.new" && \
	  chmod 0755 "bin/.$${s##*/}.new" && mv -f "bin/.$${s##*/}.new" "bin/$${s##*/}" || exit 1; done

deps:
	@missing=''; for t in $(TEST_TOOLS); do \
	  command -v "$${t%%:*}" >/dev/null 2>&1 || missing="$$missing $${t#*:}"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "make deps: the tests need these Debian packages:$$missing (as root: apt-get install$$missing)" >&2; exit 1; fi; \
	echo "make deps: installing$$missing" >&2; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq $$missing >/dev/null

lint: deps
	@test -z "$$(gofmt -l cmd lib internal testscripts)" || { gofmt -l cmd lib internal testscripts; echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) vet ./...
	@if [ -n "$(SCRIPTS)" ]; then shellcheck $(SCRIPTS); fi
	mandoc -Tlint -Wwarning $(MAN1) $(MAN5)

# The adversarial suite, the hostile-peer soak and the partition heal write
# their one-line summaries to files that are printed after the run, so that
# the lines show whatever go test's verbosity.
test: deps build lint
	@rm -f bin/adversarial.txt bin/hostile.txt bin/heal.txt
	CNJ_KILLS=$(CNJ_KILLS) CNJ_SOAK=$(CNJ_SOAK) CNJ_ADVERSARIAL_OUT=$(CURDIR)/bin/adversarial.txt \
	  CNJ_HOSTILE_OUT=$(CURDIR)/bin/hostile.txt CNJ_HEAL_OUT=$(CURDIR)/bin/heal.txt $(GO) test -timeout $(TEST_TIMEOUT) ./...
	@cat bin/adversarial.txt bin/hostile.txt bin/heal.txt

soak:
	$(MAKE) test CNJ_KILLS=2000 CNJ_SOAK=10m TEST_TIMEOUT=45m

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 2s ./...

fuzz:
	@for pkg in $$($(GO) list ./lib/... ./internal/...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz'); do \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$pkg || exit 1; done; done

# The commands and the scripts, from bin/; a node run from PREFIX/bin
# serves them and PREFIX/share/man to its installer.
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 0755 bin/cnj-* $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5/

# demo: a local devnet of 3 full nodes in the foreground; Ctrl-C stops it.
demo: build
	@base=$$(mktemp -d "$${TMPDIR:-/tmp}/cnj-devnet.XXXXXX"); \
	PATH="$(CURDIR)/bin:$$PATH" CNJ_DEVNET="$$base" sh bin/cnj-devnet up -f 3

walkthrough: build
	PATH="$(CURDIR)/bin:$$PATH" sh bin/cnj-demo

clean:
	rm -rf bin
