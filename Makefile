# sigtail: `make run` scans the sample logs, `make test` is what CI runs.
GO      ?= go
BIN     := bin/sigtail
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
SAMPLES := testdata/sample/gunicorn-error.log testdata/sample/nginx-error.log testdata/sample/nginx-access.log testdata/sample/kern.log

PREFIX  ?= /usr/local

.PHONY: all build run test vet fuzz bench lint-catalog clean test-outputs e2e torture man install

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/sigtail

# The main job on the shipped sample logs: a one-shot scan, as text.
# (exit status 1 means critical incidents were found, which these logs hold)
run: build
	./$(BIN) scan --output text --timezone UTC --host sample-host $(SAMPLES) || [ $$? -eq 1 ]

# The man pages in contrib/man, generated from the command tree that also
# gives --help (a test fails when they are out of date).
man: build
	rm -f contrib/man/*.1
	./$(BIN) man contrib/man

# The binary, its man pages and its shell completions under $(PREFIX)
# (DESTDIR for packaging).
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/sigtail
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0644 contrib/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	./$(BIN) completion bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/sigtail
	./$(BIN) completion zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_sigtail
	./$(BIN) completion fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/sigtail.fish

vet:
	$(GO) vet ./...

# Unit, golden, catalog-sample and fuzz-seed tests, with the race detector.
test: vet lint-catalog
	$(GO) test -race -count=1 ./...

lint-catalog: build
	./$(BIN) lint

# The outputs alone: spool, encodings, Loki and webhook test servers, and the
# real systemd-journald and prometheus-alertmanager where they are installed.
test-outputs:
	$(GO) test -race -count=1 -v -run . ./pkg/sink 2>&1 | grep -E '^(--- |ok|FAIL|PASS)|outage|skip'

# End to end: real Gunicorn (Debian's 20.1) behind real nginx, made to fail,
# watched by the sigtail daemon (apt-get install gunicorn nginx
# python3-gevent curl). About two and a half minutes; -capture refreshes
# testdata/real/.
e2e:
	$(GO) test -tags e2e -count=1 -timeout 8m -v -run E2E ./cmd/sigtail

# Run every fuzz target for FUZZTIME each (seeds alone run in `make test`).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test $$pkg -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) || exit 1; \
	  done; \
	done

# Not one line lost: the daemon binary follows a log written at 10,000
# lines/s while it is rotated every 0.5 s (rename, recreate, copytruncate,
# truncate, and all in turn), 1,000 rotations a run, then once more with
# 100 kill -9 on the way (rename, and all in turn); prints the table of lines
# written, read and lost, CPU and RSS. About an hour and forty minutes.
# `make test` runs a short form (20 rotations every 0.5 s per mode; 8 kill -9
# across 40 rotations).
torture:
	$(GO) test -count=1 -timeout 3h -v -run 'TestTorture' ./cmd/sigtail \
	  -torture.rate 10000 -torture.rotations 1000 -torture.every 500ms -torture.kills 100 -torture.kill-rotations 1000

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
