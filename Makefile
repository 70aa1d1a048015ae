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
# CNJ_KILLS sets how many times the crash test kills a process (make soak raises it).
CNJ_KILLS ?= 200

.PHONY: all build test bench install demo walkthrough lint soak fuzz clean

all: build

build:
	@mkdir -p bin
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/ ./cmd/...

lint:
	@test -z "$$(gofmt -l cmd lib internal testscripts)" || { gofmt -l cmd lib internal testscripts; echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) vet ./...
	@if [ -n "$(SCRIPTS)" ]; then shellcheck $(SCRIPTS); fi
	mandoc -Tlint -Wwarning $(MAN1) $(MAN5)

# The adversarial suite writes its one-line summary to a file that is printed
# after the run, so that the line shows whatever go test's verbosity.
test: build lint
	@rm -f bin/adversarial.txt
	CNJ_KILLS=$(CNJ_KILLS) CNJ_ADVERSARIAL_OUT=$(CURDIR)/bin/adversarial.txt $(GO) test -timeout 14m ./...
	@cat bin/adversarial.txt

soak:
	$(MAKE) test CNJ_KILLS=2000

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 2s ./...

fuzz:
	@for pkg in $$($(GO) list ./lib/... ./internal/...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz'); do \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$pkg || exit 1; done; done

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 0755 bin/cnj-* $(SCRIPTS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5/

# demo: a local devnet of 3 full nodes in the foreground; Ctrl-C stops it.
demo: build
	@base=$$(mktemp -d "$${TMPDIR:-/tmp}/cnj-devnet.XXXXXX"); \
	PATH="$(CURDIR)/bin:$(CURDIR)/scripts:$$PATH" CNJ_DEVNET="$$base" sh scripts/cnj-devnet up -f 3

walkthrough: build
	PATH="$(CURDIR)/bin:$$PATH" sh scripts/cnj-demo

clean:
	rm -rf bin
