# lanyard — see README.md. All targets work on a machine with only Go
# installed; `make test` skips end-to-end tests whose tool is absent
# (.ci/run installs them all).
PREFIX ?= $(shell go env GOPATH)
BINDIR ?= $(PREFIX)/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Every command under cmd/ but the bench driver: a new tool's command is
# built, installed and packaged without editing this file.
CMDS := $(filter-out lanyard-bench,$(notdir $(wildcard cmd/*)))
# What install, the archives and the packages ship: every command but the demo.
DIST_CMDS := $(filter-out lanyard-demo-provider,$(CMDS))
FUZZTIME ?= 5s
# Static binaries start faster: no dynamic loader on every helper call. macOS
# needs cgo for the Keychain backend, so only Linux builds without it.
BUILD_CGO ?= $(if $(filter linux,$(shell go env GOOS)),0,1)

.PHONY: build install dist test testbin test-agent-off cross test-go-min mod-check fuzz bench lint demo generate install-httpie uninstall-httpie clean

build:
	@mkdir -p bin
	CGO_ENABLED=$(BUILD_CGO) go build -trimpath -ldflags '$(LDFLAGS)' -o bin/ $(addprefix ./cmd/,$(CMDS))

install: build
	@mkdir -p $(BINDIR)
	install -m 0755 $(addprefix bin/,$(DIST_CMDS)) $(BINDIR)/

# Release archives, checksums.txt, .deb and .rpm into dist/ (scripts/dist.sh).
dist:
	@bash scripts/dist.sh $(VERSION) $(DIST_CMDS)

# The test command the README gives and CI runs. The binaries the
# end-to-end tests run are built once, for every test package
# (internal/testbin reads LANYARD_TEST_BIN), instead of once per package.
TEST_BIN := $(CURDIR)/.testbin
test: testbin
	go vet ./...
	LANYARD_TEST_BIN=$(TEST_BIN) go test -race -count=1 -timeout 15m ./...
	$(MAKE) test-agent-off
	$(MAKE) fuzz
	$(MAKE) cross

testbin:
	@mkdir -p $(TEST_BIN)
	go build -o $(TEST_BIN)/ $(addprefix ./cmd/,$(CMDS))

# The end-to-end tests of every tool once more without the agent
# (LANYARD_AGENT=off: each helper call answers in-process, as on Windows).
# Without -race: the race detector has seen this code in the run above.
test-agent-off: testbin
	LANYARD_AGENT=off LANYARD_TEST_BIN=$(TEST_BIN) go test -count=1 -timeout 15m ./helpers/... ./cmd/... ./internal/keyringe2e/

# go vet and go build for linux, macOS and Windows (amd64, arm64), and the
# test binaries of every package for Windows and macOS.
cross:
	@bash scripts/cross.sh

# The oldest Go that go.mod's `go` line allows (GOTOOLCHAIN fetches it
# through the module proxy) builds and vets everything, tests included, so
# that line stays true. The tests themselves ran with the current Go.
test-go-min:
	v=$$(go list -m -f '{{.GoVersion}}'); case $$v in *.*.*) ;; *) v=$$v.0 ;; esac; \
	GOTOOLCHAIN=go$$v go build ./... && GOTOOLCHAIN=go$$v go vet ./...

# go.mod and go.sum exactly as `go mod tidy` writes them.
mod-check:
	@go mod tidy -diff || { echo 'go.mod/go.sum are not tidy: run go mod tidy and commit the result' >&2; exit 1; }

# Every fuzz target for a short time (longer: make fuzz FUZZTIME=5m).
fuzz:
	@bash scripts/fuzz.sh $(FUZZTIME)

bench:
	@bash scripts/bench.sh

lint: mod-check
	gofmt -l . | tee /dev/stderr | (! read)
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

demo:
	@bash scripts/demo.sh

generate:
	go generate ./plugin/...

install-httpie:
	@bash helpers/httpie/install.sh install

uninstall-httpie:
	@bash helpers/httpie/install.sh uninstall

clean:
	rm -rf bin .bench dist .testbin
