// CImageCodecs: PNG and JPEG to and from 8-bit RGB in memory, over libpng16 and libjpeg-turbo.
// Every library error is caught with setjmp/longjmp and returned as a code plus a message;
// nothing here prints, exits or leaks. Swift reaches this only through Vision/ImageCodec.swift.
#ifndef RETRIEVE_CODECS_H
#define RETRIEVE_CODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Result codes of every rc_* call.
typedef enum {
    RC_OK = 0,
    RC_UNKNOWN_FORMAT = 1, ///< neither PNG nor JPEG magic bytes
    RC_EMPTY = 2,          ///< zero bytes
    RC_TRUNCATED = 3,      ///< the data ends before the image does
    RC_CORRUPT = 4,        ///< the library rejected the data; the message says why
    RC_TOO_LARGE = 5,      ///< header claims more pixels than allowed; width/height are set
    RC_NO_MEMORY = 6,      ///< an allocation failed
    RC_BAD_ARGUMENT = 7    ///< caller error (null pointer, zero size, quality out of range)
} rc_status;

/// Container formats recognised by their first bytes.
typedef enum {
    RC_FORMAT_UNKNOWN = 0,
    RC_FORMAT_PNG = 1,
    RC_FORMAT_JPEG = 2
} rc_format;

/// A decoded image: width*height*3 bytes of interleaved RGB, owned by the caller,
/// released with rc_image_free. On RC_TOO_LARGE, width and height hold the header's
/// claim and pixels is NULL. `damage` counts the decoder's corrupt-data warnings (JPEG:
/// bad Huffman codes, a data segment ending early, bytes left over, lost restart markers):
/// the pixels are there but part of them is guessed, and err holds the first warning.
typedef struct {
    int32_t width;
    int32_t height;
    uint8_t *pixels;
    int32_t damage;
} rc_image;

/// The format whose magic number starts `data` (8 bytes suffice for PNG, 3 for JPEG).
rc_format rc_sniff(const uint8_t *data, size_t size);

/// Decodes a PNG or JPEG held in memory to RGB8. Alpha is composited over white; JPEG
/// EXIF orientation is applied. Refuses images whose header claims more than max_pixels
/// pixels before allocating any pixel buffer. If min_short_side > 0, a JPEG may be decoded
/// at 1/2, 1/4 or 1/8 scale (DCT scaling: several times faster) as long as the shorter side
/// of the result stays >= min_short_side; 0 decodes at full size. On failure, *out holds no
/// buffer and err (if errlen > 0) holds a one-line, NUL-terminated message. On success with
/// out->damage > 0, err holds the first corrupt-data warning (the caller decides whether a
/// damaged picture is used); otherwise err is empty.
int rc_decode(const uint8_t *data, size_t size, size_t max_pixels, uint32_t min_short_side,
              rc_image *out, char *err, size_t errlen);

/// Releases the pixels of a decoded image (safe on an image that holds none).
void rc_image_free(rc_image *image);

/// Encodes width*height RGB8 pixels as a PNG (8-bit RGB, zlib level 6) into a new buffer
/// that the caller releases with rc_buffer_free.
int rc_encode_png(const uint8_t *rgb, int32_t width, int32_t height,
                  uint8_t **out, size_t *out_size, char *err, size_t errlen);

/// Encodes width*height RGB8 pixels as a baseline JPEG (quality 1...100, 4:2:0 chroma)
/// into a new buffer that the caller releases with rc_buffer_free.
int rc_encode_jpeg(const uint8_t *rgb, int32_t width, int32_t height, int quality,
                   uint8_t **out, size_t *out_size, char *err, size_t errlen);

/// Releases a buffer returned by an encoder.
void rc_buffer_free(uint8_t *buffer);

#ifdef __cplusplus
}
#endif

#endif
