// Shared between the codec C files: the per-format entry points, the error-message helper
// and the growable output buffer the encoders write into. Not part of the public header.
#ifndef RETRIEVE_CODECS_INTERNAL_H
#define RETRIEVE_CODECS_INTERNAL_H

#include "codecs.h"
#include <stdarg.h>

/// Writes a formatted one-line message into err (if any room) and returns code.
int rc_fail(int code, char *err, size_t errlen, const char *fmt, ...);

int rc_decode_png(const uint8_t *data, size_t size, size_t max_pixels,
                  rc_image *out, char *err, size_t errlen);
int rc_decode_jpeg(const uint8_t *data, size_t size, size_t max_pixels, uint32_t min_short_side,
                   rc_image *out, char *err, size_t errlen);

/// The EXIF orientation (1...8) found in an APP1 payload, or 1 when absent or malformed.
int rc_exif_orientation(const uint8_t *app1, size_t size);

/// Applies an EXIF orientation to an RGB8 image, replacing its pixels (and swapping width
/// and height for 5...8). Returns RC_OK or RC_NO_MEMORY (the image is left intact then).
int rc_apply_orientation(rc_image *image, int orientation);

/// A malloc'd byte buffer that doubles as it fills.
typedef struct {
    uint8_t *bytes;
    size_t size;
    size_t capacity;
} rc_buffer;

/// Makes room for `extra` more bytes; returns 0 on allocation failure.
int rc_buffer_reserve(rc_buffer *buffer, size_t extra);

#endif
