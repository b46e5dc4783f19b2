// Entry points of CImageCodecs: sniffs the format from the magic bytes and hands the data to
// the PNG or JPEG decoder; owns the helpers every codec file shares (messages, buffers).
// The formats themselves live in codecs_png.c, codecs_jpeg.c and codecs_exif.c.
#include "codecs_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rc_fail(int code, char *err, size_t errlen, const char *fmt, ...) {
    if (err != NULL && errlen > 0) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(err, errlen, fmt, args);
        va_end(args);
        // Messages are one line: fold any newline a library put in.
        for (char *p = err; *p != '\0'; p++) {
            if (*p == '\n' || *p == '\r') *p = ' ';
        }
    }
    return code;
}

rc_format rc_sniff(const uint8_t *data, size_t size) {
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (data == NULL) return RC_FORMAT_UNKNOWN;
    if (size >= 8 && memcmp(data, png_magic, 8) == 0) return RC_FORMAT_PNG;
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return RC_FORMAT_JPEG;
    return RC_FORMAT_UNKNOWN;
}

int rc_decode(const uint8_t *data, size_t size, size_t max_pixels, uint32_t min_short_side,
              rc_image *out, char *err, size_t errlen) {
    if (err != NULL && errlen > 0) err[0] = '\0';
    if (out == NULL) return rc_fail(RC_BAD_ARGUMENT, err, errlen, "no output image given");
    out->width = 0;
    out->height = 0;
    out->pixels = NULL;
    out->damage = 0;
    if (data == NULL || size == 0) return rc_fail(RC_EMPTY, err, errlen, "empty file");
    switch (rc_sniff(data, size)) {
    case RC_FORMAT_PNG:
        return rc_decode_png(data, size, max_pixels, out, err, errlen);
    case RC_FORMAT_JPEG:
        return rc_decode_jpeg(data, size, max_pixels, min_short_side, out, err, errlen);
    default:
        return rc_fail(RC_UNKNOWN_FORMAT, err, errlen, "not a PNG or JPEG image");
    }
}

void rc_image_free(rc_image *image) {
    if (image == NULL) return;
    free(image->pixels);
    image->pixels = NULL;
    image->width = 0;
    image->height = 0;
    image->damage = 0;
}

void rc_buffer_free(uint8_t *buffer) {
    free(buffer);
}

int rc_buffer_reserve(rc_buffer *buffer, size_t extra) {
    if (buffer->capacity - buffer->size >= extra) return 1;
    size_t capacity = buffer->capacity < 4096 ? 4096 : buffer->capacity;
    while (capacity - buffer->size < extra) {
        if (capacity > SIZE_MAX / 2) return 0;
        capacity *= 2;
    }
    uint8_t *bytes = realloc(buffer->bytes, capacity);
    if (bytes == NULL) return 0;
    buffer->bytes = bytes;
    buffer->capacity = capacity;
    return 1;
}
