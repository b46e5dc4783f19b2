// CKernels: the memory-bound inner loops of search (dot products of one query with many rows,
// of Float32 or 8-bit codes, and the argmax of a score row) and the CRC-32C that checks index
// rows, with AVX2+FMA / SSE4.2 versions chosen at run time on x86-64 and portable C elsewhere,
// so one binary runs on any x86-64 or arm64.
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

/// CRC-32C (Castagnoli) of n bytes, continuing from `crc` (0 to start): the standard value,
/// e.g. rk_crc32c(0, "123456789", 9) == 0xE3069283. SSE4.2 when the processor has it.
uint32_t rk_crc32c(uint32_t crc, const void *data, size_t n);

/// The CRC-32C of A followed by B from crc(A), crc(B) and B's length.
uint32_t rk_crc32c_combine(uint32_t crc_a, uint32_t crc_b, size_t length_b);

/// 1 when rk_crc32c uses the SSE4.2 instruction, 0 for the portable table loop.
int rk_crc32c_level(void);

/// 0 forces the portable loop, 1 the instruction when available; tests use it.
void rk_set_crc32c_level(int level);

/// Atomically adds v to *p and returns the old value (relaxed): a shared work counter.
ptrdiff_t rk_fetch_add(ptrdiff_t *p, ptrdiff_t v);

#ifdef __cplusplus
}
#endif

#endif
