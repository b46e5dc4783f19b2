// libFuzzer target: the PNG decoder of CImageCodecs (codecs_png.c over libpng16) on arbitrary
// bytes. Every input must come back as RC_OK with a buffer of width*height*3 bytes or as an
// error code with a one-line message; nothing may crash, leak or read out of bounds.
#include "codecs_internal.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_PIXELS = 1 << 18 }; // keeps the fuzzer fast; the refusal above it is fuzzed too

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rc_image image = {0};
    char err[256] = "";  // rc_decode clears it before calling the decoder
    int status = rc_decode_png(data, size, MAX_PIXELS, &image, err, sizeof err);
    if (status == RC_OK) {
        if (image.pixels == NULL || image.width <= 0 || image.height <= 0) abort();
        // Touch the last byte: ASan reports a buffer shorter than the size claimed.
        volatile uint8_t last = image.pixels[(size_t)image.width * image.height * 3 - 1];
        (void)last;
    } else if (image.pixels != NULL || strchr(err, '\n') != NULL || err[0] == '\0') {
        abort();
    }
    rc_image_free(&image);
    return 0;
}
