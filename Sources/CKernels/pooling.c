// The elementwise loops around the image tower's convolutions (Neural's ConvReLUPool and
// ConvNormReLUPool): each 2×2 window's winner going forward, each pooled gradient routed back to
// its winner (with batch norm's affine term everywhere else), and per-channel sums for batch
// statistics. Eight channels at a time with AVX2, portable C else; the two give the same bits.
#include "kernels.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// ---- Winners of 2×2 windows -----------------------------------------------------------------

static void winners_channels(const float *q0, const float *q1, const float *q2, const float *q3, const float *signs,
                             float lower, ptrdiff_t from, ptrdiff_t to, float *values, uint8_t *codes) {
    for (ptrdiff_t c = from; c < to; c++) {
        float s = signs ? signs[c] : 1, m = s * q0[c];
        uint8_t k = 0;
        if (s * q1[c] > m) { m = s * q1[c]; k = 1; }
        if (s * q2[c] > m) { m = s * q2[c]; k = 2; }
        if (s * q3[c] > m) { m = s * q3[c]; k = 3; }
        float v = s * m;
        values[c] = lower > v ? lower : v;  // NaN stays NaN
        codes[c] = k;
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void winners_channels_avx2(const float *q0, const float *q1, const float *q2, const float *q3,
                                  const float *signs, float lower, ptrdiff_t channels, float *values, uint8_t *codes) {
    ptrdiff_t c = 0;
    const __m256 one = _mm256_set1_ps(1), lowers = _mm256_set1_ps(lower);
    for (; c + 8 <= channels; c += 8) {
        __m256 s = signs ? _mm256_loadu_ps(signs + c) : one;
        __m256 m = _mm256_mul_ps(s, _mm256_loadu_ps(q0 + c));
        __m256i k = _mm256_setzero_si256();
        const float *q[3] = {q1, q2, q3};
        for (int i = 0; i < 3; i++) {
            __m256 v = _mm256_mul_ps(s, _mm256_loadu_ps(q[i] + c));
            __m256 better = _mm256_cmp_ps(v, m, _CMP_GT_OQ);
            m = _mm256_blendv_ps(m, v, better);
            k = _mm256_blendv_epi8(k, _mm256_set1_epi32(i + 1), _mm256_castps_si256(better));
        }
        // max(lower, v) returns v when v is NaN, as the portable loop does.
        _mm256_storeu_ps(values + c, _mm256_max_ps(lowers, _mm256_mul_ps(s, m)));
        __m128i k16 = _mm_packus_epi32(_mm256_castsi256_si128(k), _mm256_extracti128_si256(k, 1));
        _mm_storel_epi64((__m128i *)(codes + c), _mm_packus_epi16(k16, k16));
    }
    winners_channels(q0, q1, q2, q3, signs, lower, c, channels, values, codes);
}
#endif

void rk_pool2x2_winners(const float *src, const float *signs, float lower, ptrdiff_t pooled_height,
                        ptrdiff_t pooled_width, ptrdiff_t channels, ptrdiff_t first_row, ptrdiff_t end_row,
                        float *values, uint8_t *codes) {
    const ptrdiff_t w = 2 * pooled_width, image_floats = 2 * pooled_height * w * channels;
#if defined(__x86_64__)
    const int avx2 = rk_simd_level() == 2;
#endif
    for (ptrdiff_t r = first_row; r < end_row; r++) {
        const float *image = src + (r / pooled_height) * image_floats;
        ptrdiff_t oy = r % pooled_height;
        for (ptrdiff_t ox = 0; ox < pooled_width; ox++) {
            ptrdiff_t o = (r * pooled_width + ox) * channels;
            const float *q0 = image + (oy * 2 * w + ox * 2) * channels, *q1 = q0 + channels;
            const float *q2 = q0 + w * channels, *q3 = q2 + channels;
#if defined(__x86_64__)
            if (avx2) {
                winners_channels_avx2(q0, q1, q2, q3, signs, lower, channels, values + o, codes + o);
                continue;
            }
#endif
            winners_channels(q0, q1, q2, q3, signs, lower, 0, channels, values + o, codes + o);
        }
    }
}

// ---- Gradients routed back through 2×2 windows ----------------------------------------------

// Window element q of channel c: slope·(x − centre) + offset (when there is an input), plus the
// routed gradient where q is the winner.
static void route_channels(const rk_unpool2x2 *u, ptrdiff_t o, float *const d[4], const float *const x[4],
                           ptrdiff_t from, ptrdiff_t to) {
    for (ptrdiff_t c = from; c < to; c++) {
        float v = u->gradient[o + c];
        if (u->output && !(u->output[o + c] > 0)) v = 0;
        if (u->scale) v *= u->scale[c];
        uint8_t k = u->codes[o + c];
        for (int q = 0; q < 4; q++) {
            float base = x[q] ? u->slope[c] * (x[q][c] - u->centre[c]) + u->offset[c] : 0;
            d[q][c] = base + (k == q ? v : 0);
        }
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void route_channels_avx2(const rk_unpool2x2 *u, ptrdiff_t o, float *const d[4], const float *const x[4]) {
    ptrdiff_t c = 0;
    const __m256 zero = _mm256_setzero_ps();
    for (; c + 8 <= u->channels; c += 8) {
        __m256 v = _mm256_loadu_ps(u->gradient + o + c);
        if (u->output) v = _mm256_and_ps(v, _mm256_cmp_ps(_mm256_loadu_ps(u->output + o + c), zero, _CMP_GT_OQ));
        if (u->scale) v = _mm256_mul_ps(v, _mm256_loadu_ps(u->scale + c));
        __m256i k = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(u->codes + o + c)));
        __m256 slope = zero, centre = zero, offset = zero;
        if (x[0]) {
            slope = _mm256_loadu_ps(u->slope + c);
            centre = _mm256_loadu_ps(u->centre + c);
            offset = _mm256_loadu_ps(u->offset + c);
        }
        for (int q = 0; q < 4; q++) {
            __m256 mine = _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_cmpeq_epi32(k, _mm256_set1_epi32(q))));
            // Multiply then add, not fused: the portable loop gives the same bits.
            __m256 base = x[q] ? _mm256_add_ps(_mm256_mul_ps(slope, _mm256_sub_ps(_mm256_loadu_ps(x[q] + c), centre)), offset)
                               : zero;
            _mm256_storeu_ps(d[q] + c, _mm256_add_ps(base, mine));
        }
    }
    route_channels(u, o, d, x, c, u->channels);
}
#endif

void rk_unpool2x2_gradient(const rk_unpool2x2 *u, ptrdiff_t first_row, ptrdiff_t end_row, float *dst) {
    const ptrdiff_t channels = u->channels, w = 2 * u->pooled_width;
    const ptrdiff_t image_floats = 2 * u->pooled_height * w * channels;
#if defined(__x86_64__)
    const int avx2 = rk_simd_level() == 2;
#endif
    for (ptrdiff_t r = first_row; r < end_row; r++) {
        ptrdiff_t oy = r % u->pooled_height, image = (r / u->pooled_height) * image_floats;
        for (ptrdiff_t ox = 0; ox < u->pooled_width; ox++) {
            ptrdiff_t o = (r * u->pooled_width + ox) * channels;
            ptrdiff_t e[4] = {0, channels, w * channels, (w + 1) * channels};
            ptrdiff_t first = image + (oy * 2 * w + ox * 2) * channels;
            float *d[4];
            const float *x[4];
            for (int q = 0; q < 4; q++) {
                d[q] = dst + first + e[q];
                x[q] = u->input ? u->input + first + e[q] : NULL;
            }
#if defined(__x86_64__)
            if (avx2) {
                route_channels_avx2(u, o, d, x);
                continue;
            }
#endif
            route_channels(u, o, d, x, 0, channels);
        }
    }
}

// ---- Per-channel sums ------------------------------------------------------------------------

// One block of rows into Float partials p1 (Σ a) and p2 (Σ a·b, or Σ (a − shift)²).
static void sums_block(const float *a, const float *b, const float *shift, ptrdiff_t rows, ptrdiff_t channels,
                       ptrdiff_t from, float *p1, float *p2) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *ar = a + r * channels, *br = b ? b + r * channels : NULL;
        for (ptrdiff_t j = from; j < channels; j++) {
            if (br) { p1[j] += ar[j]; p2[j] += ar[j] * br[j]; }
            else if (shift) { float d = ar[j] - shift[j]; p2[j] += d * d; }
            else p1[j] += ar[j];
        }
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void sums_block_avx2(const float *a, const float *b, const float *shift, ptrdiff_t rows, ptrdiff_t channels,
                            float *p1, float *p2) {
    ptrdiff_t j = 0;
    for (; j + 8 <= channels; j += 8) {
        __m256 s1 = _mm256_loadu_ps(p1 + j), s2 = _mm256_loadu_ps(p2 + j);
        __m256 centre = shift ? _mm256_loadu_ps(shift + j) : _mm256_setzero_ps();
        for (ptrdiff_t r = 0; r < rows; r++) {
            __m256 v = _mm256_loadu_ps(a + r * channels + j);
            if (b) {
                s1 = _mm256_add_ps(s1, v);
                s2 = _mm256_add_ps(s2, _mm256_mul_ps(v, _mm256_loadu_ps(b + r * channels + j)));
            } else if (shift) {
                __m256 d = _mm256_sub_ps(v, centre);
                s2 = _mm256_add_ps(s2, _mm256_mul_ps(d, d));
            } else {
                s1 = _mm256_add_ps(s1, v);
            }
        }
        _mm256_storeu_ps(p1 + j, s1);
        _mm256_storeu_ps(p2 + j, s2);
    }
    sums_block(a, b, shift, rows, channels, j, p1, p2);
}
#endif

void rk_channel_sums(const float *a, const float *b, const float *shift, ptrdiff_t rows, ptrdiff_t channels,
                     float *partial, double *first, double *second) {
    float *p1 = partial, *p2 = partial + channels;
#if defined(__x86_64__)
    const int avx2 = rk_simd_level() == 2;
#endif
    for (ptrdiff_t j = 0; j < channels; j++) first[j] = second[j] = 0;
    for (ptrdiff_t start = 0; start < rows; start += 256) {
        ptrdiff_t n = rows - start < 256 ? rows - start : 256;
        const float *ab = a + start * channels, *bb = b ? b + start * channels : NULL;
        for (ptrdiff_t j = 0; j < 2 * channels; j++) partial[j] = 0;
#if defined(__x86_64__)
        if (avx2) sums_block_avx2(ab, bb, shift, n, channels, p1, p2);
        else
#endif
            sums_block(ab, bb, shift, n, channels, 0, p1, p2);
        for (ptrdiff_t j = 0; j < channels; j++) {
            first[j] += p1[j];
            second[j] += p2[j];
        }
    }
}
