# The two commands of the README: `make demo` (the main job on the bundled data) and `make test`;
# `make install [PREFIX=…]` puts one self-contained `retrieve` on the PATH.
# Both install missing system packages first and build in release: numeric code is not worth
# running unoptimised.
SWIFT ?= swift
BIN := .build/release/retrieve

.PHONY: demo test fuzz build install deps bench clean

demo: build
	$(BIN) demo --dir demo

# Serially: on 2 cores the heavy suites (training runs, 1M-row search) only slow each other down.
test:
	@scripts/install-deps.sh --test
	$(SWIFT) test -c release --no-parallel

# A minute of fuzzing (fuzz/README.md): the inputs that once failed, then the PNG and JPEG
# decoders 30 s each under ASan and UBSan; fails on any finding. CI runs it after the tests.
fuzz:
	fuzz/run.sh ci 30

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
