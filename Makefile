# latch — make targets. `make help` lists them.
GO        ?= go
BIN       ?= bin
FUZZTIME  ?= 10s
BENCH     ?= .
BENCHTIME ?= 1x
LDFLAGS   ?= -s -w
CROSS     := arm6 arm7 arm64
# The build identity (internal/version): the newest vX.Y.Z tag (git describe), else
# 0.1.0~git<commit date>.<short hash> (a Debian version below 0.1.0); +dirty for a
# modified tree. DATE is the build time (SOURCE_DATE_EPOCH when set: reproducible).
VERSION   ?= $(shell v=$$(git describe --tags --match 'v[0-9]*' --dirty=+dirty 2>/dev/null) && echo $${v\#v} || \
             echo 0.1.0~git$$(git log -1 --format=%cd --date=format:%Y%m%d 2>/dev/null).$$(git rev-parse --short HEAD 2>/dev/null)$$(git diff --quiet HEAD 2>/dev/null || echo +dirty))
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
DATE      ?= $(shell date -u -d @$${SOURCE_DATE_EPOCH:-$$(date +%s)} +%Y-%m-%dT%H:%M:%SZ)
VFLAGS    := -X github.com/latchd/latch/internal/version.version=$(VERSION) \
             -X github.com/latchd/latch/internal/version.commit=$(COMMIT) \
             -X github.com/latchd/latch/internal/version.date=$(DATE)

.PHONY: help build test run bench fuzz cross lint fmt-check vet race qemu deb lintian hil clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-10s %s\n", $$1, $$2}'

build: ## build latchd and latchctl for this machine into bin/ (static: no C compiler needed)
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS) $(VFLAGS)' -o $(BIN)/ ./cmd/...

run: build ## build bin/, then start a simulated door with demo users (embedded default config)
	$(BIN)/latchd --sim

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

test: lint race cross qemu lintian hil ## the single test command: gofmt, vet, staticcheck, race tests, ARM builds, ARM scenario and ABI test under qemu, the .deb through lintian, the GPIO code on a real kernel (gpio-sim)

fmt-check: ## fail when a file is not gofmt-formatted
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet: ## go vet
	$(GO) vet ./...

race: ## unit tests with the race detector (it needs cgo: gcc)
	CGO_ENABLED=1 LATCH_SCREENSHOTS=$(CURDIR)/$(BIN)/screenshots $(GO) test -race -count=1 ./...

cross: ## CGO_ENABLED=0 builds for linux/arm (v6, v7) and linux/arm64 into bin/<arch>/
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=6 $(GO) build -ldflags '$(LDFLAGS) $(VFLAGS)' -o $(BIN)/arm6/ ./cmd/...
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -ldflags '$(LDFLAGS) $(VFLAGS)' -o $(BIN)/arm7/ ./cmd/...
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64       $(GO) build -ldflags '$(LDFLAGS) $(VFLAGS)' -o $(BIN)/arm64/ ./cmd/...

# armhf carries the GOARM=6 build: Raspberry Pi OS's armhf is ARMv6 (Pi 1, Zero), and
# the same binary runs on every later Pi.
deb: cross ## latch_<version>_armhf.deb, _arm64.deb and _amd64.deb into bin/deb/ (nfpm, pinned, through go run)
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -ldflags '$(LDFLAGS) $(VFLAGS)' -o $(BIN)/amd64/ ./cmd/...
	GO=$(GO) scripts/deb.sh armhf $(BIN)/arm6 $(BIN)/deb $(VERSION)
	GO=$(GO) scripts/deb.sh arm64 $(BIN)/arm64 $(BIN)/deb $(VERSION)
	GO=$(GO) scripts/deb.sh amd64 $(BIN)/amd64 $(BIN)/deb $(VERSION)

hil: ## the GPIO code and daemon wiring against the kernel's gpio-sim in a qemu VM (docs/hil.md; the kernel is built once and cached)
	GO=$(GO) scripts/hil/run.sh

lintian: deb ## lintian on the amd64 .deb: no error and no warning (deploy/deb/lintian-overrides says why each override)
	scripts/lintian.sh $(BIN)/deb/latch_$(VERSION)_amd64.deb

qemu: cross ## under qemu-user: one scenario with each ARM binary against the native run, and gpiocdev's TestABILayout (fails without qemu-user)
	scripts/qemu-scenario.sh $(BIN)

bench: ## benchmarks (BENCH=regexp, BENCHTIME=1x|5s)
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -benchmem ./...

fuzz: ## run every fuzz target for FUZZTIME each
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

lint: fmt-check vet ## gofmt, go vet and staticcheck (pinned, run with go run: zero findings)
	$(GO) run $(STATICCHECK) ./...

clean: ## remove build output
	rm -rf $(BIN)
