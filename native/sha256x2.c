/*
 * SHA-256 of 2 messages at once with SHA-NI, the rounds of one interleaved with the other's: the
 * leaves of format version 2 (docs/format.md section 11) on CPUs with SHA-NI. One SHA-NI stream
 * waits on its own rounds (each sha256rnds2 needs the one before it); two independent streams
 * fill those waits. Measured on one core of an Intel Xeon with SHA-NI, 1 MiB messages: OpenSSL's
 * one stream 1.19-1.21 GB/s from memory and 1.97 in cache, these two at once 2.27-2.32 and
 * 2.40-2.45 (bench/README.md, "Two leaves at once").
 *
 * Plain FIPS 180-4 SHA-256, nothing of Pli's own: each digest is the SHA-256 of its message
 * (test/unit/native-digest.test.ts checks it against the FIPS vectors and node:crypto, for every
 * length around the padding's edges). The instruction sequence per 64-byte block is the usual one
 * for SHA-NI (Intel's "SHA extensions" paper): 16 pairs of sha256rnds2, the schedule by
 * sha256msg1/sha256msg2.
 *
 * Compiled for SHA-NI function by function (target attribute), so the addon needs no global -msha
 * and runs on any x86-64: callers check sha256x2_available() first. Elsewhere (not x86-64) only the
 * stub below is built, and sha256x2_available() says 0.
 */
#include "sha256x2.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

#define X2_TARGET __attribute__((target("sha,sse4.1,ssse3")))

#include "sha256k.h"

/* The state as sha256rnds2 takes it: words A, B, E, F in one register and C, D, G, H in the other. */
typedef struct {
  __m128i abef, cdgh;
} x2_state;

/* Big-endian 32-bit words of a block, as SHA-256 reads them. */
#define X2_BSWAP _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL)

X2_TARGET static inline x2_state x2_init(void) {
  __m128i dcba = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)SHA256_IV), 0xB1);      /* C D A B */
  __m128i hgfe = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(SHA256_IV + 4)), 0x1B); /* H G F E */
  x2_state s = {_mm_alignr_epi8(dcba, hgfe, 8), _mm_blend_epi16(hgfe, dcba, 0xF0)};
  return s;
}

X2_TARGET static inline void x2_digest(x2_state s, uint8_t out[32]) {
  __m128i feba = _mm_shuffle_epi32(s.abef, 0x1B), dchg = _mm_shuffle_epi32(s.cdgh, 0xB1);
  _mm_storeu_si128((__m128i *)out, _mm_shuffle_epi8(_mm_blend_epi16(feba, dchg, 0xF0), X2_BSWAP));
  _mm_storeu_si128((__m128i *)(out + 16), _mm_shuffle_epi8(_mm_alignr_epi8(dchg, feba, 8), X2_BSWAP));
}

/* Four rounds (k .. k+3) of state S with message words M (already scheduled). */
#define X2_ROUNDS4(S, M, k)                                                     \
  do {                                                                          \
    __m128i wk = _mm_add_epi32((M), _mm_load_si128((const __m128i *)(SHA256_K + (k)))); \
    (S).cdgh = _mm_sha256rnds2_epu32((S).cdgh, (S).abef, wk);                   \
    (S).abef = _mm_sha256rnds2_epu32((S).abef, (S).cdgh, _mm_shuffle_epi32(wk, 0x0E)); \
  } while (0)
/* The next four message words in m0, from the sixteen in m0 .. m3. */
#define X2_NEXT(m0, m1, m2, m3) \
  (m0) = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32((m0), (m1)), _mm_alignr_epi8((m3), (m2), 4)), (m3))
#define X2_LOAD(p, i) _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((p) + 16 * (i))), X2_BSWAP)

/* One 64-byte block into s. */
X2_TARGET static inline void x2_block(x2_state *s, const uint8_t *p) {
  x2_state v = *s;
  __m128i m0 = X2_LOAD(p, 0), m1 = X2_LOAD(p, 1), m2 = X2_LOAD(p, 2), m3 = X2_LOAD(p, 3);
  for (int k = 0; k < 64; k += 16) {
    X2_ROUNDS4(v, m0, k);
    X2_ROUNDS4(v, m1, k + 4);
    X2_ROUNDS4(v, m2, k + 8);
    X2_ROUNDS4(v, m3, k + 12);
    if (k < 48) {
      X2_NEXT(m0, m1, m2, m3);
      X2_NEXT(m1, m2, m3, m0);
      X2_NEXT(m2, m3, m0, m1);
      X2_NEXT(m3, m0, m1, m2);
    }
  }
  s->abef = _mm_add_epi32(s->abef, v.abef);
  s->cdgh = _mm_add_epi32(s->cdgh, v.cdgh);
}

/* One block of each message: the same sequence as x2_block, the two states' steps alternated. */
X2_TARGET static inline void x2_block_pair(x2_state *s, x2_state *t, const uint8_t *p, const uint8_t *q) {
  x2_state v = *s, w = *t;
  __m128i a0 = X2_LOAD(p, 0), a1 = X2_LOAD(p, 1), a2 = X2_LOAD(p, 2), a3 = X2_LOAD(p, 3);
  __m128i b0 = X2_LOAD(q, 0), b1 = X2_LOAD(q, 1), b2 = X2_LOAD(q, 2), b3 = X2_LOAD(q, 3);
  for (int k = 0; k < 64; k += 16) {
    X2_ROUNDS4(v, a0, k);
    X2_ROUNDS4(w, b0, k);
    X2_ROUNDS4(v, a1, k + 4);
    X2_ROUNDS4(w, b1, k + 4);
    X2_ROUNDS4(v, a2, k + 8);
    X2_ROUNDS4(w, b2, k + 8);
    X2_ROUNDS4(v, a3, k + 12);
    X2_ROUNDS4(w, b3, k + 12);
    if (k < 48) {
      X2_NEXT(a0, a1, a2, a3);
      X2_NEXT(b0, b1, b2, b3);
      X2_NEXT(a1, a2, a3, a0);
      X2_NEXT(b1, b2, b3, b0);
      X2_NEXT(a2, a3, a0, a1);
      X2_NEXT(b2, b3, b0, b1);
      X2_NEXT(a3, a0, a1, a2);
      X2_NEXT(b3, b0, b1, b2);
    }
  }
  s->abef = _mm_add_epi32(s->abef, v.abef);
  s->cdgh = _mm_add_epi32(s->cdgh, v.cdgh);
  t->abef = _mm_add_epi32(t->abef, w.abef);
  t->cdgh = _mm_add_epi32(t->cdgh, w.cdgh);
}

X2_TARGET void sha256x2(const uint8_t *a, size_t a_length, const uint8_t *b, size_t b_length, uint8_t first[32], uint8_t second[32]) {
  x2_state s = x2_init(), t = x2_init();
  size_t a_full = a_length / 64, b_full = b_length / 64, both = a_full < b_full ? a_full : b_full;
  for (size_t i = 0; i < both; i++) x2_block_pair(&s, &t, a + 64 * i, b + 64 * i);
  for (size_t i = both; i < a_full; i++) x2_block(&s, a + 64 * i);
  for (size_t i = both; i < b_full; i++) x2_block(&t, b + 64 * i);
  uint8_t a_last[128], b_last[128];
  int a_count = sha256_tail(a, a_length, a_last);
  int b_count = sha256_tail(b, b_length, b_last);
  for (int i = 0; i < a_count; i++) x2_block(&s, a_last + 64 * i);
  for (int i = 0; i < b_count; i++) x2_block(&t, b_last + 64 * i);
  x2_digest(s, first);
  x2_digest(t, second);
}

static int x2_cpu(void) {
  unsigned int a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 9)) || !(c & (1u << 19))) return 0; /* SSSE3, SSE4.1 */
  return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29)) ? 1 : 0;             /* SHA */
}

/* Asked once per process: digest_leaf_pair checks it at every pair of blocks, and CPUID is slow
 * (in a VM it leaves the guest). 0 or 1 once known; threads that race both store the same. */
int sha256x2_available(void) {
  static int known = -1;
  int answer = __atomic_load_n(&known, __ATOMIC_RELAXED);
  if (answer < 0) __atomic_store_n(&known, answer = x2_cpu(), __ATOMIC_RELAXED);
  return answer;
}

#else /* not x86-64 */

int sha256x2_available(void) {
  return 0;
}

void sha256x2(const uint8_t *a, size_t a_length, const uint8_t *b, size_t b_length, uint8_t first[32], uint8_t second[32]) {
  (void)a, (void)a_length, (void)b, (void)b_length;
  memset(first, 0, 32); /* never called: sha256x2_available() is 0 */
  memset(second, 0, 32);
}

#endif
