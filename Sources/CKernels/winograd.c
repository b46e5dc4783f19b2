// The tile transforms of Winograd's F(2×2, 3×3) convolution over NHWC runs of channels (the
// products between them are GEMMs, Neural's Conv2D+Winograd.swift). Each transform is written
// once as a macro over the lane operations and expanded twice: eight lanes with AVX2 and one
// lane in portable C; the processor is checked once (kernels.c) and every tile then goes to one.
#include "kernels.h"
#include <stdlib.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Bᵀ along one axis: (d0 − d2, d1 + d2, d2 − d1, d1 − d3).
#define DATA_T(ADD, SUB, a, b, c, d, o0, o1, o2, o3) \
    { o0 = SUB(a, c); o1 = ADD(b, c); o2 = SUB(c, b); o3 = SUB(b, d); }
// B along one axis: (w0, w1 − w2 + w3, w1 + w2 − w0, −w3).
#define DATA_TT(ADD, SUB, ZERO, a, b, c, d, o0, o1, o2, o3) \
    { o0 = a; o1 = ADD(SUB(b, c), d); o2 = SUB(ADD(b, c), a); o3 = SUB(ZERO, d); }
// Aᵀ along one axis: (m0 + m1 + m2, m1 − m2 − m3).
#define OUT_T(ADD, SUB, a, b, c, d, o0, o1) \
    { o0 = ADD(ADD(a, b), c); o1 = SUB(SUB(b, c), d); }
// A along one axis: (u0, u0 + u1, u0 − u1, −u1).
#define OUT_TT(ADD, SUB, ZERO, a, b, o0, o1, o2, o3) \
    { o0 = a; o1 = ADD(a, b); o2 = SUB(a, b); o3 = SUB(ZERO, b); }

// V[ξ] at out + ξ·stride ← Bᵀ d B, d[i·4 + j] the input pixel (i, j), at channel c.
#define INPUT_TILE(T, LD, ST, ADD, SUB, d, c, out, stride) do { \
    T e[16], f[16]; \
    for (int i = 0; i < 4; i++) \
        DATA_T(ADD, SUB, LD(d[i * 4] + c), LD(d[i * 4 + 1] + c), LD(d[i * 4 + 2] + c), LD(d[i * 4 + 3] + c), \
               e[i * 4], e[i * 4 + 1], e[i * 4 + 2], e[i * 4 + 3]) \
    for (int j = 0; j < 4; j++) \
        DATA_T(ADD, SUB, e[j], e[4 + j], e[8 + j], e[12 + j], f[j], f[4 + j], f[8 + j], f[12 + j]) \
    for (int k = 0; k < 16; k++) ST(out + k * stride + c, f[k]); \
} while (0)

// o[i·2 + j] ← Aᵀ M A + bias, M[ξ] at m + ξ·stride.
#define OUTPUT_TILE(T, LD, ST, ADD, SUB, m, stride, c, bias, o) do { \
    T s[8], y0, y1, y2, y3, b = LD(bias + c); \
    for (int i = 0; i < 4; i++) \
        OUT_T(ADD, SUB, LD(m + (i * 4) * stride + c), LD(m + (i * 4 + 1) * stride + c), \
              LD(m + (i * 4 + 2) * stride + c), LD(m + (i * 4 + 3) * stride + c), s[i * 2], s[i * 2 + 1]) \
    OUT_T(ADD, SUB, s[0], s[2], s[4], s[6], y0, y2) \
    OUT_T(ADD, SUB, s[1], s[3], s[5], s[7], y1, y3) \
    ST(o[0] + c, ADD(y0, b)); ST(o[1] + c, ADD(y1, b)); ST(o[2] + c, ADD(y2, b)); ST(o[3] + c, ADD(y3, b)); \
} while (0)

// dM[ξ] at out + ξ·stride ← A dY Aᵀ, s[a·2 + b] the gradient of output (a, b).
#define OUTPUT_GRADIENT_TILE(T, LD, ST, ADD, SUB, ZERO, s, c, out, stride) do { \
    T u[8], f[16]; \
    OUT_TT(ADD, SUB, ZERO, LD(s[0] + c), LD(s[1] + c), u[0], u[1], u[2], u[3]) \
    OUT_TT(ADD, SUB, ZERO, LD(s[2] + c), LD(s[3] + c), u[4], u[5], u[6], u[7]) \
    for (int j = 0; j < 4; j++) OUT_TT(ADD, SUB, ZERO, u[j], u[4 + j], f[j], f[4 + j], f[8 + j], f[12 + j]) \
    for (int k = 0; k < 16; k++) ST(out + k * stride + c, f[k]); \
} while (0)

// d[k·4 + l] += B dV Bᵀ, dV[ξ] at dv + ξ·stride.
#define INPUT_GRADIENT_TILE(T, LD, ST, ADD, SUB, ZERO, dv, stride, c, d) do { \
    T w[16], f[16]; \
    for (int i = 0; i < 4; i++) \
        DATA_TT(ADD, SUB, ZERO, LD(dv + (i * 4) * stride + c), LD(dv + (i * 4 + 1) * stride + c), \
                LD(dv + (i * 4 + 2) * stride + c), LD(dv + (i * 4 + 3) * stride + c), \
                w[i * 4], w[i * 4 + 1], w[i * 4 + 2], w[i * 4 + 3]) \
    for (int l = 0; l < 4; l++) \
        DATA_TT(ADD, SUB, ZERO, w[l], w[4 + l], w[8 + l], w[12 + l], f[l], f[4 + l], f[8 + l], f[12 + l]) \
    for (int k = 0; k < 16; k++) ST(d[k] + c, ADD(LD(d[k] + c), f[k])); \
} while (0)

#define S_LD(p) (*(p))
#define S_ST(p, v) (*(p) = (v))
#define S_ADD(a, b) ((a) + (b))
#define S_SUB(a, b) ((a) - (b))
#define S_ZERO 0.0f

typedef void (*input_tile_fn)(const float *const *d, ptrdiff_t channels, float *out, ptrdiff_t stride);
typedef void (*output_tile_fn)(const float *m, ptrdiff_t stride, ptrdiff_t channels, const float *bias, float *const *o);
typedef void (*output_gradient_tile_fn)(const float *const *s, ptrdiff_t channels, float *out, ptrdiff_t stride);
typedef void (*input_gradient_tile_fn)(const float *dv, ptrdiff_t stride, ptrdiff_t channels, float *const *d);

static void input_tile(const float *const *d, ptrdiff_t channels, float *out, ptrdiff_t stride) {
    for (ptrdiff_t c = 0; c < channels; c++) INPUT_TILE(float, S_LD, S_ST, S_ADD, S_SUB, d, c, out, stride);
}
static void output_tile(const float *m, ptrdiff_t stride, ptrdiff_t channels, const float *bias, float *const *o) {
    for (ptrdiff_t c = 0; c < channels; c++) OUTPUT_TILE(float, S_LD, S_ST, S_ADD, S_SUB, m, stride, c, bias, o);
}
static void output_gradient_tile(const float *const *s, ptrdiff_t channels, float *out, ptrdiff_t stride) {
    for (ptrdiff_t c = 0; c < channels; c++) OUTPUT_GRADIENT_TILE(float, S_LD, S_ST, S_ADD, S_SUB, S_ZERO, s, c, out, stride);
}
static void input_gradient_tile(const float *dv, ptrdiff_t stride, ptrdiff_t channels, float *const *d) {
    for (ptrdiff_t c = 0; c < channels; c++) INPUT_GRADIENT_TILE(float, S_LD, S_ST, S_ADD, S_SUB, S_ZERO, dv, stride, c, d);
}

#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2,fma")))
#define V_LD(p) _mm256_loadu_ps(p)
#define V_ST(p, v) _mm256_storeu_ps((p), (v))
#define V_ZERO _mm256_setzero_ps()

AVX2 static void input_tile_avx2(const float *const *d, ptrdiff_t channels, float *out, ptrdiff_t stride) {
    ptrdiff_t c = 0;
    for (; c + 8 <= channels; c += 8) INPUT_TILE(__m256, V_LD, V_ST, _mm256_add_ps, _mm256_sub_ps, d, c, out, stride);
    for (; c < channels; c++) INPUT_TILE(float, S_LD, S_ST, S_ADD, S_SUB, d, c, out, stride);
}
AVX2 static void output_tile_avx2(const float *m, ptrdiff_t stride, ptrdiff_t channels, const float *bias, float *const *o) {
    ptrdiff_t c = 0;
    for (; c + 8 <= channels; c += 8) OUTPUT_TILE(__m256, V_LD, V_ST, _mm256_add_ps, _mm256_sub_ps, m, stride, c, bias, o);
    for (; c < channels; c++) OUTPUT_TILE(float, S_LD, S_ST, S_ADD, S_SUB, m, stride, c, bias, o);
}
AVX2 static void output_gradient_tile_avx2(const float *const *s, ptrdiff_t channels, float *out, ptrdiff_t stride) {
    ptrdiff_t c = 0;
    for (; c + 8 <= channels; c += 8)
        OUTPUT_GRADIENT_TILE(__m256, V_LD, V_ST, _mm256_add_ps, _mm256_sub_ps, V_ZERO, s, c, out, stride);
    for (; c < channels; c++) OUTPUT_GRADIENT_TILE(float, S_LD, S_ST, S_ADD, S_SUB, S_ZERO, s, c, out, stride);
}
AVX2 static void input_gradient_tile_avx2(const float *dv, ptrdiff_t stride, ptrdiff_t channels, float *const *d) {
    ptrdiff_t c = 0;
    for (; c + 8 <= channels; c += 8)
        INPUT_GRADIENT_TILE(__m256, V_LD, V_ST, _mm256_add_ps, _mm256_sub_ps, V_ZERO, dv, stride, c, d);
    for (; c < channels; c++) INPUT_GRADIENT_TILE(float, S_LD, S_ST, S_ADD, S_SUB, S_ZERO, dv, stride, c, d);
}
#endif

static int use_avx2(void) {
#if defined(__x86_64__)
    return rk_simd_level() == 2;
#else
    return 0;
#endif
}

// Pointers to the 4×4 input pixels of tile (ty, tx) of an image, `zeros` outside it.
static void input_pixels(const rk_winograd_shape *s, const float *image, ptrdiff_t ty, ptrdiff_t tx,
                         const float *zeros, const float **d) {
    for (int i = 0; i < 4; i++) {
        ptrdiff_t iy = 2 * ty - 1 + i;
        for (int j = 0; j < 4; j++) {
            ptrdiff_t ix = 2 * tx - 1 + j;
            int inside = iy >= 0 && iy < s->height && ix >= 0 && ix < s->width;
            d[i * 4 + j] = inside ? image + (iy * s->width + ix) * s->in_channels : zeros;
        }
    }
}

// Pointers to the 2×2 output pixels of tile (ty, tx), `outside` past the edge.
static void output_pixels(const rk_winograd_shape *s, const float *image, ptrdiff_t ty, ptrdiff_t tx,
                          const float *outside, const float **o) {
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
            ptrdiff_t oy = 2 * ty + i, ox = 2 * tx + j;
            o[i * 2 + j] = oy < s->out_height && ox < s->out_width ? image + (oy * s->out_width + ox) * s->out_channels : outside;
        }
    }
}

void rk_winograd_input(const rk_winograd_shape *s, const float *x, ptrdiff_t first_row, ptrdiff_t end_row, float *v) {
    input_tile_fn tile = input_tile;
#if defined(__x86_64__)
    if (use_avx2()) tile = input_tile_avx2;
#endif
    const ptrdiff_t cin = s->in_channels, stride = s->tiles * cin;
    float *zeros = calloc((size_t)cin, sizeof(float));
    const float *d[16];
    for (ptrdiff_t r = first_row; r < end_row; r++) {
        ptrdiff_t b = r / s->tiles_y, ty = r % s->tiles_y;
        const float *image = x + b * s->height * s->width * cin;
        for (ptrdiff_t tx = 0; tx < s->tiles_x; tx++) {
            input_pixels(s, image, ty, tx, zeros, d);
            tile(d, cin, v + (r * s->tiles_x + tx) * cin, stride);
        }
    }
    free(zeros);
}

void rk_winograd_output(const rk_winograd_shape *s, const float *m, const float *bias, ptrdiff_t first_row,
                        ptrdiff_t end_row, float *y) {
    output_tile_fn tile = output_tile;
#if defined(__x86_64__)
    if (use_avx2()) tile = output_tile_avx2;
#endif
    const ptrdiff_t cout = s->out_channels, stride = s->tiles * cout;
    float *sink = calloc((size_t)cout, sizeof(float));
    const float *o[4];
    for (ptrdiff_t r = first_row; r < end_row; r++) {
        ptrdiff_t b = r / s->tiles_y, ty = r % s->tiles_y;
        float *image = y + b * s->out_height * s->out_width * cout;
        for (ptrdiff_t tx = 0; tx < s->tiles_x; tx++) {
            output_pixels(s, image, ty, tx, sink, o);
            tile(m + (r * s->tiles_x + tx) * cout, stride, cout, bias, (float *const *)o);
        }
    }
    free(sink);
}

void rk_winograd_output_gradient(const rk_winograd_shape *s, const float *dy, ptrdiff_t first_row, ptrdiff_t end_row,
                                 float *dm) {
    output_gradient_tile_fn tile = output_gradient_tile;
#if defined(__x86_64__)
    if (use_avx2()) tile = output_gradient_tile_avx2;
#endif
    const ptrdiff_t cout = s->out_channels, stride = s->tiles * cout;
    float *zeros = calloc((size_t)cout, sizeof(float));
    const float *o[4];
    for (ptrdiff_t r = first_row; r < end_row; r++) {
        ptrdiff_t b = r / s->tiles_y, ty = r % s->tiles_y;
        const float *image = dy + b * s->out_height * s->out_width * cout;
        for (ptrdiff_t tx = 0; tx < s->tiles_x; tx++) {
            output_pixels(s, image, ty, tx, zeros, o);
            tile(o, cout, dm + (r * s->tiles_x + tx) * cout, stride);
        }
    }
    free(zeros);
}

void rk_winograd_input_gradient(const rk_winograd_shape *s, const float *dv, ptrdiff_t first_image, ptrdiff_t end_image,
                                float *dx) {
    input_gradient_tile_fn tile = input_gradient_tile;
#if defined(__x86_64__)
    if (use_avx2()) tile = input_gradient_tile_avx2;
#endif
    const ptrdiff_t cin = s->in_channels, stride = s->tiles * cin, image_floats = s->height * s->width * cin;
    float *sink = calloc((size_t)cin, sizeof(float));
    const float *d[16];
    for (ptrdiff_t b = first_image; b < end_image; b++) {
        float *image = dx + b * image_floats;
        for (ptrdiff_t i = 0; i < image_floats; i++) image[i] = 0;
        for (ptrdiff_t ty = 0; ty < s->tiles_y; ty++) {
            for (ptrdiff_t tx = 0; tx < s->tiles_x; tx++) {
                input_pixels(s, image, ty, tx, sink, d);
                tile(dv + ((b * s->tiles_y + ty) * s->tiles_x + tx) * cin, stride, cin, (float *const *)d);
            }
        }
    }
    free(sink);
}
