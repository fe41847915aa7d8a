# planrun developer targets. CI runs `make test` (see .ci/run).
#
#   make deps    install the PostgreSQL server binaries the tests and the
#                embedded target start a throwaway server from
#   make build   build bin/planrun
#   make demo    run the smoke plan against an embedded server
#   make test    vet, then every test with the race detector
#   make bench   every benchmark, no tests

GO   ?= go
BIN  ?= bin/planrun
PLAN ?= plans/smoke.yaml
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: all deps build demo test bench fmt vet clean

all: build

deps:
	bash scripts/install-postgres.sh

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/planrun

demo: deps build
	./$(BIN) $(PLAN)

test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

fmt:
	$(GO) fmt ./...

vet:
	$(GO) vet ./...

clean:
	rm -rf bin out
