// libFuzzer target: the JPEG decoder of CImageCodecs (codecs_jpeg.c over libjpeg-turbo, with the
// EXIF orientation of codecs_exif.c) on arbitrary bytes, at full size and, when the input's
// last byte says so, with DCT scaling to a short side of 2 to 14 (as indexing decodes). Every input must come back as
// RC_OK with width*height*3 bytes (damage counted, its warning in err) or as an error code
// with a one-line message; nothing may crash, leak or read out of bounds.
#include "codecs_internal.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_PIXELS = 1 << 18 }; // keeps the fuzzer fast; the refusal above it is fuzzed too

static void decode(const uint8_t *data, size_t size, uint32_t min_short_side) {
    rc_image image = {0};
    char err[256] = "";  // rc_decode clears it before calling the decoder
    int status = rc_decode_jpeg(data, size, MAX_PIXELS, min_short_side, &image, err, sizeof err);
    if (status == RC_OK) {
        if (image.pixels == NULL || image.width <= 0 || image.height <= 0) abort();
        if ((image.damage > 0) != (err[0] != '\0')) abort();
        volatile uint8_t last = image.pixels[(size_t)image.width * image.height * 3 - 1];
        (void)last;
    } else if (image.pixels != NULL || err[0] == '\0') {
        abort();
    }
    if (strchr(err, '\n') != NULL) abort();
    rc_image_free(&image);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    decode(data, size, 0);
    if (size > 0 && (data[size - 1] & 7) != 0) decode(data, size, 2u * (data[size - 1] & 7));
    return 0;
}
