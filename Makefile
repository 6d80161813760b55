# trnn's two entry points: `make quickstart` trains the bundled example and
# writes runs/quickstart/model.onnx; `make test` installs what the tests need
# and runs the whole suite.

GO       ?= go
ORT_LIB  := $(CURDIR)/.deps/ort/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1
# A count, not a duration: go1.26's fuzz coordinator can report a spurious
# "context deadline exceeded" when a duration runs out (go.dev/issue/75804).
FUZZTIME ?= 100000x

.PHONY: quickstart test deps build vet fuzz bench

build:
	$(GO) build -o bin/trnn ./cmd/trnn

quickstart: build
	./bin/trnn train examples/quickstart.yaml -o runs/quickstart

deps:
	./scripts/deps.sh

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }

test: deps vet
	TRNN_ORT_LIB=$(ORT_LIB) CI=$${CI:-true} $(GO) test -count=1 ./...
	$(MAKE) fuzz

fuzz:
	$(GO) test ./compiler -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./data -run '^$$' -fuzz '^FuzzReadNPZ$$' -fuzztime $(FUZZTIME)
	$(GO) test ./data -run '^$$' -fuzz '^FuzzReadCSV$$' -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/interp -run '^$$' -fuzz '^FuzzInterpreter$$' -fuzztime $(FUZZTIME)

bench:
	$(GO) test ./ops -run '^$$' -bench . -benchmem
