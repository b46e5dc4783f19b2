// PNG over libpng16, memory to memory. Decoding lets libpng expand every colour type and bit
// depth (palette, tRNS, 1/2/4/16-bit, grey, Adam7) to 8-bit RGB or RGBA, then composites alpha
// over white; ancillary chunks other than tRNS are skipped unread. libpng errors longjmp back
// here; every buffer lives in a heap context so the error path can free it.
#include "codecs_internal.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/// Everything a longjmp must find again: in the heap, so its fields survive the jump.
typedef struct {
    jmp_buf jump;
    const uint8_t *data;
    size_t size;
    size_t offset;
    int status;           // code to report when libpng errors (RC_CORRUPT unless a callback says)
    char message[192];
    uint8_t *pixels;      // decode: the image under construction
    png_bytep *rows;      // decode: row pointers into pixels
    rc_buffer output;     // encode: the PNG bytes written so far
} png_context;

static void on_error(png_structp png, png_const_charp message) {
    png_context *ctx = png_get_error_ptr(png);
    snprintf(ctx->message, sizeof ctx->message, "%s", message);
    longjmp(ctx->jump, 1);
}

static void on_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message; // ancillary problems (bad sRGB profile, bad ancillary CRC) don't stop decoding
}

static void read_bytes(png_structp png, png_bytep dest, size_t length) {
    png_context *ctx = png_get_io_ptr(png);
    if (ctx->size - ctx->offset < length) {
        ctx->status = RC_TRUNCATED;
        png_error(png, "file ends early (truncated PNG)");
    }
    memcpy(dest, ctx->data + ctx->offset, length);
    ctx->offset += length;
}

/// RGBA → RGB over a white background, in place (each write lands at or before its read).
static void composite_over_white(uint8_t *pixels, size_t count) {
    for (size_t i = 0; i < count; i++) {
        const uint8_t *s = pixels + 4 * i;
        uint8_t *d = pixels + 3 * i;
        unsigned a = s[3], white = 255u * (255u - a);
        uint8_t r = (uint8_t)((s[0] * a + white + 127u) / 255u);
        uint8_t g = (uint8_t)((s[1] * a + white + 127u) / 255u);
        uint8_t b = (uint8_t)((s[2] * a + white + 127u) / 255u);
        d[0] = r;
        d[1] = g;
        d[2] = b;
    }
}

int rc_decode_png(const uint8_t *data, size_t size, size_t max_pixels,
                  rc_image *out, char *err, size_t errlen) {
    png_context *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) return rc_fail(RC_NO_MEMORY, err, errlen, "out of memory");
    ctx->data = data;
    ctx->size = size;
    ctx->status = RC_CORRUPT;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, on_error, on_warning);
    png_infop info = png != NULL ? png_create_info_struct(png) : NULL;
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        free(ctx);
        return rc_fail(RC_NO_MEMORY, err, errlen, "out of memory");
    }
    if (setjmp(ctx->jump)) {
        int status = rc_fail(ctx->status, err, errlen, "%s", ctx->message);
        free(ctx->rows);
        free(ctx->pixels);
        png_destroy_read_struct(&png, &info, NULL);
        free(ctx);
        return status;
    }
    png_set_read_fn(png, ctx, read_bytes);
    // Only IHDR, PLTE, tRNS, IDAT and IEND make the pixels; every other chunk is skipped unread.
    // libpng only warns about an ancillary chunk longer than its limit and then allocates what
    // the length claims: a damaged length in a 49-byte file cost 2 GB (found by fuzz/).
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
    png_read_info(png, info);
    png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    if ((uint64_t)width * height > (uint64_t)max_pixels) {
        out->width = (int32_t)width;
        out->height = (int32_t)height;
        ctx->status = RC_TOO_LARGE;
        png_error(png, "image is larger than the pixel limit");
    }
    png_set_expand(png);      // palette → RGB, 1/2/4-bit grey → 8-bit, tRNS → alpha
    png_set_scale_16(png);    // 16-bit → 8-bit with rounding
    png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    const unsigned channels = png_get_channels(png, info);
    const size_t row_bytes = png_get_rowbytes(png, info);
    if ((channels != 3 && channels != 4) || png_get_bit_depth(png, info) != 8 || row_bytes != (size_t)width * channels) {
        png_error(png, "unsupported PNG layout after expansion");
    }
    ctx->pixels = malloc((size_t)height * row_bytes);
    ctx->rows = malloc((size_t)height * sizeof(png_bytep));
    if (ctx->pixels == NULL || ctx->rows == NULL) {
        ctx->status = RC_NO_MEMORY;
        png_error(png, "out of memory");
    }
    for (png_uint_32 y = 0; y < height; y++) ctx->rows[y] = ctx->pixels + (size_t)y * row_bytes;
    png_read_image(png, ctx->rows);
    if (channels == 4) composite_over_white(ctx->pixels, (size_t)width * height);

    out->width = (int32_t)width;
    out->height = (int32_t)height;
    out->pixels = ctx->pixels;
    free(ctx->rows);
    png_destroy_read_struct(&png, &info, NULL);
    free(ctx);
    return RC_OK;
}

static void write_bytes(png_structp png, png_bytep bytes, size_t length) {
    png_context *ctx = png_get_io_ptr(png);
    if (!rc_buffer_reserve(&ctx->output, length)) {
        ctx->status = RC_NO_MEMORY;
        png_error(png, "out of memory");
    }
    memcpy(ctx->output.bytes + ctx->output.size, bytes, length);
    ctx->output.size += length;
}

static void flush_bytes(png_structp png) {
    (void)png;
}

int rc_encode_png(const uint8_t *rgb, int32_t width, int32_t height,
                  uint8_t **out, size_t *out_size, char *err, size_t errlen) {
    if (rgb == NULL || out == NULL || out_size == NULL || width <= 0 || height <= 0) {
        return rc_fail(RC_BAD_ARGUMENT, err, errlen, "cannot encode a %d×%d image", (int)width, (int)height);
    }
    *out = NULL;
    *out_size = 0;
    png_context *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) return rc_fail(RC_NO_MEMORY, err, errlen, "out of memory");
    ctx->status = RC_CORRUPT;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, on_error, on_warning);
    png_infop info = png != NULL ? png_create_info_struct(png) : NULL;
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        free(ctx);
        return rc_fail(RC_NO_MEMORY, err, errlen, "out of memory");
    }
    if (setjmp(ctx->jump)) {
        int status = rc_fail(ctx->status, err, errlen, "%s", ctx->message);
        free(ctx->output.bytes);
        png_destroy_write_struct(&png, &info);
        free(ctx);
        return status;
    }
    png_set_write_fn(png, ctx, write_bytes, flush_bytes);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 6);
    png_write_info(png, info);
    for (int32_t y = 0; y < height; y++) png_write_row(png, rgb + (size_t)y * (size_t)width * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    *out = ctx->output.bytes;
    *out_size = ctx->output.size;
    free(ctx);
    return RC_OK;
}
