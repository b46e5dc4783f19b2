// Building a proximity graph (HNSW): one node's insertion, run on every thread at once. The node
// descends greedily to its top layer, then on each of its layers beams for efConstruction
// candidates, keeps up to M by HNSW's heuristic (a candidate is kept only if it is nearer to the
// node than to every neighbour kept before it, which spreads the links in direction) and links
// both ways, shrinking a full list by the same rule. Layer-0 lists hold up to 2M: the room is for
// the back-links of later nodes. Choosing 2M for the node itself (as this code once did) doubles
// the back-links and the build time for +0.015 recall at the same beam, which a wider beam buys
// cheaper (200,000 × 256, M 16, efConstruction 200: 98.7 s → 50.5 s). A quantised graph's
// beams walk codes, and their hits are scored on the rows before the heuristic picks, so
// links are chosen on exact scores. Each node's lock
// guards its lists; the entry point has a lock of its own. No allocation: the caller's scratch.
#include "graph_internal.h"

/* Node's list at `layer`, to write: `rk_graph` holds the lists const for searches, but while a
   graph is built they are the index's writable arrays. */
static inline int32_t *list_of(const rk_graph *g, int32_t node, int layer) { return (int32_t *)rk_links_of(g, node, layer); }

/* HNSW's heuristic over `cand` (n hits, best first, scored against one base row): keeps up to
   `keep` in `kept`, filling up with the best of the skipped when fewer pass. */
static ptrdiff_t select_neighbours(const rk_graph *g, const rk_hit *cand, ptrdiff_t n, ptrdiff_t keep,
                                   rk_hit *kept, rk_hit *skipped) {
    ptrdiff_t nk = 0, ns = 0;
    if (n <= keep) {
        for (ptrdiff_t i = 0; i < n; i++) kept[i] = cand[i];
        return n;
    }
    for (ptrdiff_t i = 0; i < n && nk < keep; i++) {
        const float *c = rk_row_of(g, cand[i].id);
        int diverse = 1;
        for (ptrdiff_t j = 0; j < nk && diverse; j++) diverse = rk_dot(c, rk_row_of(g, kept[j].id), g->d) < cand[i].score;
        if (diverse) kept[nk++] = cand[i]; else skipped[ns++] = cand[i];
    }
    for (ptrdiff_t j = 0; j < ns && nk < keep; j++) kept[nk++] = skipped[j];
    return nk;
}

static void write_list(int32_t *l, const rk_hit *hits, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) l[i + 1] = hits[i].id;
    l[0] = (int32_t)n;
}

/* Stable insertion sort, best first (lists are at most 2M + 1 long). */
static void sort_best_first(rk_hit *h, ptrdiff_t n) {
    for (ptrdiff_t i = 1; i < n; i++) {
        rk_hit x = h[i];
        ptrdiff_t j = i;
        for (; j > 0 && h[j - 1].score < x.score; j--) h[j] = h[j - 1];
        h[j] = x;
    }
}

/* Adds `node` (scoring `score` with it) to `neighbour`'s list at `layer`; shrinks a full list.
   `scratch` holds 3 · (2M + 1) hits. */
static void link_back(const rk_graph *g, const rk_graph_builder *b, int32_t neighbour, int32_t node, float score,
                      int layer, rk_hit *scratch) {
    const ptrdiff_t cap = layer == 0 ? 2 * b->neighbors : b->neighbors;
    rk_spin_lock(g->locks + neighbour);
    int32_t *l = list_of(g, neighbour, layer);
    ptrdiff_t n = l[0];
    for (ptrdiff_t i = 0; i < n; i++) {
        if (l[i + 1] == node) { rk_spin_unlock(g->locks + neighbour); return; }
    }
    if (n < cap) {
        l[n + 1] = node;
        l[0] = (int32_t)(n + 1);
    } else {
        rk_hit *cand = scratch, *kept = scratch + cap + 1, *skipped = kept + cap + 1;
        const float *base = rk_row_of(g, neighbour);
        for (ptrdiff_t i = 0; i < n; i++) cand[i] = (rk_hit){rk_dot(base, rk_row_of(g, l[i + 1]), g->d), l[i + 1]};
        cand[n] = (rk_hit){score, node};
        sort_best_first(cand, n + 1);
        write_list(l, kept, select_neighbours(g, cand, n + 1, cap, kept, skipped));
    }
    rk_spin_unlock(g->locks + neighbour);
}

/* The hits of a walk over codes scored on their rows, best first, `node` itself left out. */
static ptrdiff_t exact_hits(const rk_graph *g, const float *row, const rk_hit *found, ptrdiff_t n, int32_t node,
                            rk_hit *out) {
    ptrdiff_t m = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        if (found[i].id == node) continue;
        if (g->codes && i + 1 < n) __builtin_prefetch(rk_row_of(g, found[i + 1].id));
        out[m++] = (rk_hit){g->codes ? rk_dot(row, rk_row_of(g, found[i].id), g->d) : found[i].score, found[i].id};
    }
    if (g->codes) sort_best_first(out, m);
    return m;
}

void rk_graph_insert(const rk_graph *g, const rk_graph_builder *b, rk_graph_workspace *w, rk_hit *scratch,
                     int32_t node) {
    const ptrdiff_t ef = b->ef_construction, room = ef + 2 * b->neighbors + 2;
    rk_hit *entries = scratch, *found = scratch + room, *cand = found + room, *kept = cand + room,
           *skipped = kept + room, *link_scratch = skipped + room;
    const int level = b->levels[node];
    rk_spin_lock(b->entry_lock);
    int32_t current = *b->entry;
    rk_spin_unlock(b->entry_lock);
    const int top = b->levels[current];
    const float *row = rk_row_of(g, node), *q = row;
    if (g->codes) {  /* the walk's query: the row times the quantiser's steps (see ScalarQuantizer) */
        float *t = (float *)(link_scratch + 3 * (2 * b->neighbors + 1));
        for (ptrdiff_t j = 0; j < g->d; j++) t[j] = row[j] * b->step[j];
        q = t;
    }
    float s = rk_graph_score(g, q, current);
    for (int layer = top; layer > level; layer--) current = rk_graph_greedy(g, q, current, &s, layer);
    entries[0] = (rk_hit){s, current};
    ptrdiff_t ne = 1;
    for (int layer = level < top ? level : top; layer >= 0; layer--) {
        ptrdiff_t nf = rk_graph_search(g, w, q, entries, ne, ef, layer, found);
        const ptrdiff_t nc = exact_hits(g, row, found, nf, node, cand);
        const ptrdiff_t nk = select_neighbours(g, cand, nc, b->neighbors, kept, skipped);
        rk_spin_lock(g->locks + node);
        write_list(list_of(g, node, layer), kept, nk);
        rk_spin_unlock(g->locks + node);
        for (ptrdiff_t i = 0; i < nk; i++) link_back(g, b, kept[i].id, node, kept[i].score, layer, link_scratch);
        rk_hit *t = entries; entries = found; found = t;
        ne = nf;
    }
    if (level > top) {
        rk_spin_lock(b->entry_lock);
        if (level > b->levels[*b->entry]) *b->entry = node;
        rk_spin_unlock(b->entry_lock);
    }
}
