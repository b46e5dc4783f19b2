// Where a graph's rows and lists live, for its search (graph.c) and its insertion (graph_build.c).
#ifndef RETRIEVE_GRAPH_INTERNAL_H
#define RETRIEVE_GRAPH_INTERNAL_H

#include "kernels.h"

static inline const float *rk_row_of(const rk_graph *g, int32_t node) { return g->rows + (ptrdiff_t)node * g->d; }

/* Node's list at `layer`: a count, then the ids. */
static inline const int32_t *rk_links_of(const rk_graph *g, int32_t node, int layer) {
    if (layer == 0) return g->links0 + (ptrdiff_t)node * g->stride0;
    return g->upper + g->upperOffset[node] + (ptrdiff_t)(layer - 1) * g->strideUp;
}

#endif
