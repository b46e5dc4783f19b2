#!/usr/bin/env bash
# Builds and runs the libFuzzer targets (AddressSanitizer, UndefinedBehaviorSanitizer and
# libFuzzer's leak check on). See fuzz/README.md.
#   fuzz/run.sh libs                     build libpng and libjpeg-turbo instrumented (build-libs.sh)
#   fuzz/run.sh build                    build the decoder targets (png, jpeg) into fuzz/.build/,
#                                        over the instrumented libraries if built, else the system's
#   fuzz/run.sh build-swift              build the Swift reader targets (index, model): a few minutes
#   fuzz/run.sh TARGET [libFuzzer flags] fuzz one target (png, jpeg, index, model), e.g. -runs=1000000
#   fuzz/run.sh ci [SECONDS]             replay fuzz/regressions, then fuzz png and jpeg for SECONDS
#                                        each (default 20); fails on any finding
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
out="$here/.build"
CLANG="${CLANG:-$(command -v /opt/swift/usr/bin/clang || command -v clang)}"
FLAGS=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
if command -v ld.lld >/dev/null || [ -x "$(dirname "$CLANG")/ld.lld" ]; then FLAGS+=(-fuse-ld=lld); fi

build() {
    mkdir -p "$out"
    local codecs="$root/Sources/CImageCodecs" libs=(-lpng16 -ljpeg) include=()
    if [ -f "$out/libs/libjpeg.a" ]; then
        include=(-I "$out/libs/include")
        libs=("$out/libs/libpng16.a" "$out/libs/libjpeg.a" -lz -lm)
    else
        echo "fuzz: libpng and libjpeg not instrumented (fuzz/run.sh libs builds them): only our code guides the fuzzer" >&2
    fi
    for t in png jpeg; do
        "$CLANG" "${FLAGS[@]}" "${include[@]}" -I "$codecs/include" -I "$codecs" "$here/fuzz_$t.c" \
            "$codecs"/codecs.c "$codecs"/codecs_png.c "$codecs"/codecs_jpeg.c "$codecs"/codecs_exif.c \
            "${libs[@]}" -o "$out/fuzz_$t"
    done
}

build_swift() {
    swift build -c release --package-path "$here/swift" --scratch-path "$out/swift" \
        --sanitize=address -Xswiftc -sanitize=fuzzer -Xcc -fsanitize=fuzzer-no-link -Xswiftc -use-ld=lld
    for t in index model; do ln -sf "swift/release/fuzz_$t" "$out/fuzz_$t"; done
}

fuzz() {
    local t="$1"; shift
    local seeds="$here/seeds/$t"
    case "$t" in
        png|jpeg) [ -x "$out/fuzz_$t" ] || build ;;
        index|model)
            [ -x "$out/fuzz_$t" ] || build_swift
            seeds="$out/seeds/$t"  # written by the target itself on start
            export RETRIEVE_FUZZ_SEEDS="$seeds" ;;
    esac
    local corpus="${CORPUS:-$out/corpus}/$t"
    mkdir -p "$corpus" "$out/findings" "$seeds"
    # The working corpus grows in .build; the seeds are only read.
    "$out/fuzz_$t" -artifact_prefix="$out/findings/$t-" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "$@" "$corpus" "$seeds"
}

case "${1:-}" in
    libs) "$here/build-libs.sh" ;;
    build) build ;;
    build-swift) build_swift ;;
    ci)
        build
        for t in png jpeg; do
            for r in "$here"/regressions/"$t"-*; do
                [ -e "$r" ] || continue
                "$out/fuzz_$t" -timeout=10 "$r" >/dev/null 2>&1 || { "$out/fuzz_$t" -timeout=10 "$r"; exit 1; }
            done
            # From the seeds alone, so the time is what was asked whatever earlier runs kept.
            rm -rf "$out/ci-corpus/$t"
            CORPUS="$out/ci-corpus" fuzz "$t" -max_total_time="${2:-20}" 2>&1 | grep -E "^(stat::number|Done|==[0-9]+==|SUMMARY)"
            test "${PIPESTATUS[0]}" -eq 0
        done ;;
    png|jpeg|index|model) t="$1"; shift; fuzz "$t" "$@" ;;
    *) sed -n '2,11p' "$0"; exit 64 ;;
esac
