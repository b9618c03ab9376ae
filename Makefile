# The two commands in the README: `make run` starts stratus, `make test` runs
# every test (installing what the tests need on a fresh machine).
GO ?= go

.PHONY: run build test bench fuzz with-stratus

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

# Run your tests against a throw-away stratus (scripts/with-stratus):
#   make with-stratus TEST_CMD="go test ./..."   (the default)
#   make with-stratus TEST_CMD="pytest tests/" STRATUS_UP_FLAGS="--sim-nodes 10"
TEST_CMD ?= $(GO) test ./...
with-stratus: build
	STRATUS=bin/stratus ./scripts/with-stratus $(TEST_CMD)
