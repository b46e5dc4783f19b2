// CKernels: the memory-bound inner loops of search (dot products of one query with many rows,
// of Float32 or 8-bit codes, and the argmax of a score row), with AVX2+FMA versions chosen at
// run time on x86-64 and portable C everywhere else, so one binary runs on any x86-64 or arm64.
#ifndef RETRIEVE_KERNELS_H
#define RETRIEVE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 2 when the AVX2+FMA kernels are in use, 0 for the portable ones.
int rk_simd_level(void);

/// Forces the portable kernels (level 0) or the best available (level 2); tests use it.
void rk_set_simd_level(int level);

/// Σ a[j]·b[j] for j < d.
float rk_dot(const float *a, const float *b, ptrdiff_t d);

/// out[i] = bias + q · rows[i·d ..< i·d+d] for i < n (rows row-major, d wide).
void rk_dot_rows(const float *q, const float *rows, ptrdiff_t n, ptrdiff_t d, float bias, float *out);

/// out[i] = bias + Σ_j q[j]·codes[i·d+j] for i < n (8-bit codes, d wide).
void rk_dot_codes(const float *q, const uint8_t *codes, ptrdiff_t n, ptrdiff_t d, float bias, float *out);

/// The first j < n maximising s[j] − h[j]; its value goes to *best. n must be ≥ 1.
ptrdiff_t rk_argmax_minus(const float *s, const float *h, ptrdiff_t n, float *best);

/// Atomically adds v to *p and returns the old value (relaxed): a shared work counter.
ptrdiff_t rk_fetch_add(ptrdiff_t *p, ptrdiff_t v);

#ifdef __cplusplus
}
#endif

#endif
