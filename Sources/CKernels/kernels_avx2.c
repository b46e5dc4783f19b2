// AVX2+FMA kernels: four rows scored at once so each query vector load serves four rows and
// eight sums run in parallel; tails of d that are not a multiple of 8 use masked loads.
#if defined(__x86_64__)
#include <immintrin.h>
#include "kernels_internal.h"

#define AVX2 __attribute__((target("avx2,fma")))

static const int32_t mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

/// Lanes < r set (1 ≤ r ≤ 7).
AVX2 static inline __m256i tail_mask(ptrdiff_t r) {
    return _mm256_loadu_si256((const __m256i *)(mask_table + 8 - r));
}

AVX2 static inline float hsum(__m256 v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

/// The four horizontal sums of a0..a3, in order.
AVX2 static inline __m128 hsum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

AVX2 float rk_dot_avx2(const float *a, const float *b, ptrdiff_t d) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    ptrdiff_t j = 0;
    for (; j + 32 <= d; j += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(b + j + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 16), _mm256_loadu_ps(b + j + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 24), _mm256_loadu_ps(b + j + 24), s3);
    }
    for (; j + 8 <= d; j += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), s0);
    if (j < d) {
        __m256i m = tail_mask(d - j);
        s1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + j, m), _mm256_maskload_ps(b + j, m), s1);
    }
    return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

AVX2 void rk_dot_rows_avx2(const float *q, const float *rows, ptrdiff_t n, ptrdiff_t d, float bias, float *out) {
    const ptrdiff_t d8 = d & ~(ptrdiff_t)7;
    const __m256i m = d > d8 ? tail_mask(d - d8) : _mm256_setzero_si256();
    const __m128 b4 = _mm_set1_ps(bias);
    ptrdiff_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float *r0 = rows + i * d, *r1 = r0 + d, *r2 = r1 + d, *r3 = r2 + d;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
        ptrdiff_t j = 0;
        for (; j + 16 <= d8; j += 16) {
            __m256 q0 = _mm256_loadu_ps(q + j), q1 = _mm256_loadu_ps(q + j + 8);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + j), q0, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + j), q0, a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + j), q0, a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + j), q0, a3);
            c0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + j + 8), q1, c0);
            c1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + j + 8), q1, c1);
            c2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + j + 8), q1, c2);
            c3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + j + 8), q1, c3);
        }
        if (j < d8) {
            __m256 q0 = _mm256_loadu_ps(q + j);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + j), q0, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + j), q0, a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + j), q0, a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + j), q0, a3);
            j += 8;
        }
        if (j < d) {
            __m256 q0 = _mm256_maskload_ps(q + j, m);
            c0 = _mm256_fmadd_ps(_mm256_maskload_ps(r0 + j, m), q0, c0);
            c1 = _mm256_fmadd_ps(_mm256_maskload_ps(r1 + j, m), q0, c1);
            c2 = _mm256_fmadd_ps(_mm256_maskload_ps(r2 + j, m), q0, c2);
            c3 = _mm256_fmadd_ps(_mm256_maskload_ps(r3 + j, m), q0, c3);
        }
        __m128 s = hsum4(_mm256_add_ps(a0, c0), _mm256_add_ps(a1, c1), _mm256_add_ps(a2, c2), _mm256_add_ps(a3, c3));
        _mm_storeu_ps(out + i, _mm_add_ps(s, b4));
    }
    // The last n mod 4 rows run the same lanes and the same reduction as a block of four, so a
    // row's score does not depend on where it sits (a shard and the whole index agree bit for bit).
    for (; i < n; i++) {
        const float *r = rows + i * d;
        __m256 a = _mm256_setzero_ps(), c = a;
        ptrdiff_t j = 0;
        for (; j + 16 <= d8; j += 16) {
            a = _mm256_fmadd_ps(_mm256_loadu_ps(r + j), _mm256_loadu_ps(q + j), a);
            c = _mm256_fmadd_ps(_mm256_loadu_ps(r + j + 8), _mm256_loadu_ps(q + j + 8), c);
        }
        if (j < d8) {
            a = _mm256_fmadd_ps(_mm256_loadu_ps(r + j), _mm256_loadu_ps(q + j), a);
            j += 8;
        }
        if (j < d) c = _mm256_fmadd_ps(_mm256_maskload_ps(r + j, m), _mm256_maskload_ps(q + j, m), c);
        __m256 v = _mm256_add_ps(a, c);
        out[i] = _mm_cvtss_f32(_mm_add_ps(hsum4(v, v, v, v), b4));
    }
}

/// Eight codes from c as Floats.
AVX2 static inline __m256 load_codes(const uint8_t *c) {
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)c)));
}

AVX2 void rk_dot_codes_avx2(const float *q, const uint8_t *codes, ptrdiff_t n, ptrdiff_t d, float bias, float *out) {
    const __m128 b4 = _mm_set1_ps(bias);
    ptrdiff_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint8_t *r0 = codes + i * d, *r1 = r0 + d, *r2 = r1 + d, *r3 = r2 + d;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        ptrdiff_t j = 0;
        for (; j + 8 <= d; j += 8) {
            __m256 q0 = _mm256_loadu_ps(q + j);
            a0 = _mm256_fmadd_ps(load_codes(r0 + j), q0, a0);
            a1 = _mm256_fmadd_ps(load_codes(r1 + j), q0, a1);
            a2 = _mm256_fmadd_ps(load_codes(r2 + j), q0, a2);
            a3 = _mm256_fmadd_ps(load_codes(r3 + j), q0, a3);
        }
        float t0 = 0, t1 = 0, t2 = 0, t3 = 0;
        for (; j < d; j++) {
            t0 += q[j] * (float)r0[j]; t1 += q[j] * (float)r1[j];
            t2 += q[j] * (float)r2[j]; t3 += q[j] * (float)r3[j];
        }
        __m128 s = _mm_add_ps(hsum4(a0, a1, a2, a3), _mm_setr_ps(t0, t1, t2, t3));
        _mm_storeu_ps(out + i, _mm_add_ps(s, b4));
    }
    for (; i < n; i++) {
        const uint8_t *r = codes + i * d;
        __m256 a = _mm256_setzero_ps();
        ptrdiff_t j = 0;
        for (; j + 8 <= d; j += 8) a = _mm256_fmadd_ps(load_codes(r + j), _mm256_loadu_ps(q + j), a);
        float t = 0;  // summed apart and reduced as in a block of four: the same score wherever the row is
        for (; j < d; j++) t += q[j] * (float)r[j];
        out[i] = _mm_cvtss_f32(_mm_add_ps(_mm_add_ps(hsum4(a, a, a, a), _mm_set1_ps(t)), b4));
    }
}

AVX2 float rk_dot_code_avx2(const float *q, const uint8_t *c, ptrdiff_t d) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    ptrdiff_t j = 0;
    for (; j + 32 <= d; j += 32) {
        s0 = _mm256_fmadd_ps(load_codes(c + j), _mm256_loadu_ps(q + j), s0);
        s1 = _mm256_fmadd_ps(load_codes(c + j + 8), _mm256_loadu_ps(q + j + 8), s1);
        s2 = _mm256_fmadd_ps(load_codes(c + j + 16), _mm256_loadu_ps(q + j + 16), s2);
        s3 = _mm256_fmadd_ps(load_codes(c + j + 24), _mm256_loadu_ps(q + j + 24), s3);
    }
    for (; j + 8 <= d; j += 8) s0 = _mm256_fmadd_ps(load_codes(c + j), _mm256_loadu_ps(q + j), s0);
    float t = 0;
    for (; j < d; j++) t += q[j] * (float)c[j];
    return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3))) + t;
}

AVX2 ptrdiff_t rk_argmax_minus_avx2(const float *s, const float *h, ptrdiff_t n, float *best) {
    ptrdiff_t arg = 0, j = 0;
    float b = -__builtin_inff();
    if (n >= 8) {
        // Per lane: the best value and the first index reaching it (strict > keeps the first).
        __m256 bv = _mm256_sub_ps(_mm256_loadu_ps(s), _mm256_loadu_ps(h));
        __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), bi = idx;
        const __m256i step = _mm256_set1_epi32(8);
        for (j = 8; j + 8 <= n; j += 8) {
            idx = _mm256_add_epi32(idx, step);
            __m256 v = _mm256_sub_ps(_mm256_loadu_ps(s + j), _mm256_loadu_ps(h + j));
            __m256 gt = _mm256_cmp_ps(v, bv, _CMP_GT_OQ);
            bv = _mm256_blendv_ps(bv, v, gt);
            bi = _mm256_blendv_epi8(bi, idx, _mm256_castps_si256(gt));
        }
        float vals[8];
        int32_t ids[8];
        _mm256_storeu_ps(vals, bv);
        _mm256_storeu_si256((__m256i *)ids, bi);
        b = vals[0]; arg = ids[0];
        for (int u = 1; u < 8; u++)
            if (vals[u] > b || (vals[u] == b && ids[u] < arg)) { b = vals[u]; arg = ids[u]; }
    } else {
        b = s[0] - h[0];
        j = 1;
    }
    for (; j < n; j++) {
        float v = s[j] - h[j];
        if (v > b) { b = v; arg = j; }
    }
    *best = b;
    return arg;
}
#endif
