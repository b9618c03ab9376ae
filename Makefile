# The two commands in the README: `make run` builds stratus into bin/ and
# starts it, `make test` runs every test (installing what the tests need on
# a fresh machine).
GO ?= go
BIN ?= bin/stratus
# The Go release go.mod asks for (its `go` line).
GO_NEED := $(shell sed -n 's/^go \([0-9.]*\).*/\1/p' go.mod)
# The commit `stratus version` prints when Go records no VCS stamp.
COMMIT := $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X main.commit=$(COMMIT)

.PHONY: run build install check-go test bench fuzz with-stratus

# `go build -v` names each package as it compiles, so a first build (a few
# minutes on two cores) shows progress; later builds reuse the build cache.
# stratus stops cleanly on Ctrl-C and exits 0, so make reports no error.
run: build
	@echo "==> $(BIN) up $(ARGS)"
	@exec ./$(BIN) up $(ARGS)

# The same flags as `go build`/`go test` use by default, so the build cache
# is shared with the tests and with `make run`.
build: check-go
	@echo "==> go build -o $(BIN) ./cmd/stratus (packages are listed as they compile)"
	@$(GO) build -v -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/stratus

install: check-go
	$(GO) install -v -ldflags "$(LDFLAGS)" ./cmd/stratus

check-go:
	@command -v $(GO) >/dev/null 2>&1 || { echo "stratus needs Go $(GO_NEED) or newer: https://go.dev/dl/ (not found on PATH)"; exit 1; }
	@have=$$($(GO) env GOVERSION | sed 's/^go//'); \
	if [ "$$(printf '%s\n%s\n' "$(GO_NEED)" "$$have" | sort -V | head -n1)" != "$(GO_NEED)" ]; then \
		echo "stratus needs Go $(GO_NEED) or newer (go.mod); this go is $$have. With GOTOOLCHAIN=auto (the default) go fetches it; otherwise https://go.dev/dl/"; exit 1; \
	fi

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
	STRATUS=$(BIN) ./scripts/with-stratus $(TEST_CMD)
