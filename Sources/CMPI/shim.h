// OpenMPI's C interface behind plain functions: MPI_COMM_WORLD, MPI_FLOAT and MPI_SUM are macros
// over addresses of globals, which Swift cannot import, so the calls Cluster makes are spelled
// here once. The one Swift file that imports CMPI is Cluster/Communicator.swift.
#include <mpi.h>

static inline int cmpi_init(void) {
    int provided = 0;
    return MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
}
static inline int cmpi_finalize(void) { return MPI_Finalize(); }
static inline int cmpi_rank(void) { int r = 0; MPI_Comm_rank(MPI_COMM_WORLD, &r); return r; }
static inline int cmpi_size(void) { int s = 1; MPI_Comm_size(MPI_COMM_WORLD, &s); return s; }
static inline int cmpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static inline void cmpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
static inline int cmpi_allreduce_sum_float(float *values, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
static inline int cmpi_allreduce_sum_double(double *values, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
// A nonblocking sum: `request` is caller-owned storage of cmpi_request_size() bytes, and
// `values` must stay in place until cmpi_wait (or a cmpi_test that reports done) returns.
static inline size_t cmpi_request_size(void) { return sizeof(MPI_Request); }
static inline int cmpi_iallreduce_sum_float(float *values, int count, void *request) {
    return MPI_Iallreduce(MPI_IN_PLACE, values, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, (MPI_Request *)request);
}
static inline int cmpi_test(void *request, int *done) {
    return MPI_Test((MPI_Request *)request, done, MPI_STATUS_IGNORE);
}
static inline int cmpi_wait(void *request) { return MPI_Wait((MPI_Request *)request, MPI_STATUS_IGNORE); }
static inline int cmpi_reduce_scatter_sum_float(const float *values, float *mine, const int *counts) {
    return MPI_Reduce_scatter(values, mine, counts, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
static inline int cmpi_allgather_int(int value, int *all) {
    return MPI_Allgather(&value, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD);
}
static inline int cmpi_allgather_double(const double *local, int count, double *all) {
    return MPI_Allgather(local, count, MPI_DOUBLE, all, count, MPI_DOUBLE, MPI_COMM_WORLD);
}
static inline int cmpi_allgatherv_float(const float *local, int count, float *all, const int *counts,
                                        const int *offsets) {
    return MPI_Allgatherv(local, count, MPI_FLOAT, all, counts, offsets, MPI_FLOAT, MPI_COMM_WORLD);
}
static inline int cmpi_allgatherv_int(const int *local, int count, int *all, const int *counts,
                                      const int *offsets) {
    return MPI_Allgatherv(local, count, MPI_INT, all, counts, offsets, MPI_INT, MPI_COMM_WORLD);
}
static inline int cmpi_broadcast_bytes(void *bytes, int count, int root) {
    return MPI_Bcast(bytes, count, MPI_BYTE, root, MPI_COMM_WORLD);
}
static inline int cmpi_allgatherv_bytes(const void *local, int count, void *all, const int *counts,
                                        const int *offsets) {
    return MPI_Allgatherv(local, count, MPI_BYTE, all, counts, offsets, MPI_BYTE, MPI_COMM_WORLD);
}
