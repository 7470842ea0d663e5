/* The signature's digest of a container (docs/format.md sections 6 and 11), fed block by block
 * by the writer's stream (stream.c) and the reader's (reader.c). */
#ifndef PLI_DIGEST_H
#define PLI_DIGEST_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* Blocks the lanes hash at once, and so the most digest_blocks takes in one call. */
#define DIGEST_BATCH 8
/* Version 2's leaves given out of order (digest_leaf_at) wait for the ones before them: at most
 * this many blocks ahead of the root's next one (32 bytes each). */
#define LEAF_WINDOW 32

typedef struct {
  int version;       /* 1: SHA-256 over the blocks' bytes; 2: over their leaves */
  int lanes;         /* version 2: the leaves hashed in AVX2 lanes (sha256x8.c) */
  int failed;        /* an OpenSSL call failed: digest_final refuses to give a value */
  EVP_MD_CTX *root;  /* SHA-256(prefix || blocks) in version 1, (prefix || leaves) in version 2 */
  EVP_MD_CTX *leaf;  /* version 2 without lanes: each block's leaf, one at a time */
  uint64_t blocks;   /* the blocks in the root so far, in the stream's order */
  /* digest_leaf_at: slot b % LEAF_WINDOW holds block b's leaf once waiting_for[slot] is b + 1. */
  uint64_t waiting_for[LEAF_WINDOW];
  uint8_t waiting[LEAF_WINDOW][32];
} pli_digest;

/* Whether a stream starting now should hash version 2's leaves in lanes: PLI_SHA256_LANES=1
 * forces them where they can run, =0 forbids them; otherwise they are used where they can run
 * and OpenSSL has no SHA-NI to use (docs/format.md 11). Reads the environment: call it on the
 * JavaScript thread, once per stream. */
int digest_lanes(void);
/* Whether a stream starting now, in version 2 without lanes, should hash its leaves two at a time
 * (digest_leaf_pair): where the CPU has SHA-NI and OPENSSL_ia32cap does not hide it from OpenSSL.
 * PLI_SHA256_PAIRS=0 keeps one OpenSSL SHA-256 per leaf. Reads the environment: call it on the
 * JavaScript thread, once per stream. */
int digest_pairs(void);
/* Version 2's leaves of two blocks, hashed together (sha256x2.c; any thread). 0, and nothing
 * hashed, where that cannot run here (digest_pairs() is then 0). */
int digest_leaf_pair(const uint8_t *first, size_t first_length, const uint8_t *second, size_t second_length, uint8_t leaves[2][32]);
/* Starts the digest of `version` (1 or 2) with the prefix (label, preamble, header), which the
 * caller builds for that version. `lanes` is ignored in version 1. 1 on success. */
int digest_init(pli_digest *d, int version, int lanes, const uint8_t *prefix, size_t length);
/* The next `count` (1 .. DIGEST_BATCH) blocks of the stream, in order: blocks[i] of lengths[i]
 * bytes (a whole block of 16 sealed chunks, or the last, shorter one). 1 on success. */
int digest_blocks(pli_digest *d, const uint8_t *const *blocks, const size_t *lengths, int count);
/* Version 2's leaf of one block, with a context of the caller's (any thread, OpenSSL's SHA-256). */
int digest_leaf(EVP_MD_CTX *ctx, const uint8_t *block, size_t length, uint8_t leaf[32]);
/* Version 2: block b's leaf, from callers that give the leaves in any order, each once, under one
 * lock of theirs: it joins the root once every block before it has, with every leaf that waited
 * for it (d->blocks then counts them). b must be within LEAF_WINDOW of d->blocks. 1 on success;
 * a failure leaves the digest failed. */
int digest_leaf_at(pli_digest *d, uint64_t b, const uint8_t leaf[32]);
/* The 32-byte digest, once every block is in. 0 if any call failed before. */
int digest_final(pli_digest *d, uint8_t out[32]);
void digest_free(pli_digest *d);

#endif
