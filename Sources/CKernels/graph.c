// The hot loop of graph search (HNSW): a best-first beam over one layer of a proximity graph.
// Two binary heaps in the caller's workspace (candidates to expand, best first; results kept, the
// worst on top), a visited stamp per node reset by bumping a generation, the fresh neighbours'
// rows (or codes) prefetched before they are scored and the next candidate's list while the
// current one is read: a walk is a chain of cache misses, and each prefetch overlaps one. While
// the graph is being built, node locks guard each neighbour list as it is read.
#include <sched.h>
#include <math.h>
#include "graph_internal.h"

void rk_spin_lock(int32_t *lock) {
    // Spin a little (a holder keeps a lock for microseconds), then yield: with more threads
    // than free cores the holder may be descheduled, and spinning on would only delay it.
    for (int spins = 0; __atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE); ) {
        while (__atomic_load_n(lock, __ATOMIC_RELAXED)) {
            if (++spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
            } else {
                sched_yield();
            }
        }
    }
}

void rk_spin_unlock(int32_t *lock) { __atomic_store_n(lock, 0, __ATOMIC_RELEASE); }

static inline float score(const rk_graph *g, const float *q, int32_t node) {
    if (g->codes) return rk_dot_code(q, g->codes + (ptrdiff_t)node * g->d, g->d);
    return rk_dot(q, rk_row_of(g, node), g->d);
}

float rk_graph_score(const rk_graph *g, const float *q, int32_t node) { return score(g, q, node); }

/* Starts loading lines [from, to) of node's row (codes or floats), 64 bytes each. */
static inline void prefetch_row(const rk_graph *g, int32_t node, ptrdiff_t from, ptrdiff_t to) {
    const char *p = g->codes ? (const char *)(g->codes + (ptrdiff_t)node * g->d) : (const char *)rk_row_of(g, node);
    const ptrdiff_t bytes = g->codes ? g->d : g->d * 4, lines = (bytes + 63) / 64;
    for (ptrdiff_t line = from; line < lines && line < to; line++) __builtin_prefetch(p + line * 64);
}

/* Heap of hits. `better_on_top` 1: the best score at [0] (candidates); 0: the worst (results). */
static inline int above(rk_hit a, rk_hit b, int best_on_top) {
    return best_on_top ? a.score > b.score : a.score < b.score;
}

static void heap_push(rk_hit *h, ptrdiff_t *n, rk_hit x, int best_on_top) {
    ptrdiff_t i = (*n)++;
    while (i > 0) {
        ptrdiff_t p = (i - 1) / 2;
        if (!above(x, h[p], best_on_top)) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static rk_hit heap_pop(rk_hit *h, ptrdiff_t *n, int best_on_top) {
    rk_hit top = h[0], last = h[--(*n)];
    ptrdiff_t i = 0, size = *n;
    for (;;) {
        ptrdiff_t c = 2 * i + 1;
        if (c >= size) break;
        if (c + 1 < size && above(h[c + 1], h[c], best_on_top)) c++;
        if (!above(h[c], last, best_on_top)) break;
        h[i] = h[c];
        i = c;
    }
    if (size > 0) h[i] = last;
    return top;
}

/* Drops the candidates no longer among the results (worse than the worst kept): they would
   never be expanded. Leaves at most the results' count, as a heap again. */
static void compact(rk_hit *cand, ptrdiff_t *nc, float worst_kept) {
    ptrdiff_t live = 0;
    for (ptrdiff_t i = 0; i < *nc; i++) if (cand[i].score >= worst_kept) cand[live++] = cand[i];
    *nc = 0;
    for (ptrdiff_t i = 0; i < live; i++) heap_push(cand, nc, cand[i], 1);
}

/* A copy of node's list into `out` (under its lock while building); returns the count. */
static ptrdiff_t read_links(const rk_graph *g, int32_t node, int layer, int32_t *out, ptrdiff_t cap) {
    const int32_t *l = rk_links_of(g, node, layer);
    if (g->locks) rk_spin_lock(g->locks + node);
    ptrdiff_t n = l[0] < cap ? l[0] : cap;
    for (ptrdiff_t i = 0; i < n; i++) out[i] = l[i + 1];
    if (g->locks) rk_spin_unlock(g->locks + node);
    return n;
}

int32_t rk_graph_greedy(const rk_graph *g, const float *q, int32_t entry, float *entry_score, int layer) {
    int32_t best = entry, ids[256];
    float best_score = *entry_score;
    for (int changed = 1; changed;) {
        changed = 0;
        ptrdiff_t n = read_links(g, best, layer, ids, 256);
        for (ptrdiff_t i = 0; i < n; i++) {
            float s = score(g, q, ids[i]);
            if (s > best_score) { best_score = s; best = ids[i]; changed = 1; }
        }
    }
    *entry_score = best_score;
    return best;
}

ptrdiff_t rk_graph_search(const rk_graph *g, rk_graph_workspace *w, const float *q,
                          const rk_hit *entries, ptrdiff_t entry_count, ptrdiff_t ef, int layer, rk_hit *out) {
    if (++w->generation == 0) {  /* stamps wrapped: clear them once every 65,535 searches */
        for (ptrdiff_t i = 0; i < w->nodes; i++) w->visited[i] = 0;
        w->generation = 1;
    }
    const uint16_t gen = w->generation;
    rk_hit *cand = w->candidates, *res = w->results;
    ptrdiff_t nc = 0, nr = 0;
    int32_t ids[256];
    for (ptrdiff_t e = 0; e < entry_count; e++) {
        if (w->visited[entries[e].id] == gen) continue;
        w->visited[entries[e].id] = gen;
        heap_push(cand, &nc, entries[e], 1);
        heap_push(res, &nr, entries[e], 0);
        if (nr > ef) heap_pop(res, &nr, 0);
    }
    while (nc > 0) {
        rk_hit c = heap_pop(cand, &nc, 1);
        if (nr >= ef && c.score < res[0].score) break;
        if (nc > 0) __builtin_prefetch(rk_links_of(g, cand[0].id, layer));  /* likely the next one expanded */
        ptrdiff_t n = read_links(g, c.id, layer, ids, 256);
        ptrdiff_t fresh = 0;
        for (ptrdiff_t i = 0; i < n; i++) {
            int32_t v = ids[i];
            if (w->visited[v] == gen) continue;
            w->visited[v] = gen;
            ids[fresh++] = v;
            prefetch_row(g, v, 0, g->codes ? 8 : 1);  /* codes whole (up to 512 wide), floats their first line */
        }
        for (ptrdiff_t i = 0; i < fresh; i++) {
            if (i + 1 < fresh && !g->codes) prefetch_row(g, ids[i + 1], 1, 4);
            rk_hit h = {score(g, q, ids[i]), ids[i]};
            if (nr < ef || h.score > res[0].score) {
                if (nc == w->capacity) compact(cand, &nc, nr >= ef ? res[0].score : -INFINITY);
                heap_push(cand, &nc, h, 1);
                heap_push(res, &nr, h, 0);
                if (nr > ef) heap_pop(res, &nr, 0);
            }
        }
    }
    /* Best first: pop the worst-on-top heap from the back. */
    ptrdiff_t count = nr;
    for (ptrdiff_t i = count - 1; i >= 0; i--) out[i] = heap_pop(res, &nr, 0);
    return count;
}
