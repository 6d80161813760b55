# trnn's two entry points: `make quickstart` trains the bundled example and
# writes runs/quickstart/model.onnx; `make test` installs what the tests need
# and runs the whole suite. `make mimic3` makes synthetic ICU stays in
# mimic3-benchmarks' folder layout and trains the two clinical examples.

GO       ?= go
ORT_LIB  := $(CURDIR)/.deps/ort/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1
# A count, not a duration: go1.26's fuzz coordinator can report a spurious
# "context deadline exceeded" when a duration runs out (go.dev/issue/75804).
FUZZTIME ?= 100000x

.PHONY: quickstart mimic3 test deps build vet lint race fuzz bench profile

build:
	$(GO) build -o bin/trnn ./cmd/trnn

quickstart: build
	./bin/trnn train examples/quickstart.yaml -o runs/quickstart --force

# The stays go to examples/data/ (not checked in), where the specs' data.train
# points; synth refuses a folder that is not empty, so remove it to remake it.
mimic3: build
	test -d examples/data/mimic3-ihm || ./bin/trnn synth --mimic3 -o examples/data/mimic3-ihm/ --n 3000
	./bin/trnn train examples/mimic3-ihm.yaml -o runs/mimic3-ihm --force
	test -d examples/data/mimic3-phenotyping || ./bin/trnn synth --mimic3 --labels 25 --min-len 24 --max-len 120 -o examples/data/mimic3-phenotyping/ --n 3000
	./bin/trnn train examples/mimic3-phenotyping.yaml -o runs/mimic3-phenotyping --force

deps:
	./scripts/deps.sh

# vet also type-checks every package and test for arm64 without cgo, where
# no assembly kernel and no ONNX Runtime exist: the pure-Go fallbacks must
# build.
vet:
	$(GO) vet ./...
	GOARCH=arm64 CGO_ENABLED=0 $(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }

# lint: go.mod is tidy, and no function is unreachable from a command
# (test oracles live in _test.go files). deadcode is pinned in go.mod.
lint: vet
	@$(GO) mod tidy -diff >/dev/null || { $(GO) mod tidy -diff; echo "go.mod: run go mod tidy"; exit 1; }
	@out="$$($(GO) tool deadcode ./...)"; test -z "$$out" || { echo "$$out"; echo "deadcode: the functions above are unreachable"; exit 1; }

# TRNN_REQUIRE_DEPS: a test whose dependency (ONNX Runtime, ONNX's node
# tests, onnx.checker) is missing fails instead of skipping.
# The kernels again at GOAMD64=v3, where Go may fuse a multiply and an add:
# the scalar code must still give the vector kernels' bits.
test: deps lint
	TRNN_ORT_LIB=$(ORT_LIB) TRNN_REQUIRE_DEPS=1 $(GO) test -count=1 ./...
	GOAMD64=v3 $(GO) test -count=1 ./ops ./loss
	$(MAKE) race
	$(MAKE) fuzz

race:
	TRNN_ORT_LIB=$(ORT_LIB) TRNN_REQUIRE_DEPS=1 $(GO) test -count=1 -race ./runtime/... ./serve .

fuzz:
	$(GO) test ./compiler -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./data -run '^$$' -fuzz '^FuzzReadNPZ$$' -fuzztime $(FUZZTIME)
	$(GO) test ./data -run '^$$' -fuzz '^FuzzReadCSV$$' -fuzztime $(FUZZTIME)
	$(GO) test ./data -run '^$$' -fuzz '^FuzzReadRecords$$' -fuzztime $(FUZZTIME)
	$(GO) test ./data -run '^$$' -fuzz '^FuzzParquet$$' -fuzztime 20000x
	$(GO) test ./runtime/interp -run '^$$' -fuzz '^FuzzInterpreter$$' -fuzztime $(FUZZTIME)
	$(GO) test ./export -run '^$$' -fuzz '^FuzzDecodeONNX$$' -fuzztime $(FUZZTIME)
	$(GO) test ./export -run '^$$' -fuzz '^FuzzDecodeTensor$$' -fuzztime $(FUZZTIME)
	$(GO) test ./serve -run '^$$' -fuzz '^FuzzDecodeRequest$$' -fuzztime $(FUZZTIME)
	$(GO) test ./serve -run '^$$' -fuzz '^FuzzParseFloat32$$' -fuzztime $(FUZZTIME)

bench:
	$(GO) test ./ops -run '^$$' -bench . -benchmem

# profile: CPU profiles (for go tool pprof) of workload R1's training and of
# inference on its model: I1 (256 rows) through Predict and Run, I2 (one
# row) through Run. bench/r1.npz comes from the reference scripts' data
# generator in BENCH_REF, as bench/compare.sh makes it.
PROFILES := runs/profile
profile: build
	@test -f bench/r1.npz || { test -n "$(BENCH_REF)" || { echo "bench/r1.npz is missing: set BENCH_REF to the folder with make_data.py"; exit 1; }; \
		/usr/bin/python3 $(BENCH_REF)/make_data.py --n 4096 --t 48 --min-t 12 --f 13 --k 1 -o bench/r1.npz; }
	./bin/trnn train bench/r1.yaml -o $(PROFILES)/r1 --force --quiet --cpuprofile $(PROFILES)/r1-train.prof
	./bin/trnn bench infer $(PROFILES)/r1/model.onnx --data bench/r1.npz --repeat 300 --cpuprofile $(PROFILES)/i1-predict.prof
	./bin/trnn bench infer $(PROFILES)/r1/model.onnx --data bench/r1.npz --repeat 300 --via run --cpuprofile $(PROFILES)/i1-run.prof
	./bin/trnn bench infer $(PROFILES)/r1/model.onnx --data bench/r1.npz --batch 1 --repeat 20000 --via run --cpuprofile $(PROFILES)/i2-run.prof
	@echo "profiles in $(PROFILES): go tool pprof -top bin/trnn $(PROFILES)/r1-train.prof"
