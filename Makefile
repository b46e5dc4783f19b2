# The two commands of the README: `make demo` (the main job on the bundled data) and `make test`.
# Both install missing system packages first and build in release: numeric code is not worth
# running unoptimised.
SWIFT ?= swift
BIN := .build/release/retrieve

.PHONY: demo test build deps bench clean

demo: build
	$(BIN) demo --dir demo

# Serially: on 2 cores the heavy suites (training runs, 1M-row search) only slow each other down.
test:
	@scripts/install-deps.sh --test
	$(SWIFT) test -c release --no-parallel

build: deps
	$(SWIFT) build -c release --product retrieve

deps:
	@scripts/install-deps.sh

bench: build
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN) bench gemm

clean:
	rm -rf .build
