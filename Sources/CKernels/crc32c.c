// CRC-32C (Castagnoli, the iSCSI/ext4 checksum) for the index file's row blocks: the SSE4.2
// crc32 instruction over three interleaved streams joined by a GF(2) shift (about 8 bytes per
// cycle), chosen at run time, and a slicing-by-8 table loop everywhere else. Both give the
// standard value (crc32c("123456789") = 0xE3069283), so other tools can check the same bytes.
#include "kernels.h"

#include <string.h>

#define POLY 0x82F63B78u // reflected Castagnoli polynomial

static uint32_t table[8][256];
static uint32_t x2n[32]; // x^(2^k) mod P, for shifting a CRC past k zero bits
static int hardware = 0;
enum { LANE = 8192 };             // bytes per stream in the interleaved loop
static uint32_t shift1, shift2;   // x^(8·LANE), x^(16·LANE) mod P

/// a·b mod P in the reflected representation (bit 31 is x^0).
static uint32_t multmodp(uint32_t a, uint32_t b) {
    uint32_t m = 1u << 31, p = 0;
    for (;;) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0) break;
        }
        m >>= 1;
        b = (b & 1) ? (b >> 1) ^ POLY : b >> 1;
    }
    return p;
}

/// x^(8·bytes) mod P.
static uint32_t x8nmodp(size_t bytes) {
    uint32_t p = 1u << 31;
    int k = 3;
    while (bytes) {
        if (bytes & 1) p = multmodp(x2n[k & 31], p);
        bytes >>= 1;
        k++;
    }
    return p;
}

__attribute__((constructor)) static void crc32c_init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        table[0][n] = c;
    }
    for (int n = 0; n < 256; n++)
        for (int k = 1; k < 8; k++) table[k][n] = (table[k - 1][n] >> 8) ^ table[0][table[k - 1][n] & 0xFF];
    uint32_t p = 1u << 30; // x^1
    x2n[0] = p;
    for (int k = 1; k < 32; k++) x2n[k] = p = multmodp(p, p);
    shift1 = x8nmodp(LANE);
    shift2 = x8nmodp(2 * LANE);
#if defined(__x86_64__)
    __builtin_cpu_init();
    hardware = __builtin_cpu_supports("sse4.2");
#endif
}

int rk_crc32c_level(void) { return hardware; }

void rk_set_crc32c_level(int wanted) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    hardware = wanted && __builtin_cpu_supports("sse4.2");
#else
    (void)wanted;
#endif
}

uint32_t rk_crc32c_combine(uint32_t crc1, uint32_t crc2, size_t length2) {
    return multmodp(x8nmodp(length2), crc1) ^ crc2;
}

/// Slicing-by-8 on the pre-inverted register `c`.
static uint32_t portable(uint32_t c, const uint8_t *p, size_t n) {
    while (n && ((uintptr_t)p & 7)) { c = (c >> 8) ^ table[0][(c ^ *p++) & 0xFF]; n--; }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= c;
        c = table[7][w & 0xFF] ^ table[6][(w >> 8) & 0xFF] ^ table[5][(w >> 16) & 0xFF] ^ table[4][(w >> 24) & 0xFF]
          ^ table[3][(w >> 32) & 0xFF] ^ table[2][(w >> 40) & 0xFF] ^ table[1][(w >> 48) & 0xFF] ^ table[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) c = (c >> 8) ^ table[0][(c ^ *p++) & 0xFF];
    return c;
}

#if defined(__x86_64__)
#include <nmmintrin.h>
#define SSE42 __attribute__((target("sse4.2")))

SSE42 static uint32_t sequential(uint32_t c, const uint8_t *p, size_t n) {
    while (n && ((uintptr_t)p & 7)) { c = _mm_crc32_u8(c, *p++); n--; }
    uint64_t c64 = c;
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c64 = _mm_crc32_u64(c64, w);
    }
    c = (uint32_t)c64;
    while (n--) c = _mm_crc32_u8(c, *p++);
    return c;
}

/// Three streams over thirds of each 24 KiB stretch hide the instruction's 3-cycle latency;
/// the partial registers are shifted into place by the precomputed x^(8·LANE) powers.
SSE42 static uint32_t interleaved(uint32_t c, const uint8_t *p, size_t n) {
    while (n >= 3 * LANE) {
        uint64_t a = c, b = 0, d = 0;
        const uint8_t *q = p;
        for (int i = 0; i < LANE / 8; i++, q += 8) {
            uint64_t w0, w1, w2;
            memcpy(&w0, q, 8);
            memcpy(&w1, q + LANE, 8);
            memcpy(&w2, q + 2 * LANE, 8);
            a = _mm_crc32_u64(a, w0);
            b = _mm_crc32_u64(b, w1);
            d = _mm_crc32_u64(d, w2);
        }
        // Registers are uninverted here, so joining is a shift of the earlier ones and an xor.
        c = multmodp(shift2, (uint32_t)a) ^ multmodp(shift1, (uint32_t)b) ^ (uint32_t)d;
        p += 3 * LANE;
        n -= 3 * LANE;
    }
    return sequential(c, p, n);
}
#endif

uint32_t rk_crc32c(uint32_t crc, const void *data, size_t n) {
    const uint8_t *p = data;
    uint32_t c = ~crc;
#if defined(__x86_64__)
    if (hardware) return ~interleaved(c, p, n);
#endif
    return ~portable(c, p, n);
}
