// Cluster: the processes of one job started by `mpirun` (OpenMPI), and the few collective
// operations training and indexing need over them — sums, gathers, a broadcast, a barrier, an
// abort — on Float buffers. It knows nothing of models or pictures; Retrieval decides what to
// exchange. Started without mpirun, the binary is one process of one and never touches MPI.
