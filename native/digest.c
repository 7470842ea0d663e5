/*
 * The signature's digest of a container, for both streams (stream.c, reader.c):
 * - version 1 (docs/format.md section 6): SHA-256(prefix || every sealed chunk in order);
 * - version 2 (section 11): the sealed chunks cut into blocks of 16 (the streams' own blocks),
 *   leaf_j = SHA-256(block_j), digest = SHA-256(prefix || leaf_0 || ... || leaf_{M-1}).
 * The caller builds the prefix (label, preamble, header) for its version; this only hashes.
 *
 * Version 2's leaves are independent, so where OpenSSL has no SHA-NI they are hashed up to 8 at a
 * time in the lanes of AVX2 (sha256x8.c: ~2.8x one OpenSSL stream on such a CPU); with SHA-NI,
 * the workers hash them two at a time, interleaved (sha256x2.c: ~1.9x one OpenSSL stream), or one
 * OpenSSL SHA-256 per block (digest_lanes, digest_pairs).
 *
 * It implements no cryptography of its own beyond sha256x8.c's and sha256x2.c's plain SHA-256:
 * the root and the other leaves are OpenSSL's. Invariants: the leaves go into the root in the blocks'
 * order, each exactly once (the callers give consecutive blocks); a digest one of whose OpenSSL
 * calls failed never gives a value (digest_final refuses), so a half-fed root cannot be signed or
 * accepted.
 */
#include "digest.h"

#include "gcm.h"
#include "sha256x2.h"
#include "sha256x8.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#if DIGEST_BATCH != X8_LANES
#error "a batch of blocks is one call of sha256x8"
#endif

/* Below 3 blocks the lanes cost as much as a full batch of 8 (the longest lane sets the time),
 * more than 1 or 2 OpenSSL streams even without SHA-NI (0.57 GB/s each against 1.59 for all 8). */
#define LANES_FROM 3

#if defined(__x86_64__)
/* Whether OPENSSL_ia32cap hides SHA-NI from OpenSSL, read as bench/machine.mjs's shaInHardware
 * reads it (and OpenSSL does): the word after ':' is CPUID leaf 7's EBX (its low 32 bits) and ECX,
 * SHA being bit 29 of EBX; "~x" clears x's bits, "x" replaces the word. A first word alone leaves
 * leaf 7 as it is; an empty value masks everything. */
static int ia32cap_masks_sha(void) {
  const char *mask = getenv("OPENSSL_ia32cap");
  if (mask == NULL) return 0;
  const char *second = strchr(mask, ':');
  if (second == NULL) {
    for (const char *p = mask; *p != '\0'; p++)
      if (!isspace((unsigned char)*p)) return 0;
    return 1;
  }
  second++;
  int clear = *second == '~';
  if (clear) second++;
  unsigned long long bits = strtoull(second, NULL, 0); /* "" reads as 0, as BigInt('') does */
  int sha = (int)((bits >> 29) & 1);
  return clear ? sha : !sha;
}

/* SHA-NI in the CPU (CPUID leaf 7, EBX bit 29) and not masked from OpenSSL. */
static int sha_ni_usable(void) {
  unsigned int a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 29))) return 0;
  return !ia32cap_masks_sha();
}
#endif

int digest_lanes(void) {
  const char *force = getenv("PLI_SHA256_LANES");
  if (force != NULL && strcmp(force, "0") == 0) return 0;
  if (!sha256x8_available()) return 0; /* "1" as well: the lanes cannot run here */
  if (force != NULL && strcmp(force, "1") == 0) return 1;
#if defined(__x86_64__)
  return !sha_ni_usable();
#else
  return 0;
#endif
}

int digest_pairs(void) {
  const char *force = getenv("PLI_SHA256_PAIRS");
  if (force != NULL && strcmp(force, "0") == 0) return 0;
#if defined(__x86_64__)
  return sha256x2_available() && sha_ni_usable();
#else
  return 0;
#endif
}

int digest_leaf_pair(const uint8_t *first, size_t first_length, const uint8_t *second, size_t second_length, uint8_t leaves[2][32]) {
  if (!sha256x2_available()) return 0;
  sha256x2(first, first_length, second, second_length, leaves[0], leaves[1]);
  return 1;
}

int digest_init(pli_digest *d, int version, int lanes, const uint8_t *prefix, size_t length) {
  memset(d, 0, sizeof *d);
  d->version = version;
  d->lanes = version == 2 && lanes && sha256x8_available();
  d->root = EVP_MD_CTX_new();
  if (version == 2) d->leaf = EVP_MD_CTX_new();
  int ok = (version == 1 || version == 2) && d->root != NULL && (version == 1 || d->leaf != NULL) &&
           EVP_DigestInit_ex(d->root, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(d->root, prefix, length) == 1;
  if (!ok) d->failed = 1;
  return ok;
}

/* Version 2: `count` leaves (32 bytes each, the blocks' next ones in order) into the root. */
static int digest_leaves(pli_digest *d, const uint8_t *leaves, int count) {
  if (d->failed || d->root == NULL || d->version != 2 || count < 0 || EVP_DigestUpdate(d->root, leaves, (size_t)count * 32) != 1) {
    d->failed = 1;
    return 0;
  }
  d->blocks += (uint64_t)count;
  return 1;
}

int digest_blocks(pli_digest *d, const uint8_t *const *blocks, const size_t *lengths, int count) {
  if (d->failed || d->root == NULL || count < 1 || count > DIGEST_BATCH) {
    d->failed = 1;
    return 0;
  }
  int ok = 1;
  if (d->version == 1) {
    for (int i = 0; ok && i < count; i++) ok = EVP_DigestUpdate(d->root, blocks[i], lengths[i]) == 1;
    if (ok) d->blocks += (uint64_t)count;
  } else {
    uint8_t leaves[DIGEST_BATCH][32];
    if (d->lanes && count >= LANES_FROM) {
      const uint8_t *messages[X8_LANES];
      size_t sizes[X8_LANES];
      for (int l = 0; l < X8_LANES; l++) {
        /* Lanes past `count` hash an empty message (never read) whose digest is dropped. */
        messages[l] = l < count ? blocks[l] : blocks[0];
        sizes[l] = l < count ? lengths[l] : 0;
      }
      sha256x8(messages, sizes, leaves);
    } else {
      for (int i = 0; ok && i < count; i++) ok = digest_leaf(d->leaf, blocks[i], lengths[i], leaves[i]);
    }
    if (ok) return digest_leaves(d, &leaves[0][0], count);
  }
  if (!ok) d->failed = 1;
  return ok;
}

int digest_leaf(EVP_MD_CTX *ctx, const uint8_t *block, size_t length, uint8_t leaf[32]) {
  return ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(ctx, block, length) == 1 &&
         EVP_DigestFinal_ex(ctx, leaf, NULL) == 1;
}

int digest_leaf_at(pli_digest *d, uint64_t b, const uint8_t leaf[32]) {
  if (d->failed || d->version != 2 || b < d->blocks || b - d->blocks >= LEAF_WINDOW) {
    d->failed = 1;
    return 0;
  }
  memcpy(d->waiting[b % LEAF_WINDOW], leaf, 32);
  d->waiting_for[b % LEAF_WINDOW] = b + 1;
  while (d->waiting_for[d->blocks % LEAF_WINDOW] == d->blocks + 1)
    if (!digest_leaves(d, d->waiting[d->blocks % LEAF_WINDOW], 1)) return 0;
  return 1;
}

int digest_final(pli_digest *d, uint8_t out[32]) {
  if (d->failed || d->root == NULL || EVP_DigestFinal_ex(d->root, out, NULL) != 1) {
    d->failed = 1;
    return 0;
  }
  return 1;
}

void digest_free(pli_digest *d) {
  if (d->root != NULL) EVP_MD_CTX_free(d->root);
  if (d->leaf != NULL) EVP_MD_CTX_free(d->leaf);
  d->root = d->leaf = NULL;
  d->failed = 1;
}

static napi_value fail(napi_env env, const char *message) {
  napi_throw_range_error(env, "ERR_PLI_DIGEST", message);
  return NULL;
}

/* sha256Lanes(messages: Uint8Array[] of 1 to 8) -> Buffer(32 × n): each message's SHA-256, by one
 * call of sha256x8 (for tests: the lanes against known vectors). Throws where they cannot run. */
napi_value sha256_lanes(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  bool is_array = false;
  uint32_t count = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[0], &count) != napi_ok ||
      count < 1 || count > X8_LANES)
    return fail(env, "sha256Lanes(messages: 1 to 8 Uint8Arrays)");
  if (!sha256x8_available()) return fail(env, "sha256Lanes: no AVX2 lanes on this CPU or build");
  const uint8_t *messages[X8_LANES];
  size_t lengths[X8_LANES];
  for (uint32_t i = 0; i < X8_LANES; i++) {
    uint8_t *data = NULL;
    size_t length = 0;
    napi_value element;
    if (i < count && (napi_get_element(env, argv[0], i, &element) != napi_ok || !bytes_of(env, element, &data, &length)))
      return fail(env, "sha256Lanes: messages are Uint8Arrays");
    messages[i] = data; /* a zero-length lane is never read */
    lengths[i] = length;
  }
  uint8_t digests[X8_LANES][32];
  sha256x8(messages, lengths, digests);
  if (napi_create_buffer_copy(env, (size_t)count * 32, digests, NULL, &result) != napi_ok) return fail(env, "out of memory");
  return result;
}

/* sha256Pair(first: Uint8Array, second: Uint8Array) -> Buffer(64): both SHA-256, by one call of
 * sha256x2 (for tests: the pairs against known vectors). Throws where they cannot run. */
napi_value sha256_pair(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  uint8_t *data[2] = {NULL, NULL};
  size_t lengths[2] = {0, 0};
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 || !bytes_of(env, argv[0], &data[0], &lengths[0]) ||
      !bytes_of(env, argv[1], &data[1], &lengths[1]))
    return fail(env, "sha256Pair(first: Uint8Array, second: Uint8Array)");
  uint8_t leaves[2][32];
  if (!digest_leaf_pair(data[0], lengths[0], data[1], lengths[1], leaves)) return fail(env, "sha256Pair: no SHA-NI on this CPU or build");
  if (napi_create_buffer_copy(env, 64, leaves, NULL, &result) != napi_ok) return fail(env, "out of memory");
  return result;
}

/* digestPairs() -> boolean: whether a stream starting now would hash version 2's leaves two at a time. */
napi_value digest_pairs_value(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, digest_pairs() != 0, &result);
  return result;
}

/* digestLanes() -> boolean: whether a stream starting now would hash version 2's leaves in lanes. */
napi_value digest_lanes_value(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, digest_lanes() != 0, &result);
  return result;
}
