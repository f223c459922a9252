# One module per service plus libs, tied by go.work: `go test ./...` at the
# root would test nothing, so every target loops over the workspace modules.
GO      ?= go
MODULES := $(shell $(GO) list -m -f '{{.Dir}}')
TRIAGE  := $(GO) run ./services/triage

.PHONY: run test lint bench eval build tidy

## run: the whole pipeline in one process on embedded defaults (Ctrl-C stops it)
# Built first, then exec'd: `go run` exits 1 when Ctrl-C reaches it, even
# after the pipeline has stopped cleanly.
run:
	@mkdir -p bin
	$(GO) build -o bin/triage ./services/triage
	exec bin/triage dev

## test: every module's tests with the race detector
test:
	@fail=0; for m in $(MODULES); do \
		echo "== $${m#$(CURDIR)/}"; \
		(cd $$m && $(GO) test -race -count=1 -timeout 10m ./...) || fail=1; \
	done; exit $$fail

## lint: gofmt and go vet over every module
lint:
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) vet ./...); done

## bench: pipeline throughput and latency against the bare JetStream ceiling, and each component's CPU per ticket (every service, NATS and the development Elasticsearch in its own process)
bench:
	$(TRIAGE) bench

## eval: signature grouping accuracy on the LogHub samples in ../shared; log search and routing on the demo worlds; routing on the labelled development tickets (cross-validated) and the public multilingual sample, each beside a keyword baseline
eval:
	$(TRIAGE) eval --seeds 1,2,3 --folds 5

## build: binaries for every service and the triage command into bin/
build:
	@mkdir -p bin
	@set -e; for s in intake enricher router queue bugfiler; do $(GO) build -o bin/$$s ./services/$$s/cmd/$$s; done
	$(GO) build -o bin/triage ./services/triage

## tidy: go mod tidy in every module, then go work sync
tidy:
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) mod tidy); done
	$(GO) work sync
