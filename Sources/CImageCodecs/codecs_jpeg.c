// JPEG over libjpeg-turbo, memory to memory. Decodes baseline and progressive, greyscale,
// YCbCr, CMYK and YCCK (Adobe-inverted CMYK is detected from the Adobe marker) to RGB8 and
// applies the EXIF orientation. Errors, premature ends and runaway scan counts longjmp back
// here; all state lives in a heap context that the error path frees. Corrupt-data warnings
// (libjpeg guesses the pixels it could not decode) are counted as the image's damage.
#include "codecs_internal.h"

#include <stdio.h> // jpeglib.h needs FILE
#include <jpeglib.h>
#include <jerror.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_SCANS = 1000 }; // a progressive file with more scans than this is an attack, not a photo

typedef struct {
    struct jpeg_error_mgr manager;
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    int status;
    int hit_end;          // the data ran out: any later error is the truncation's fault
    int finishing;        // every pixel is in; reading on to the end only looks for damage
    int damage;           // corrupt-data warnings so far
    char message[JMSG_LENGTH_MAX];
    char first_damage[JMSG_LENGTH_MAX];
} jpeg_trap;

typedef struct {
    struct jpeg_decompress_struct info;
    jpeg_trap trap;
    uint8_t *pixels;
    uint8_t *cmyk_row;
} jpeg_decoder;

typedef struct {
    struct jpeg_compress_struct info;
    struct jpeg_destination_mgr destination;
    jpeg_trap trap;
    rc_buffer output;
} jpeg_encoder;

static void truncated(jpeg_trap *trap) {
    trap->status = RC_TRUNCATED;
    snprintf(trap->message, sizeof trap->message, "file ends early (truncated JPEG)");
    longjmp(trap->jump, 1);
}

static void record_damage(j_common_ptr info, jpeg_trap *trap) {
    if (trap->damage++ == 0) (*info->err->format_message)(info, trap->first_damage);
}

static void on_error_exit(j_common_ptr info) {
    jpeg_trap *trap = (jpeg_trap *)info->err;
    if (trap->finishing) {
        record_damage(info, trap); // the pixels are in; what follows them is broken
        longjmp(trap->jump, 1);
    }
    if (trap->hit_end) truncated(trap);
    (*info->err->format_message)(info, trap->message);
    longjmp(trap->jump, 1);
}

/// Warnings that mean libjpeg guessed pixels: codes it could not decode, a segment that ended
/// before its blocks did, bytes the decoder did not consume (it lost its place), restart
/// markers out of order, impossible scan parameters. Others (an unknown JFIF revision, a bad
/// ICC marker, an unknown Adobe transform) leave the pixels as they were written.
static int is_damage(int code) {
    switch (code) {
    case JWRN_HIT_MARKER: case JWRN_HUFF_BAD_CODE: case JWRN_ARITH_BAD_CODE: case JWRN_EXTRANEOUS_DATA:
    case JWRN_MUST_RESYNC: case JWRN_NOT_SEQUENTIAL: case JWRN_BOGUS_PROGRESSION:
        return 1;
    default:
        return 0;
    }
}

/// Running out of data is truncation, but JWRN_JPEG_EOF alone only says the source is
/// exhausted: the bit reader prefetches, so a file that merely lacks its EOI marker also
/// triggers it. Truncation shows when, after that, the entropy decoder really needs bits that
/// are not there (JWRN_HIT_MARKER), or when the end comes before the first scan. Other
/// corrupt-data warnings are counted as damage.
static void on_emit_message(j_common_ptr info, int level) {
    if (level >= 0) return;
    info->err->num_warnings++;
    if (!info->is_decompressor) return;
    jpeg_trap *trap = (jpeg_trap *)info->err;
    int code = info->err->msg_code;
    if (code == JWRN_JPEG_EOF) {
        trap->hit_end = 1;
        if (((j_decompress_ptr)info)->total_iMCU_rows == 0) truncated(trap);
    } else if (code == JWRN_HIT_MARKER && trap->hit_end && !trap->finishing) {
        truncated(trap);
    } else if (is_damage(code)) {
        record_damage(info, trap);
    }
}

static void on_output_message(j_common_ptr info) {
    (void)info; // nothing below the CLI prints
}

static void on_progress(j_common_ptr info) {
    if (!info->is_decompressor) return;
    if (((j_decompress_ptr)info)->input_scan_number > MAX_SCANS) {
        jpeg_trap *trap = (jpeg_trap *)info->err;
        snprintf(trap->message, sizeof trap->message, "more than %d progressive scans", MAX_SCANS);
        longjmp(trap->jump, 1);
    }
}

static struct jpeg_error_mgr *install_trap(jpeg_trap *trap) {
    struct jpeg_error_mgr *manager = jpeg_std_error(&trap->manager);
    manager->error_exit = on_error_exit;
    manager->emit_message = on_emit_message;
    manager->output_message = on_output_message;
    trap->progress.progress_monitor = on_progress;
    trap->status = RC_CORRUPT;
    return manager;
}

/// One CMYK scanline to RGB. Adobe writes inverted values (255 = no ink).
static void cmyk_to_rgb(const uint8_t *src, uint8_t *dst, size_t width, int inverted) {
    for (size_t x = 0; x < width; x++, src += 4, dst += 3) {
        unsigned c = src[0], m = src[1], y = src[2], k = src[3];
        if (!inverted) {
            c = 255u - c; m = 255u - m; y = 255u - y; k = 255u - k;
        }
        dst[0] = (uint8_t)((c * k + 127u) / 255u);
        dst[1] = (uint8_t)((m * k + 127u) / 255u);
        dst[2] = (uint8_t)((y * k + 127u) / 255u);
    }
}

static int find_orientation(j_decompress_ptr info) {
    for (jpeg_saved_marker_ptr m = info->marker_list; m != NULL; m = m->next) {
        if (m->marker != JPEG_APP0 + 1) continue;
        int orientation = rc_exif_orientation(m->data, m->data_length);
        if (orientation != 1) return orientation;
    }
    return 1;
}

int rc_decode_jpeg(const uint8_t *data, size_t size, size_t max_pixels, uint32_t min_short_side,
                   rc_image *out, char *err, size_t errlen) {
    jpeg_decoder *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) return rc_fail(RC_NO_MEMORY, err, errlen, "out of memory");
    j_decompress_ptr info = &ctx->info;
    info->err = install_trap(&ctx->trap);
    if (setjmp(ctx->trap.jump)) {
        int status = rc_fail(ctx->trap.status, err, errlen, "%s", ctx->trap.message);
        jpeg_destroy_decompress(info);
        free(ctx->cmyk_row);
        free(ctx->pixels);
        free(ctx);
        return status;
    }
    jpeg_create_decompress(info);
    info->progress = &ctx->trap.progress;
    jpeg_mem_src(info, data, (unsigned long)size);
    jpeg_save_markers(info, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(info, TRUE);
    if ((uint64_t)info->image_width * info->image_height > (uint64_t)max_pixels) {
        out->width = (int32_t)info->image_width;
        out->height = (int32_t)info->image_height;
        ctx->trap.status = RC_TOO_LARGE;
        snprintf(ctx->trap.message, sizeof ctx->trap.message, "image is larger than the pixel limit");
        longjmp(ctx->trap.jump, 1);
    }
    if (min_short_side > 0) {
        // DCT scaling: the largest 1/2^n (n <= 3) whose shorter side still reaches the minimum.
        const uint64_t short_side = info->image_width < info->image_height ? info->image_width : info->image_height;
        unsigned denom = 1;
        while (denom < 8 && (short_side + 2 * denom - 1) / (2 * denom) >= min_short_side) denom *= 2;
        info->scale_num = 1;
        info->scale_denom = denom;
    }
    int cmyk = 0;
    switch (info->jpeg_color_space) {
    case JCS_GRAYSCALE: case JCS_YCbCr: case JCS_RGB:
        info->out_color_space = JCS_RGB;
        break;
    case JCS_CMYK: case JCS_YCCK: // libjpeg turns YCCK into CMYK; we finish the way to RGB
        info->out_color_space = JCS_CMYK;
        cmyk = 1;
        break;
    default:
        ERREXIT(info, JERR_CONVERSION_NOTIMPL);
    }
    jpeg_start_decompress(info);
    const size_t width = info->output_width, height = info->output_height;
    if (info->output_components != (cmyk ? 4 : 3)) ERREXIT(info, JERR_CONVERSION_NOTIMPL);
    ctx->pixels = malloc(width * height * 3);
    if (cmyk) ctx->cmyk_row = malloc(width * 4);
    if (ctx->pixels == NULL || (cmyk && ctx->cmyk_row == NULL)) {
        ctx->trap.status = RC_NO_MEMORY;
        ERREXIT1(info, JERR_OUT_OF_MEMORY, 0);
    }
    while (info->output_scanline < height) {
        uint8_t *row = ctx->pixels + (size_t)info->output_scanline * width * 3;
        JSAMPROW target = cmyk ? ctx->cmyk_row : row;
        if (jpeg_read_scanlines(info, &target, 1) != 1) ERREXIT(info, JERR_INPUT_EOF);
        if (cmyk) cmyk_to_rgb(ctx->cmyk_row, row, width, info->saw_Adobe_marker);
    }
    // Every pixel is in. Reading on to the EOI marker shows a decoder that lost its place and
    // stopped short (bytes left over); a missing EOI is not damage, and an error there fails
    // nothing (on_error_exit records it and comes back here).
    int orientation = find_orientation(info);
    ctx->trap.finishing = 1;
    if (setjmp(ctx->trap.jump) == 0) jpeg_finish_decompress(info);
    jpeg_destroy_decompress(info);
    out->width = (int32_t)width;
    out->height = (int32_t)height;
    out->pixels = ctx->pixels;
    out->damage = ctx->trap.damage;
    if (ctx->trap.damage > 0) rc_fail(RC_OK, err, errlen, "%s", ctx->trap.first_damage);
    free(ctx->cmyk_row);
    free(ctx);
    if (rc_apply_orientation(out, orientation) != RC_OK) {
        rc_image_free(out);
        return rc_fail(RC_NO_MEMORY, err, errlen, "out of memory");
    }
    return RC_OK;
}

static void destination_init(j_compress_ptr info) {
    jpeg_encoder *ctx = (jpeg_encoder *)info; // info is the first member
    if (!rc_buffer_reserve(&ctx->output, 16384)) {
        ctx->trap.status = RC_NO_MEMORY;
        ERREXIT1(info, JERR_OUT_OF_MEMORY, 1);
    }
    ctx->destination.next_output_byte = ctx->output.bytes;
    ctx->destination.free_in_buffer = ctx->output.capacity;
}

/// Called when the whole buffer is full: grow it and keep writing after what is there.
static boolean destination_grow(j_compress_ptr info) {
    jpeg_encoder *ctx = (jpeg_encoder *)info;
    ctx->output.size = ctx->output.capacity;
    if (!rc_buffer_reserve(&ctx->output, ctx->output.capacity)) {
        ctx->trap.status = RC_NO_MEMORY;
        ERREXIT1(info, JERR_OUT_OF_MEMORY, 2);
    }
    ctx->destination.next_output_byte = ctx->output.bytes + ctx->output.size;
    ctx->destination.free_in_buffer = ctx->output.capacity - ctx->output.size;
    return TRUE;
}

static void destination_term(j_compress_ptr info) {
    jpeg_encoder *ctx = (jpeg_encoder *)info;
    ctx->output.size = ctx->output.capacity - ctx->destination.free_in_buffer;
}

int rc_encode_jpeg(const uint8_t *rgb, int32_t width, int32_t height, int quality,
                   uint8_t **out, size_t *out_size, char *err, size_t errlen) {
    if (rgb == NULL || out == NULL || out_size == NULL || width <= 0 || height <= 0 ||
        width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION || quality < 1 || quality > 100) {
        return rc_fail(RC_BAD_ARGUMENT, err, errlen, "cannot encode a %d×%d JPEG at quality %d",
                       (int)width, (int)height, quality);
    }
    *out = NULL;
    *out_size = 0;
    jpeg_encoder *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) return rc_fail(RC_NO_MEMORY, err, errlen, "out of memory");
    j_compress_ptr info = &ctx->info;
    info->err = install_trap(&ctx->trap);
    if (setjmp(ctx->trap.jump)) {
        int status = rc_fail(ctx->trap.status, err, errlen, "%s", ctx->trap.message);
        jpeg_destroy_compress(info);
        free(ctx->output.bytes);
        free(ctx);
        return status;
    }
    jpeg_create_compress(info);
    ctx->destination.init_destination = destination_init;
    ctx->destination.empty_output_buffer = destination_grow;
    ctx->destination.term_destination = destination_term;
    info->dest = &ctx->destination;
    info->image_width = (JDIMENSION)width;
    info->image_height = (JDIMENSION)height;
    info->input_components = 3;
    info->in_color_space = JCS_RGB;
    jpeg_set_defaults(info);
    jpeg_set_quality(info, quality, TRUE);
    info->optimize_coding = TRUE;
    jpeg_start_compress(info, TRUE);
    while (info->next_scanline < info->image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)info->next_scanline * (size_t)width * 3);
        jpeg_write_scanlines(info, &row, 1);
    }
    jpeg_finish_compress(info);
    jpeg_destroy_compress(info);
    *out = ctx->output.bytes;
    *out_size = ctx->output.size;
    free(ctx);
    return RC_OK;
}
