// Portable kernels (plain C; eight partial sums so compilers vectorise them) and the dispatch
// to the AVX2+FMA versions in kernels_avx2.c, decided once when the library loads.
#include "kernels.h"
#include "kernels_internal.h"

static int level = 0;

#if defined(__x86_64__)
__attribute__((constructor)) static void rk_detect(void) {
    __builtin_cpu_init();
    level = (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 2 : 0;
}
#endif

int rk_simd_level(void) { return level; }

void rk_set_simd_level(int wanted) {
#if defined(__x86_64__)
    rk_detect();
    if (wanted < level) level = wanted;
#else
    (void)wanted;
#endif
}

static float dot_portable(const float *a, const float *b, ptrdiff_t d) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    ptrdiff_t j = 0;
    for (; j + 8 <= d; j += 8)
        for (int u = 0; u < 8; u++) acc[u] += a[j + u] * b[j + u];
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; j < d; j++) s += a[j] * b[j];
    return s;
}

static float dot_codes_portable(const float *q, const uint8_t *c, ptrdiff_t d) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    ptrdiff_t j = 0;
    for (; j + 8 <= d; j += 8)
        for (int u = 0; u < 8; u++) acc[u] += q[j + u] * (float)c[j + u];
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; j < d; j++) s += q[j] * (float)c[j];
    return s;
}

float rk_dot(const float *a, const float *b, ptrdiff_t d) {
#if defined(__x86_64__)
    if (level == 2) return rk_dot_avx2(a, b, d);
#endif
    return dot_portable(a, b, d);
}

void rk_dot_rows(const float *q, const float *rows, ptrdiff_t n, ptrdiff_t d, float bias, float *out) {
#if defined(__x86_64__)
    if (level == 2) { rk_dot_rows_avx2(q, rows, n, d, bias, out); return; }
#endif
    for (ptrdiff_t i = 0; i < n; i++) out[i] = bias + dot_portable(q, rows + i * d, d);
}

void rk_dot_codes(const float *q, const uint8_t *codes, ptrdiff_t n, ptrdiff_t d, float bias, float *out) {
#if defined(__x86_64__)
    if (level == 2) { rk_dot_codes_avx2(q, codes, n, d, bias, out); return; }
#endif
    for (ptrdiff_t i = 0; i < n; i++) out[i] = bias + dot_codes_portable(q, codes + i * d, d);
}

float rk_dot_code(const float *q, const uint8_t *code, ptrdiff_t d) {
#if defined(__x86_64__)
    if (level == 2) return rk_dot_code_avx2(q, code, d);
#endif
    return dot_codes_portable(q, code, d);
}

ptrdiff_t rk_argmax_minus(const float *s, const float *h, ptrdiff_t n, float *best) {
#if defined(__x86_64__)
    if (level == 2) return rk_argmax_minus_avx2(s, h, n, best);
#endif
    ptrdiff_t arg = 0;
    float b = s[0] - h[0];
    for (ptrdiff_t j = 1; j < n; j++) {
        float v = s[j] - h[j];
        if (v > b) { b = v; arg = j; }
    }
    *best = b;
    return arg;
}

ptrdiff_t rk_fetch_add(ptrdiff_t *p, ptrdiff_t v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
