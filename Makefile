# The two commands in the README: `make run` starts stratus, `make test` runs
# every test (installing what the tests need on a fresh machine).
GO ?= go

.PHONY: run build test bench fuzz

run:
	$(GO) run ./cmd/stratus up $(ARGS)

build:
	$(GO) build -trimpath -o bin/stratus ./cmd/stratus

test:
	./scripts/test

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Each fuzz target for a short while; FUZZTIME=5m for a longer run.
FUZZTIME ?= 20s
fuzz:
	./scripts/fuzz $(FUZZTIME)
