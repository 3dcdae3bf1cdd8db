# regledger — see README.md. `make help` lists the targets.

GO            ?= go
export CGO_ENABLED := 1
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS       := -X main.version=$(VERSION)
BIN           := bin/regledger
HOME_DIR      ?= ./.regledger
FUZZTIME      ?= 30s
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
TEST_TIMEOUT  ?= 20m

.PHONY: help build run test lint bench fuzz deps clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## Build bin/regledger with the version stamped
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/regledger

run: build ## Start the product on its embedded default with demo data in ./.regledger
	$(BIN) start --home $(HOME_DIR) --demo

deps: ## Install the programs the tests use (openssl, Debian's chromium for the console's browser tests) when they are missing
	@command -v openssl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq openssl; }
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }

test: deps ## Run every test with the race detector (what CI runs)
	$(GO) test -race -timeout $(TEST_TIMEOUT) ./...

lint: ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

bench: build ## Run every benchmark (regledger bench all); each prints one "bench NAME: ... ratio=" line
	$(BIN) bench all

fuzz: ## Run each fuzz target for FUZZTIME (default 30s)
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

clean: ## Remove the build output (not ./.regledger)
	rm -rf bin
