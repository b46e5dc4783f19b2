// The AVX2+FMA kernels, compiled for that target only (kernels_avx2.c) and called only after
// the processor was checked (kernels.c).
#ifndef RETRIEVE_KERNELS_INTERNAL_H
#define RETRIEVE_KERNELS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
float rk_dot_avx2(const float *a, const float *b, ptrdiff_t d);
void rk_dot_rows_avx2(const float *q, const float *rows, ptrdiff_t n, ptrdiff_t d, float bias, float *out);
void rk_dot_codes_avx2(const float *q, const uint8_t *codes, ptrdiff_t n, ptrdiff_t d, float bias, float *out);
float rk_dot_code_avx2(const float *q, const uint8_t *c, ptrdiff_t d);
ptrdiff_t rk_argmax_minus_avx2(const float *s, const float *h, ptrdiff_t n, float *best);
#endif

#endif
