// CKernels: the tile transforms of the Winograd convolution and the pooling, routing and channel
// sums around it (training's image tower), the memory-bound inner loops of search (dot products of one query
// with many rows, of Float32 or 8-bit codes, and the argmax of a score row) and the CRC-32C that
// checks index rows, with AVX2+FMA / SSE4.2 versions chosen at run time on x86-64 and portable C
// elsewhere, so one binary runs on any x86-64 or arm64.
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

/// Σ_j q[j]·code[j] for j < d: one row of 8-bit codes, as a graph walk scores them.
float rk_dot_code(const float *q, const uint8_t *code, ptrdiff_t d);

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

/// A spin lock word (0 free): guards one node's neighbour lists while a graph is built.
void rk_spin_lock(int32_t *lock);
void rk_spin_unlock(int32_t *lock);

/// One scored node.
typedef struct { float score; int32_t id; } rk_hit;

/// A proximity graph over rows (row i at rows + i·d). Node i's list at layer 0 is
/// links0[i·stride0 ...]: a count, then the neighbour ids; at layer l ≥ 1 it is
/// upper[upperOffset[i] + (l−1)·strideUp ...], the same way. `locks` (one word per node) is
/// non-NULL while the graph is built, NULL when it is only searched. With `codes` (row i at
/// codes + i·d, 8 bits a value) the walk scores codes, a quarter of the memory traffic, and
/// its query is the quantiser's transformed one (ScalarQuantizer); NULL scores `rows`.
typedef struct {
    const float *rows;
    const uint8_t *codes;
    ptrdiff_t d;
    const int32_t *links0;
    ptrdiff_t stride0;
    const int32_t *upper;
    const int64_t *upperOffset;
    ptrdiff_t strideUp;
    int32_t *locks;
} rk_graph;

/// Per-thread scratch of a search: a visited stamp per node and two heaps of `capacity` hits.
typedef struct {
    uint16_t *visited;
    uint16_t generation;
    ptrdiff_t nodes;
    rk_hit *candidates;
    rk_hit *results;
    ptrdiff_t capacity;
} rk_graph_workspace;

/// Node's score with q: over its codes when the graph has them (q transformed), else its row.
float rk_graph_score(const rk_graph *g, const float *q, int32_t node);

/// Greedy descent at `layer` from `entry` (score *entry_score): the best node reachable by
/// always moving to a better neighbour; its score goes to *entry_score.
int32_t rk_graph_greedy(const rk_graph *g, const float *q, int32_t entry, float *entry_score, int layer);

/// Best-first beam search of width `ef` at `layer` from `entries`; writes the hits found, best
/// first, to `out` (room for ef) and returns their count. Workspace heaps need room for the
/// beam plus one list of neighbours more than ef.
ptrdiff_t rk_graph_search(const rk_graph *g, rk_graph_workspace *w, const float *q,
                          const rk_hit *entries, ptrdiff_t entry_count, ptrdiff_t ef, int layer, rk_hit *out);

/// What inserting into a graph needs beside the `rk_graph` (whose lists must be writable and
/// whose `locks` must be set): each node's top layer, and the entry point with its own lock word.
/// With the graph's `codes` set, `step` is the quantiser's step per dimension: the beams walk
/// codes and their hits are scored again on the rows before links are chosen.
typedef struct {
    const uint8_t *levels;
    int32_t *entry;
    int32_t *entry_lock;
    ptrdiff_t neighbors;
    ptrdiff_t ef_construction;
    const float *step;
} rk_graph_builder;

/// Room `rk_graph_insert` needs in its scratch, in hits, for rows of d values.
static inline ptrdiff_t rk_graph_insert_scratch(ptrdiff_t ef_construction, ptrdiff_t neighbors, ptrdiff_t d) {
    return 5 * (ef_construction + 2 * neighbors + 2) + 3 * (2 * neighbors + 1) + (d + 1) / 2;
}

/// Links `node` (its row in place, its top layer in `levels`, its lists empty) into the graph,
/// safely beside other threads inserting other nodes. The workspace's heaps need room for
/// efConstruction + 2M + 8 hits; `scratch` for `rk_graph_insert_scratch` hits.
void rk_graph_insert(const rk_graph *g, const rk_graph_builder *b, rk_graph_workspace *w, rk_hit *scratch,
                     int32_t node);

/// One chunk of a Winograd F(2×2, 3×3) convolution (3×3, stride 1, padding 1) on NHWC images:
/// the output is cut into tiles_y × tiles_x tiles of 2×2 per image, `tiles` in the chunk, and a
/// transformed tile's 16 points are stored point-major: point ξ of tile t at [ξ·tiles + t]·channels.
/// A row r is image r / tiles_y, tile row r % tiles_y. Pixels outside the image read as zero and
/// outputs past its edge are dropped.
typedef struct {
    ptrdiff_t height, width, out_height, out_width;
    ptrdiff_t in_channels, out_channels;
    ptrdiff_t tiles_y, tiles_x, tiles;
} rk_winograd_shape;

/// V ← Bᵀ d B of the 4×4 input tile of every tile in rows [first_row, end_row).
void rk_winograd_input(const rk_winograd_shape *s, const float *x, ptrdiff_t first_row, ptrdiff_t end_row, float *v);

/// y ← Aᵀ M A + bias (out_channels floats) for the tiles of rows [first_row, end_row).
void rk_winograd_output(const rk_winograd_shape *s, const float *m, const float *bias, ptrdiff_t first_row,
                        ptrdiff_t end_row, float *y);

/// dM ← A dY Aᵀ, the output gradient through the transposed output transform.
void rk_winograd_output_gradient(const rk_winograd_shape *s, const float *dy, ptrdiff_t first_row, ptrdiff_t end_row,
                                 float *dm);

/// dx ← Σ over the tiles of images [first_image, end_image) of B dV Bᵀ (those images overwritten).
void rk_winograd_input_gradient(const rk_winograd_shape *s, const float *dv, ptrdiff_t first_image, ptrdiff_t end_image,
                                float *dx);

/// Each 2×2 window's winner for pooled rows [first_row, end_row) of NHWC src (row r is image
/// r / pooled_height): the first of the largest sign·x (signs per channel, ±1; NULL for all +1);
/// values ← max(lower, x) of the winner (NaN stays NaN), codes ← its position 0…3, row-major.
void rk_pool2x2_winners(const float *src, const float *signs, float lower, ptrdiff_t pooled_height,
                        ptrdiff_t pooled_width, ptrdiff_t channels, ptrdiff_t first_row, ptrdiff_t end_row,
                        float *values, uint8_t *codes);

/// What flows back through 2×2 pooling: each pooled gradient to its window's winner, batch norm's
/// affine term to every element. Optional pointers are NULL when unused.
typedef struct {
    const float *gradient;    ///< (n, Ho, Wo, C) pooled gradient
    const float *output;      ///< the pooled output: the gradient passes only where it is > 0 (ReLU)
    const float *scale;       ///< per channel, times the routed gradient
    const uint8_t *codes;     ///< the winners, from rk_pool2x2_winners
    const float *input;       ///< (n, 2Ho, 2Wo, C): slope·(input − centre) + offset is added everywhere
    const float *slope, *centre, *offset;  ///< per channel, with input
    ptrdiff_t pooled_height, pooled_width, channels;
} rk_unpool2x2;

/// dst (NHWC at twice the pooled height and width) ← for pooled rows [first_row, end_row): the
/// routed gradient at each winner plus the affine term, zero where neither applies.
void rk_unpool2x2_gradient(const rk_unpool2x2 *u, ptrdiff_t first_row, ptrdiff_t end_row, float *dst);

/// Per channel of (rows, C) at a: first ← Σ a and second ← Σ a·b (b given), or second ← Σ (a − shift)²
/// (shift given). Float over blocks of 256 rows, Double across them, so millions of rows keep
/// their precision; partial is scratch for 2·C Floats.
void rk_channel_sums(const float *a, const float *b, const float *shift, ptrdiff_t rows, ptrdiff_t channels,
                     float *partial, double *first, double *second);

#ifdef __cplusplus
}
#endif

#endif
