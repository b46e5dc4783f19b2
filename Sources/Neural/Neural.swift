// Neural: the numeric core. Float tensors, the one GEMM entry point (the only code that calls
// OpenBLAS), layers with forward, backward and parameter-sharing evaluation copies, optimizers,
// schedules, gradient reports, the seeded generator, safetensors I/O and atomic writes, and the
// thread setting every parallel loop reads. It knows nothing of pictures, words or models.
