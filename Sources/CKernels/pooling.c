// The backward step of ReLU followed by 2×2 max pooling, fused (Neural's ConvReLUPool): each
// pooled gradient goes to its window's winner where the pooled output is positive, and every
// other element of the window gets zero. Eight channels at a time with AVX2, portable C else.
#include "kernels.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static void unpool_channels(const float *dy, const float *out, const uint8_t *codes, ptrdiff_t from, ptrdiff_t to,
                            float *q0, float *q1, float *q2, float *q3) {
    for (ptrdiff_t c = from; c < to; c++) {
        float v = out[c] > 0 ? dy[c] : 0;
        uint8_t k = codes[c];
        q0[c] = k == 0 ? v : 0;
        q1[c] = k == 1 ? v : 0;
        q2[c] = k == 2 ? v : 0;
        q3[c] = k == 3 ? v : 0;
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void unpool_channels_avx2(const float *dy, const float *out, const uint8_t *codes, ptrdiff_t channels,
                                 float *q0, float *q1, float *q2, float *q3) {
    ptrdiff_t c = 0;
    const __m256 zero = _mm256_setzero_ps();
    for (; c + 8 <= channels; c += 8) {
        __m256 v = _mm256_and_ps(_mm256_loadu_ps(dy + c), _mm256_cmp_ps(_mm256_loadu_ps(out + c), zero, _CMP_GT_OQ));
        __m256i k = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(codes + c)));
        _mm256_storeu_ps(q0 + c, _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_cmpeq_epi32(k, _mm256_set1_epi32(0)))));
        _mm256_storeu_ps(q1 + c, _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_cmpeq_epi32(k, _mm256_set1_epi32(1)))));
        _mm256_storeu_ps(q2 + c, _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_cmpeq_epi32(k, _mm256_set1_epi32(2)))));
        _mm256_storeu_ps(q3 + c, _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_cmpeq_epi32(k, _mm256_set1_epi32(3)))));
    }
    unpool_channels(dy, out, codes, c, channels, q0, q1, q2, q3);
}
#endif

void rk_unpool2x2_gradient(const float *dy, const float *output, const uint8_t *codes, ptrdiff_t pooled_height,
                           ptrdiff_t pooled_width, ptrdiff_t channels, ptrdiff_t first_row, ptrdiff_t end_row, float *dst) {
    const ptrdiff_t w = 2 * pooled_width, image_floats = 2 * pooled_height * w * channels;
#if defined(__x86_64__)
    const int avx2 = rk_simd_level() == 2;
#endif
    for (ptrdiff_t r = first_row; r < end_row; r++) {
        ptrdiff_t oy = r % pooled_height;
        float *image = dst + (r / pooled_height) * image_floats;
        for (ptrdiff_t ox = 0; ox < pooled_width; ox++) {
            ptrdiff_t o = (r * pooled_width + ox) * channels;
            float *q0 = image + (oy * 2 * w + ox * 2) * channels, *q1 = q0 + channels;
            float *q2 = q0 + w * channels, *q3 = q2 + channels;
#if defined(__x86_64__)
            if (avx2) {
                unpool_channels_avx2(dy + o, output + o, codes + o, channels, q0, q1, q2, q3);
                continue;
            }
#endif
            unpool_channels(dy + o, output + o, codes + o, 0, channels, q0, q1, q2, q3);
        }
    }
}
