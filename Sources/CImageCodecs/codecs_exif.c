// EXIF orientation: reads tag 0x0112 from IFD0 of an APP1 "Exif" payload (bounds-checked at
// every step, so a hostile payload only yields "no orientation"), and turns an RGB8 image
// into its upright form for orientations 1...8.
#include "codecs_internal.h"

#include <stdlib.h>
#include <string.h>

static unsigned read16(const uint8_t *p, int little) {
    return little ? (unsigned)(p[0] | (p[1] << 8)) : (unsigned)((p[0] << 8) | p[1]);
}

static uint32_t read32(const uint8_t *p, int little) {
    return little ? ((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24))
                  : (((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3]);
}

int rc_exif_orientation(const uint8_t *app1, size_t size) {
    static const uint8_t exif_id[6] = {'E', 'x', 'i', 'f', 0, 0};
    if (app1 == NULL || size < 6 + 8 || memcmp(app1, exif_id, 6) != 0) return 1;
    const uint8_t *tiff = app1 + 6;
    size_t n = size - 6;
    int little;
    if (tiff[0] == 'I' && tiff[1] == 'I') little = 1;
    else if (tiff[0] == 'M' && tiff[1] == 'M') little = 0;
    else return 1;
    if (read16(tiff + 2, little) != 42) return 1;
    uint32_t ifd = read32(tiff + 4, little);
    if (ifd > n || n - ifd < 2) return 1;
    unsigned entries = read16(tiff + ifd, little);
    for (unsigned i = 0; i < entries; i++) {
        size_t at = (size_t)ifd + 2 + (size_t)i * 12;
        if (at > n || n - at < 12) return 1;
        const uint8_t *entry = tiff + at;
        if (read16(entry, little) != 0x0112) continue;
        // Type SHORT (3), count 1: the value sits in the first two bytes of the value field.
        if (read16(entry + 2, little) != 3 || read32(entry + 4, little) < 1) return 1;
        unsigned value = read16(entry + 8, little);
        return (value >= 1 && value <= 8) ? (int)value : 1;
    }
    return 1;
}

int rc_apply_orientation(rc_image *image, int orientation) {
    if (orientation <= 1 || orientation > 8) return RC_OK;
    const size_t w = (size_t)image->width, h = (size_t)image->height;
    const int swap = orientation >= 5;
    const size_t outW = swap ? h : w, outH = swap ? w : h;
    uint8_t *dst = malloc(w * h * 3);
    if (dst == NULL) return RC_NO_MEMORY;
    const uint8_t *src = image->pixels;
    for (size_t y = 0; y < outH; y++) {
        for (size_t x = 0; x < outW; x++) {
            size_t sx, sy; // the stored pixel shown at display position (x, y)
            switch (orientation) {
            case 2: sx = w - 1 - x; sy = y; break;             // mirrored left-right
            case 3: sx = w - 1 - x; sy = h - 1 - y; break;     // rotated 180°
            case 4: sx = x; sy = h - 1 - y; break;             // mirrored top-bottom
            case 5: sx = y; sy = x; break;                     // transposed
            case 6: sx = y; sy = h - 1 - x; break;             // needs 90° clockwise
            case 7: sx = w - 1 - y; sy = h - 1 - x; break;     // transversed
            default: sx = w - 1 - y; sy = x; break;            // 8: needs 90° counter-clockwise
            }
            memcpy(dst + (y * outW + x) * 3, src + (sy * w + sx) * 3, 3);
        }
    }
    free(image->pixels);
    image->pixels = dst;
    image->width = (int32_t)outW;
    image->height = (int32_t)outH;
    return RC_OK;
}
