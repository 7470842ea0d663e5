/*
 * SHA-256 of 8 messages at once, one in each 32-bit lane of AVX2 (multi-buffer SHA-256): the
 * leaves of format version 2 (docs/format.md section 11) on CPUs without SHA-NI, where one
 * SHA-256 stream runs at ~0.57 GB/s and these 8 lanes at ~1.59 GB/s on one core (bench/README.md,
 * "A CPU without SHA-NI"). Plain FIPS 180-4 SHA-256, nothing of Pli's own: each lane's digest is
 * the SHA-256 of its message (test/unit/native-digest.test.ts checks it against the FIPS vectors
 * and node:crypto; bench/floor.c's check8 against OpenSSL's).
 *
 * sha256x8(messages, lengths, digests): lengths may differ and may be 0; a lane whose message is
 * done keeps its state while the others go on (a blend under a mask). The AVX2 code is compiled
 * for AVX2 function by function (target attribute), so the addon needs no global -mavx2 and runs
 * on any x86-64: callers check sha256x8_available() first. Elsewhere (not x86-64) only the stub
 * below is built, and sha256x8_available() says 0.
 *
 * Compiled into the addon (native/binding.gyp) and included whole by bench/floor.c.
 */
#include "sha256x8.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#include "sha256k.h"

#define X8_TARGET __attribute__((target("avx2")))
#define ROR(x, n) _mm256_or_si256(_mm256_srli_epi32((x), (n)), _mm256_slli_epi32((x), 32 - (n)))

/* Transposes 8 rows of 8 32-bit words (row i: 32 bytes of lane i) into 8 vectors of one word each. */
X8_TARGET static inline void transpose8(__m256i r[8]) {
  __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
  __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
  __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
  __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
  __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
  __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
  __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
  __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
  r[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
  r[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
  r[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
  r[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
  r[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
  r[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
  r[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
  r[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

/* One 64-byte block of each lane (blocks[l]) into the state s; lanes where keep[l] is all ones
 * keep their state (their message is done, the block given for them is a dummy). */
X8_TARGET static void compress8(__m256i s[8], const uint8_t *blocks[X8_LANES], __m256i keep) {
  const __m256i swap = _mm256_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3,
                                       12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
  __m256i w[16];
  for (int half = 0; half < 2; half++) {
    __m256i r[8];
    for (int l = 0; l < X8_LANES; l++) r[l] = _mm256_loadu_si256((const __m256i *)(blocks[l] + 32 * half));
    transpose8(r);
    for (int i = 0; i < 8; i++) w[8 * half + i] = _mm256_shuffle_epi8(r[i], swap);
  }
  __m256i a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
  for (int t = 0; t < 64; t++) {
    __m256i wt;
    if (t < 16) {
      wt = w[t];
    } else {
      __m256i w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
      __m256i s0 = _mm256_xor_si256(_mm256_xor_si256(ROR(w15, 7), ROR(w15, 18)), _mm256_srli_epi32(w15, 3));
      __m256i s1 = _mm256_xor_si256(_mm256_xor_si256(ROR(w2, 17), ROR(w2, 19)), _mm256_srli_epi32(w2, 10));
      wt = _mm256_add_epi32(_mm256_add_epi32(w[t & 15], s0), _mm256_add_epi32(w[(t - 7) & 15], s1));
      w[t & 15] = wt;
    }
    __m256i S1 = _mm256_xor_si256(_mm256_xor_si256(ROR(e, 6), ROR(e, 11)), ROR(e, 25));
    __m256i ch = _mm256_xor_si256(_mm256_and_si256(e, f), _mm256_andnot_si256(e, g));
    __m256i t1 = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(h, S1), _mm256_add_epi32(ch, _mm256_set1_epi32((int)SHA256_K[t]))), wt);
    __m256i S0 = _mm256_xor_si256(_mm256_xor_si256(ROR(a, 2), ROR(a, 13)), ROR(a, 22));
    __m256i maj = _mm256_or_si256(_mm256_and_si256(a, b), _mm256_and_si256(c, _mm256_or_si256(a, b)));
    __m256i t2 = _mm256_add_epi32(S0, maj);
    h = g;
    g = f;
    f = e;
    e = _mm256_add_epi32(d, t1);
    d = c;
    c = b;
    b = a;
    a = _mm256_add_epi32(t1, t2);
  }
  __m256i next[8] = {a, b, c, d, e, f, g, h};
  for (int i = 0; i < 8; i++) s[i] = _mm256_blendv_epi8(_mm256_add_epi32(s[i], next[i]), s[i], keep);
}

X8_TARGET void sha256x8(const uint8_t *const messages[X8_LANES], const size_t lengths[X8_LANES], uint8_t digests[X8_LANES][32]) {
  static const uint8_t dummy[64];
  uint8_t tails[X8_LANES][128];
  size_t full[X8_LANES], total[X8_LANES], most = 0;
  for (int l = 0; l < X8_LANES; l++) {
    full[l] = lengths[l] / 64;
    total[l] = full[l] + (size_t)sha256_tail(messages[l], lengths[l], tails[l]);
    if (total[l] > most) most = total[l];
  }
  __m256i s[8];
  for (int i = 0; i < 8; i++) s[i] = _mm256_set1_epi32((int)SHA256_IV[i]);
  for (size_t i = 0; i < most; i++) {
    const uint8_t *blocks[X8_LANES];
    int32_t keep[X8_LANES];
    for (int l = 0; l < X8_LANES; l++) {
      keep[l] = i >= total[l] ? -1 : 0;
      blocks[l] = i < full[l] ? messages[l] + i * 64 : i < total[l] ? tails[l] + (i - full[l]) * 64 : dummy;
    }
    compress8(s, blocks, _mm256_loadu_si256((const __m256i *)keep));
  }
  uint32_t words[8][X8_LANES];
  for (int i = 0; i < 8; i++) _mm256_storeu_si256((__m256i *)words[i], s[i]);
  for (int l = 0; l < X8_LANES; l++)
    for (int i = 0; i < 8; i++)
      for (int k = 0; k < 4; k++) digests[l][4 * i + k] = (uint8_t)(words[i][l] >> (24 - 8 * k));
}

int sha256x8_available(void) {
  __builtin_cpu_init(); /* idempotent: the CPU model __builtin_cpu_supports reads, set up in any case */
  return __builtin_cpu_supports("avx2") ? 1 : 0;
}

#else /* not x86-64: no lanes */

int sha256x8_available(void) {
  return 0;
}

void sha256x8(const uint8_t *const messages[X8_LANES], const size_t lengths[X8_LANES], uint8_t digests[X8_LANES][32]) {
  (void)messages;
  (void)lengths;
  memset(digests, 0, (size_t)X8_LANES * 32); /* never called: sha256x8_available() is 0 */
}

#endif
