# trnn's two entry points: `make quickstart` trains the bundled example and
# writes runs/quickstart/model.onnx; `make test` installs what the tests need
# and runs the whole suite.

GO       ?= go
ORT_LIB  := $(CURDIR)/.deps/ort/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1
# A count, not a duration: go1.26's fuzz coordinator can report a spurious
# "context deadline exceeded" when a duration runs out (go.dev/issue/75804).
FUZZTIME ?= 100000x

.PHONY: quickstart test deps build vet lint race fuzz bench

build:
	$(GO) build -o bin/trnn ./cmd/trnn

quickstart: build
	./bin/trnn train examples/quickstart.yaml -o runs/quickstart --force

deps:
	./scripts/deps.sh

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }

# lint: go.mod is tidy, and no function is unreachable from a command
# (test oracles live in _test.go files). deadcode is pinned in go.mod.
lint: vet
	@$(GO) mod tidy -diff >/dev/null || { $(GO) mod tidy -diff; echo "go.mod: run go mod tidy"; exit 1; }
	@out="$$($(GO) tool deadcode ./...)"; test -z "$$out" || { echo "$$out"; echo "deadcode: the functions above are unreachable"; exit 1; }

# TRNN_REQUIRE_DEPS: a test whose dependency (ONNX Runtime, ONNX's node
# tests, onnx.checker) is missing fails instead of skipping.
test: deps lint
	TRNN_ORT_LIB=$(ORT_LIB) TRNN_REQUIRE_DEPS=1 $(GO) test -count=1 ./...
	$(MAKE) race
	$(MAKE) fuzz

race:
	TRNN_ORT_LIB=$(ORT_LIB) TRNN_REQUIRE_DEPS=1 $(GO) test -count=1 -race ./runtime/... ./serve .

fuzz:
	$(GO) test ./compiler -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./data -run '^$$' -fuzz '^FuzzReadNPZ$$' -fuzztime $(FUZZTIME)
	$(GO) test ./data -run '^$$' -fuzz '^FuzzReadCSV$$' -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/interp -run '^$$' -fuzz '^FuzzInterpreter$$' -fuzztime $(FUZZTIME)
	$(GO) test ./export -run '^$$' -fuzz '^FuzzDecodeONNX$$' -fuzztime $(FUZZTIME)
	$(GO) test ./export -run '^$$' -fuzz '^FuzzDecodeTensor$$' -fuzztime $(FUZZTIME)

bench:
	$(GO) test ./ops -run '^$$' -bench . -benchmem
