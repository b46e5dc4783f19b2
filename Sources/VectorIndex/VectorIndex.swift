// VectorIndex: nearest neighbours by inner product over an (n, d) float matrix: flat search
// (GEMM or SIMD scans fused with top-k), IVF over k-means lists, SQ8 codes, row storage that may
// be memory-mapped, .npy reading. It takes vectors and returns ids and scores; it knows no model,
// file path or picture (Search puts those around it).
