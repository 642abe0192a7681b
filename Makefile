# oopsflow — see README.md.
GO        ?= go
BIN       := bin/oopsflow
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
FUZZTIME  ?= 10s

.PHONY: all build plugin demo up down test fuzz bench bench-e2e conformance lint clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/oopsflow

# The Fluent Bit output plugin (CGO; glibc of the build machine or newer at run time).
plugin:
	CGO_ENABLED=1 $(GO) build -buildmode=c-shared -trimpath -o bin/out_oopsflow.so ./plugin

# The main job on the embedded default: generate a fleet log (2,000 hosts,
# one million lines, crashes drawn from the knowledge base) and scan it.
demo: build
	@mkdir -p out
	$(BIN) gen --hosts 2000 --lines 1000000 --seed 1 -o out/fleet.log
	$(BIN) scan --format table --stats out/fleet.log

# The whole stack with Docker (Kafka, Elasticsearch, Kibana, Fluent Bit, oopsflow,
# generators): Kibana on http://localhost:5601 (elastic / see deploy/compose/.env).
up:
	docker compose -f deploy/compose/compose.yaml up -d --build

down:
	docker compose -f deploy/compose/compose.yaml down -v

# The test command of the README and of .ci/run: vet, the race-enabled test
# suite (conformance included when ../shared is present), the knowledge
# base's own examples, and a brief fuzz of decoding, assembly and parsing.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	$(GO) run ./cmd/oopsflow rules test
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME)

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./processor/logline
	$(GO) test -run '^$$' -fuzz '^FuzzAssemble$$' -fuzztime $(FUZZTIME) ./processor/assemble
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./processor/oops

# Benchmarks beside the code, one core, as in the README.
bench:
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench . -benchmem ./processor/...

# The end-to-end figure of the README: 1 GB of generated fleet syslog.
bench-e2e: build
	@mkdir -p out
	$(BIN) gen --hosts 2000 --lines 6500000 --seed 1 -o out/fleet-1g.log
	GOMAXPROCS=1 /usr/bin/time -f '%e s wall, %M KB max RSS' $(BIN) scan --format ndjson out/fleet-1g.log > /dev/null

# Parser figures against syzkaller's corpus in ../shared/corpus/syzkaller.
conformance:
	$(GO) test -count=1 -run '^TestConformance$$' -v ./internal/conformance

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -checks 'all,-ST1003,-ST1005' ./...
	$(GO) run ./cmd/oopsflow rules lint

clean:
	rm -rf bin out
