#!/usr/bin/env bash
# Builds libpng and libjpeg-turbo at the versions Debian 12 ships (1.6.39, 2.1.5) from source
# with the fuzzers' instrumentation, into fuzz/.build/libs, so libFuzzer sees their branches
# and AddressSanitizer their buffers (the apt libraries are opaque to both). No cmake needed:
# the configuration headers are written here. Sources: $LIBPNG_SRC and $LIBJPEG_SRC if set,
# else shallow clones from GitHub at those tags.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/.build/libs"
CLANG="${CLANG:-$(command -v /opt/swift/usr/bin/clang || command -v clang)}"
CFLAGS=(-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -w)
src="$here/.build/src"
mkdir -p "$out/include" "$out/obj" "$src"

png="${LIBPNG_SRC:-$src/libpng}"
jpeg="${LIBJPEG_SRC:-$src/libjpeg-turbo}"
[ -f "$png/png.c" ] || git clone -q --depth 1 --branch v1.6.39 https://github.com/pnggroup/libpng "$png"
[ -f "$jpeg/jdapimin.c" ] || git clone -q --depth 1 --branch 2.1.5 https://github.com/libjpeg-turbo/libjpeg-turbo "$jpeg"

# libpng: the prebuilt configuration, no SIMD.
cp "$png/scripts/pnglibconf.h.prebuilt" "$out/include/pnglibconf.h"
cp "$png/png.h" "$png/pngconf.h" "$out/include/"
rm -f "$out/obj/"*.o
for f in png pngerror pngget pngmem pngpread pngread pngrio pngrtran pngrutil pngset pngtrans pngwio pngwrite pngwtran pngwutil; do
    "$CLANG" "${CFLAGS[@]}" -DPNG_INTEL_SSE_OPT=0 -I "$out/include" -c "$png/$f.c" -o "$out/obj/png-$f.o"
done
ar rcs "$out/libpng16.a" "$out/obj/"png-*.o

# libjpeg-turbo: libjpeg 6.2 API, arithmetic coding, memory source, no SIMD (as Debian, less the SIMD).
sed -e 's/@JPEG_LIB_VERSION@/62/; s/@VERSION@/2.1.5/; s/@LIBJPEG_TURBO_VERSION_NUMBER@/2001005/' \
    -e 's/#cmakedefine C_ARITH_CODING_SUPPORTED 1/#define C_ARITH_CODING_SUPPORTED 1/' \
    -e 's/#cmakedefine D_ARITH_CODING_SUPPORTED 1/#define D_ARITH_CODING_SUPPORTED 1/' \
    -e 's/#cmakedefine MEM_SRCDST_SUPPORTED 1/#define MEM_SRCDST_SUPPORTED 1/' \
    -e 's/@BITS_IN_JSAMPLE@/8/; s/#cmakedefine.*//' "$jpeg/jconfig.h.in" > "$out/include/jconfig.h"
sed -e 's/@BUILD@/fuzz/; s/@INLINE@/__inline__ __attribute__((always_inline))/; s/@THREAD_LOCAL@/__thread/' \
    -e 's/@CMAKE_PROJECT_NAME@/libjpeg-turbo/; s/@VERSION@/2.1.5/; s/@SIZE_T@/8/' \
    -e 's/#cmakedefine HAVE_BUILTIN_CTZL/#define HAVE_BUILTIN_CTZL/; s/#cmakedefine.*//' "$jpeg/jconfigint.h.in" > "$out/include/jconfigint.h"
sed -e 's/@COPYRIGHT_YEAR@/2023/' "$jpeg/jversion.h.in" > "$out/include/jversion.h"
cp "$jpeg/jpeglib.h" "$jpeg/jmorecfg.h" "$jpeg/jerror.h" "$out/include/"
for f in jcapimin jcapistd jccoefct jccolor jcdctmgr jchuff jcicc jcinit jcmainct jcmarker jcmaster jcomapi \
         jcparam jcphuff jcprepct jcsample jctrans jdapimin jdapistd jdatadst jdatasrc jdcoefct jdcolor jddctmgr \
         jdhuff jdicc jdinput jdmainct jdmarker jdmaster jdmerge jdphuff jdpostct jdsample jdtrans jerror \
         jfdctflt jfdctfst jfdctint jidctflt jidctfst jidctint jidctred jquant1 jquant2 jutils jmemmgr jmemnobs \
         jaricom jcarith jdarith jsimd_none; do
    "$CLANG" "${CFLAGS[@]}" -I "$out/include" -I "$jpeg" -c "$jpeg/$f.c" -o "$out/obj/jpeg-$f.o"
done
ar rcs "$out/libjpeg.a" "$out/obj/"jpeg-*.o
echo "instrumented libpng 1.6.39 and libjpeg-turbo 2.1.5 in $out" >&2
