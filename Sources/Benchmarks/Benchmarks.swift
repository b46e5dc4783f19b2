// Benchmarks: measurements the `retrieve bench` commands print. GEMM shapes of the real model
// beside a direct BLAS call, a convolution against its bare GEMMs, whole training steps with a
// per-layer profile, and search throughput and recall as FAISS's benchmark measures them. They
// return figures; printing is the CLI's.
