# streamgauge: load-test streaming LLM inference endpoints.
# `make demo` runs a real load test against the built-in simulator;
# `make test` runs the quick tier of the tests (about 2 minutes);
# `make check` runs everything, and is what CI (.ci/run) runs.

GO       ?= go
BIN      := bin/streamgauge
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 10s
PKGS     := ./...
# RACE_PKGS are the packages whose code runs goroutines or guards shared
# state (a new package with concurrency belongs here); `make test` runs the
# others without the race detector, which only costs them time.
RACE_PKGS := ./analysis ./bench/loadbench ./cmd/streamgauge ./harness ./loadgen \
	./loadgen/prompt ./loadgen/tokenizer ./monitor ./results ./targets ./targets/sim

.PHONY: all build test check test-full demo bench lint fuzz soak clean

all: lint build test

## build: a static binary in bin/streamgauge
build:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/streamgauge

## test: the quick tier, for every change (about 2 minutes on 2 cores):
## every test in -short mode, the packages with concurrency under the race
## detector. -short skips the long ones: end-to-end load runs of seconds,
## statistical and timing-truth runs, the soak, the Dockerfile build, MiB
## inputs; `make check` runs them.
test:
	$(GO) test -short -race -count=1 -timeout 10m $(RACE_PKGS)
	$(GO) test -short -count=1 -timeout 10m $$($(GO) list $(PKGS) | grep -vxF "$$($(GO) list $(RACE_PKGS))")

## check: everything, as CI runs it (.ci/run): lint, the full suite, every
## fuzz target for 5 s, a 60 s soak and the demo.
check: lint test-full
	$(MAKE) fuzz FUZZTIME=5s
	$(MAKE) soak SOAK=60s
	$(MAKE) demo

## test-full: every test, with the race detector, then the timing-truth
## end-to-end tests and calibrate's recovery proof on their own (other test binaries running in parallel
## would steal the CPU whose absence they measure) and the statistical
## compare tests without the race detector (they would take many minutes
## under it): honesty on 200 pairs of 2,000-request runs and on 60 pairs of
## 200,000-request runs correlated in time (TestCompareHonestyLarge).
test-full:
	$(GO) test -race -count=1 -timeout 15m $(PKGS)
	STREAMGAUGE_TIMING=1 $(GO) test -count=1 -timeout 3m -run 'TestTimingTruth|TestTraceReplayGaps|TestCalibrateRecoversSimulator' -v ./cmd/streamgauge
	STREAMGAUGE_LARGE=1 $(GO) test -count=1 -timeout 20m -run 'TestCompareHonesty' -v ./analysis

## demo: a real load run against the built-in simulator, results table on stdout
demo: build
	./$(BIN) run demo

## bench: the numbers that prove the generator exact and cheap (not pass/fail):
## micro-benchmarks of the hot paths (frame reading, decoding, records,
## histograms), then the end-to-end load benchmark against the simulator in
## its own process: a minimal baseline client vs streamgauge, CPU, RSS and
## timing error against the simulator's truth log, and `streamgauge compare`
## of two generated 1,000,000-request runs for its peak RSS (~12 minutes;
## 2.5 GB of temporary disk).
## BENCHFLAGS=--quick for ~5 minutes, --full for the long runs (~30 minutes);
## results in bench/results.json, recorded in docs/performance.md.
BENCHFLAGS ?=
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./targets/... ./analysis/ ./loadgen/... ./bench/...
	$(GO) run ./bench/loadbench --server-bin $(BIN) --out bench/results.json $(BENCHFLAGS)

## lint: formatting, vet, and staticcheck when it is installed
lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	@if command -v staticcheck >/dev/null 2>&1; then staticcheck $(PKGS); \
	elif [ -x "$$($(GO) env GOPATH)/bin/staticcheck" ]; then "$$($(GO) env GOPATH)/bin/staticcheck" $(PKGS); \
	else echo "staticcheck not installed; skipped (go install honnef.co/go/tools/cmd/staticcheck@v0.8.2)"; fi

## soak: a 10-minute chaos run (errors, stalls, dropped connections) with
## memory sampled each minute and goroutines counted before and after;
## SOAK=60s for a short one (CI)
SOAK ?= 10m
soak:
	STREAMGAUGE_SOAK=$(SOAK) $(GO) test -count=1 -run '^TestSoak$$' -v -timeout 30m ./harness

## fuzz: every fuzz target for FUZZTIME each (seed corpora also run in `make test`)
fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

clean:
	rm -rf bin
