# The two commands of the README: `make demo` (the main job on the bundled data) and `make test`;
# `make install [PREFIX=…]` puts one self-contained `retrieve` on the PATH.
# Both install missing system packages first and build in release: numeric code is not worth
# running unoptimised.
SWIFT ?= swift
BIN := .build/release/retrieve

.PHONY: demo test build install deps bench clean

demo: build
	$(BIN) demo --dir demo

# Serially: on 2 cores the heavy suites (training runs, 1M-row search) only slow each other down.
test:
	@scripts/install-deps.sh --test
	$(SWIFT) test -c release --no-parallel

build: deps
	$(SWIFT) build -c release --product retrieve

# One binary with the Swift runtime and Foundation linked in: it needs only the apt libraries
# (OpenBLAS, libpng, libjpeg), not the toolchain. Built apart from .build, so tests keep theirs.
PREFIX ?= /usr/local
install: deps
	$(SWIFT) build -c release --product retrieve --static-swift-stdlib --scratch-path .build-static
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 .build-static/release/retrieve $(DESTDIR)$(PREFIX)/bin/retrieve

deps:
	@scripts/install-deps.sh

bench: build
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN) bench gemm

clean:
	rm -rf .build .build-static fuzz/.build
