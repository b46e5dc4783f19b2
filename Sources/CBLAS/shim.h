// OpenBLAS's C interface; the one Swift file that imports CBLAS is Neural/GEMM.swift.
#include <cblas.h>
