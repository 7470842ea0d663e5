/*
 * The reader's stream of a large container opened into files (docs/format.md section 7): the
 * work of openStream's loop (electron/core/container/open.ts) done here, on both cores, with no
 * JavaScript, event loop or message between threads in the way.
 *
 * Two steps, as in the JavaScript path (opener.ts):
 * 1. start() — before the key exists, while the Argon2id unlock keeps one core busy: a thread of
 *    its own reads the sealed blocks from the container's file and starts the signature's digest
 *    (digest.c: label, header, then the blocks in order, or version 2's leaves of them). Each
 *    block it hashes also gets a GMAC under a random key made here and never shown (the pre-hash
 *    of opener.ts, same reason: the opening pass reads the block again, and whoever knows the file
 *    key could change it in between with valid tags). With version 2's leaves in AVX2 lanes (a CPU
 *    without SHA-NI) it reads up to 8 blocks, one buffer each, then hashes them side by side.
 * 2. open() — with the payload key and the destination files: the pre-hash stops after its
 *    current block (with the lanes, it reads no further and hashes the blocks of its batch read
 *    so far); two workers (one of libuv's pool threads and a thread of its own) take the
 *    blocks in turn: read, GMAC compared for a block pre-hashed, every tag checked, plaintext
 *    written with pwrite at its place in its file. The blocks not pre-hashed are hashed from the
 *    very buffers the workers opened: in version 2 with one leaf at a time (a CPU with SHA-NI),
 *    by the worker that opened each, the leaves joining the digest in the blocks' order (a window
 *    of 32: bench/README.md, "Both cores seal"; a worker keeps each block it opened until its
 *    next one is read, and hashes the two leaves together: sha256x2.c, "Two leaves at once");
 *    otherwise by a hashing thread, in order, one at a time, or, with the lanes, 8 consecutive
 *    ones at once (the ring then holds 16, so that the workers fill the next 8 while 8 are
 *    hashed). PLI_READER_HASHER=1 keeps that thread.
 *
 * It implements no cryptography of its own: AES-GCM and GMAC are OpenSSL's, as in gcm.c; SHA-256 is
 * OpenSSL's, or sha256x8.c's or sha256x2.c's plain SHA-256 (digest.c).
 *
 * Invariants:
 * - a block's plaintext is written only once every tag of it verified, and, for a pre-hashed
 *   block, once the bytes read again have the GMAC the hashing thread computed on the bytes it
 *   hashed (the GMAC and the digest read the same private buffer, which nothing writes between):
 *   the digest covers exactly the bytes decrypted;
 * - `prehashed` counts exactly the blocks in the digest from the pre-hash, each with its GMAC:
 *   a batch is counted only once all of it is hashed, and the hashing thread of open() starts
 *   from there; a ring slot is reused only once the hashing thread is done with its block; a
 *   worker's own leaf is hashed from the buffer it opens (kept unwritten until then), and joins
 *   the digest by block number, each once;
 * - the plaintext's first `head` bytes (the manifest, already opened by the caller) are compared
 *   with the caller's, never written; the zero padding after the last file is checked, never
 *   written; nothing is written outside [0, size) of each file;
 * - the first failure in the stream's order is the one reported: a worker stops at a failing
 *   block, and blocks after the first failure found are not processed;
 * - the plaintext buffers and the GMAC key are wiped before they are freed; every argument is
 *   checked before any work: a wrong call throws and touches nothing.
 */
/* POSIX only (pread, pwrite, pthreads): a Windows build leaves it out, and open.ts reads in JavaScript. */
#ifndef _WIN32
#define _GNU_SOURCE
#include "gcm.h"
#include "digest.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#endif
#include <string.h>
#include <unistd.h>

#define BLOCK_CHUNKS 16                /* 1 MiB blocks */
#define BLOCK_SEALED ((size_t)BLOCK_CHUNKS * CHUNK_SEALED)
#define BLOCK_PLAIN ((size_t)BLOCK_CHUNKS * CHUNK_PLAIN)
#define RING 4                         /* blocks opened ahead of the hashing thread */
#define RING_LANES 16                  /* the same with the lanes: two groups of DIGEST_BATCH */
#define WORKERS 2
#define MAX_SIZE 9007199254740992.0    /* 2^53: sizes come as JavaScript numbers */
#define NONE UINT64_MAX

typedef enum { DONE = 0, TRUNCATED, TAG, CHANGED, PADDING, IO, STOPPED, MEMORY, CRYPTO } outcome;

typedef struct reader reader;

typedef struct {
  reader *r;
  int index;
  EVP_CIPHER_CTX *open;  /* a copy of the caller's context: one per thread */
  EVP_CIPHER_CTX *gmac;
  EVP_MD_CTX *leaf;      /* own_leaves: this worker's blocks' leaves */
  uint8_t *sealed;       /* a pre-hashed block read again (own_leaves: every block) */
  uint8_t *partner;      /* pairs: the next block, whose leaf is hashed with the one in `sealed` */
  uint8_t *plain;
  size_t file;           /* the first file a later block may touch (blocks come in order) */
} worker;

struct reader {
  /* Set by start(). */
  int fd;
  uint64_t start;        /* offset of the first sealed chunk in the file */
  uint64_t chunks, blocks;
  uint8_t mac_key[KEY_BYTES];
  int batch;             /* blocks hashed at once: DIGEST_BATCH with the lanes, else 1 */
  /* Version 2 with one leaf at a time (a CPU with SHA-NI): after the pre-hash, each worker hashes
   * the leaves of the blocks it opens, and no hashing thread runs (PLI_READER_HASHER=1 keeps it). */
  int own_leaves;
  /* own_leaves where SHA-NI is (digest_pairs): a worker keeps each block it opened until its next
   * one is read, and hashes the two leaves together (sha256x2.c). */
  int pairs;
  int ring_size;         /* RING, or RING_LANES with the lanes */
  pli_digest hash;
  uint8_t (*macs)[TAG_BYTES];
  pthread_t prehasher;
  int prehasher_started;

  /* The workers' writes to the output, one at a time. The kernel writes one at a time anyway (the
   * file's lock), but its waiter spins while the writer runs; where first touching memory is slow
   * (a VM whose host took freed memory back: every page written faults), a write lasts long and
   * the spinner burns the other core for nothing (bench/README.md, "Two writers, one spinning").
   * Waiting here sleeps instead. */
  pthread_mutex_t write_lock;
  pthread_mutex_t lock;
  pthread_cond_t moved;
  /* Under lock. */
  uint64_t prehashed;    /* blocks 0 .. prehashed-1 are in the digest, with their GMAC */
  int handoff;           /* open() (or close()) asked the pre-hash to stop */
  uint64_t hashed;       /* blocks in the digest (pre-hashed or from the ring) */
  uint64_t ready[RING_LANES]; /* block number held by each ring slot, NONE when free */
  uint64_t limit;        /* the first block that failed (NONE): no later block is processed */
  int quit;              /* open()'s hashing thread ends as soon as it can */

  /* Set by open(). */
  gcm_context *gcm;
  napi_ref gcm_ref, control_ref;
  int32_t *control;      /* [0]: stop asked (set by the caller); [1]: blocks done (set here) */
  uint8_t *head;
  size_t head_length;
  int32_t *fds;
  uint64_t *sizes, *offsets; /* each file's place in the plaintext stream */
  size_t files;
  uint64_t padding_from;
  uint8_t *ring[RING_LANES];

  /* The first failure, under lock (its block is `limit`). */
  outcome result;
  uint64_t failed_chunk;
  int64_t changed_block;
  int error_number;
  const char *syscall;
  uint8_t digest[32];

  int running, opened, closed, collected;
  napi_deferred deferred;
  napi_async_work work;
};

static napi_value fail(napi_env env, const char *message) {
  napi_throw_range_error(env, "ERR_PLI_READER", message);
  return NULL;
}

/* Reads block `b` whole into `into`; 0 with errno set on a failure, -1 when the file is short. */
static int read_block(reader *r, uint64_t b, uint8_t *into, size_t length) {
  size_t done = 0;
  off_t at = (off_t)(r->start + b * BLOCK_SEALED);
  while (done < length) {
    ssize_t n = pread(r->fd, into + done, length - done, at + (off_t)done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return 0;
    if (n == 0) return -1;
    done += (size_t)n;
  }
  return 1;
}

static size_t block_bytes(reader *r, uint64_t b) {
  uint64_t first = b * BLOCK_CHUNKS;
  uint64_t count = r->chunks - first < BLOCK_CHUNKS ? r->chunks - first : BLOCK_CHUNKS;
  return (size_t)count * CHUNK_SEALED;
}

static int gmac_of(EVP_CIPHER_CTX *gmac, uint64_t b, const uint8_t *block, size_t length, uint8_t tag[TAG_BYTES]) {
  uint8_t iv[NONCE_BYTES] = {0};
  for (int i = 0; i < 8; i++) iv[4 + i] = (uint8_t)(b >> (56 - 8 * i));
  int n = 0;
  /* GMAC: AES-GCM over associated data only, in pieces below INT_MAX bytes. */
  if (EVP_EncryptInit_ex(gmac, NULL, NULL, NULL, iv) != 1) return 0;
  for (size_t done = 0; done < length;) {
    int piece = length - done > (1u << 30) ? (1 << 30) : (int)(length - done);
    if (EVP_EncryptUpdate(gmac, NULL, &n, block + done, piece) != 1) return 0;
    done += (size_t)piece;
  }
  return EVP_EncryptFinal_ex(gmac, NULL, &n) == 1 && EVP_CIPHER_CTX_ctrl(gmac, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, tag) == 1;
}

static EVP_CIPHER_CTX *gmac_context(reader *r) {
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  if (c != NULL && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, r->mac_key, NULL) == 1) return c;
  EVP_CIPHER_CTX_free(c);
  return NULL;
}

/* Records a failure at block `b` if it is the first in the stream's order so far. Under lock. */
static void failed_at(reader *r, uint64_t b, outcome what) {
  if (b >= r->limit) return;
  r->limit = b;
  r->result = what;
  pthread_cond_broadcast(&r->moved);
}

/* The pre-hashing thread: from the file, until open() takes over (or the blocks end). It runs at
 * the lowest priority: it is to use the core the unlock leaves idle, not to slow the unlock. */
static void *prehash_blocks(void *arg) {
  reader *r = arg;
#ifdef __linux__
  setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19); /* this thread only; best effort */
  pthread_setname_np(pthread_self(), "pli-prehash");
#endif
  uint8_t *block[DIGEST_BATCH] = {NULL};
  int ok = 1;
  for (int i = 0; i < r->batch; i++) ok &= (block[i] = malloc(BLOCK_SEALED)) != NULL;
  EVP_CIPHER_CTX *gmac = ok ? gmac_context(r) : NULL;
  for (uint64_t b = 0; gmac != NULL && b < r->blocks;) {
    /* Up to `batch` blocks read; a hand-off or a failed read ends the batch where it is, and the
     * blocks read before are still hashed and counted. */
    const uint8_t *blocks[DIGEST_BATCH];
    size_t lengths[DIGEST_BATCH];
    uint8_t tags[DIGEST_BATCH][TAG_BYTES];
    int n = 0, more = 1;
    while (n < r->batch && b + (uint64_t)n < r->blocks) {
      pthread_mutex_lock(&r->lock);
      more = !r->handoff && !r->quit;
      pthread_mutex_unlock(&r->lock);
      if (!more) break;
      lengths[n] = block_bytes(r, b + (uint64_t)n);
      /* A short or failed read stops here: the opening pass reads the same place and reports it. */
      if (read_block(r, b + (uint64_t)n, block[n], lengths[n]) != 1) {
        more = 0;
        break;
      }
      blocks[n] = block[n];
      n++;
    }
    /* The GMACs first: a block is in the digest only with its GMAC (a failed digest_blocks leaves
     * the digest failed, and open() then fails as CRYPTO whatever is counted). */
    int hashed = n > 0;
    for (int i = 0; hashed && i < n; i++) hashed = gmac_of(gmac, b + (uint64_t)i, block[i], lengths[i], tags[i]);
    if (!hashed || !digest_blocks(&r->hash, blocks, lengths, n)) break;
    pthread_mutex_lock(&r->lock);
    for (int i = 0; i < n; i++) memcpy(r->macs[b + (uint64_t)i], tags[i], TAG_BYTES);
    r->prehashed = r->hashed = b + (uint64_t)n;
    pthread_mutex_unlock(&r->lock);
    b += (uint64_t)n;
    if (!more) break;
  }
  EVP_CIPHER_CTX_free(gmac);
  for (int i = 0; i < DIGEST_BATCH; i++) free(block[i]);
  return NULL;
}

/* Whether ring slots hold blocks from .. to-1, every one opened. Under lock. */
static int ready_between(reader *r, uint64_t from, uint64_t to) {
  for (uint64_t k = from; k < to; k++)
    if (r->ready[k % (uint64_t)r->ring_size] != k) return 0;
  return 1;
}

/* The hashing thread of open(): the blocks not pre-hashed, in order, `batch` at a time (or the
 * last ones) as the workers put them in the ring, until the blocks end or one of the batch or
 * before it failed (the digest is then not used). Workers never wait for a slot of the batch
 * awaited (ring_size >= 2 batches), so the wait ends. */
static void *hash_ring(void *arg) {
  reader *r = arg;
#ifdef __linux__
  pthread_setname_np(pthread_self(), "pli-hash");
#endif
  uint64_t slots = (uint64_t)r->ring_size;
  pthread_mutex_lock(&r->lock);
  for (uint64_t h = r->hashed; h < r->blocks && !r->quit; h = r->hashed) {
    uint64_t end = r->blocks - h > (uint64_t)r->batch ? h + (uint64_t)r->batch : r->blocks;
    while (!ready_between(r, h, end) && end <= r->limit && !r->quit) pthread_cond_wait(&r->moved, &r->lock);
    if (!ready_between(r, h, end)) break;
    const uint8_t *blocks[DIGEST_BATCH];
    size_t lengths[DIGEST_BATCH];
    for (uint64_t k = h; k < end; k++) {
      blocks[k - h] = r->ring[k % slots];
      lengths[k - h] = block_bytes(r, k);
    }
    pthread_mutex_unlock(&r->lock);
    int ok = digest_blocks(&r->hash, blocks, lengths, (int)(end - h));
    pthread_mutex_lock(&r->lock);
    if (!ok) {
      failed_at(r, h, CRYPTO);
      break;
    }
    for (uint64_t k = h; k < end; k++) r->ready[k % slots] = NONE;
    r->hashed = end;
    pthread_cond_broadcast(&r->moved);
  }
  pthread_mutex_unlock(&r->lock);
  return NULL;
}

/* A failed system call at block b (IO), with its errno. */
static int failed_io(reader *r, uint64_t b, int code, const char *syscall) {
  pthread_mutex_lock(&r->lock);
  if (b < r->limit) {
    r->error_number = code;
    r->syscall = syscall;
  }
  failed_at(r, b, IO);
  pthread_mutex_unlock(&r->lock);
  return 0;
}

static int write_all(worker *w, int fd, const uint8_t *bytes, size_t length, uint64_t at, uint64_t b) {
  pthread_mutex_lock(&w->r->write_lock);
  while (length > 0) {
    ssize_t n = pwrite(fd, bytes, length, (off_t)at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int code = n < 0 ? errno : EIO;
      pthread_mutex_unlock(&w->r->write_lock);
      return failed_io(w->r, b, code, "write");
    }
    bytes += n;
    length -= (size_t)n;
    at += (uint64_t)n;
  }
  pthread_mutex_unlock(&w->r->write_lock);
  return 1;
}

/* `detail`: the failing chunk (TAG), the changed block (CHANGED). */
static int fail_block(worker *w, uint64_t b, outcome what, int64_t detail) {
  reader *r = w->r;
  pthread_mutex_lock(&r->lock);
  if (b < r->limit) {
    if (what == TAG) r->failed_chunk = (uint64_t)detail;
    if (what == CHANGED) r->changed_block = detail;
  }
  failed_at(r, b, what);
  pthread_mutex_unlock(&r->lock);
  return 0;
}

/* The plaintext of block b, `length` bytes from stream offset `p`: the head compared, each file's
 * part written at its place, the padding checked. */
static int place(worker *w, uint64_t b, const uint8_t *plain, uint64_t p, size_t length) {
  reader *r = w->r;
  uint64_t end = p + length;
  if (p < r->head_length) {
    size_t n = (size_t)((end < r->head_length ? end : r->head_length) - p);
    if (memcmp(plain, r->head + p, n) != 0) return fail_block(w, b, CHANGED, -1);
  }
  while (w->file < r->files && r->offsets[w->file] + r->sizes[w->file] <= p) w->file++;
  for (size_t i = w->file; i < r->files && r->offsets[i] < end; i++) {
    uint64_t from = p > r->offsets[i] ? p : r->offsets[i];
    uint64_t to = end < r->offsets[i] + r->sizes[i] ? end : r->offsets[i] + r->sizes[i];
    if (!write_all(w, r->fds[i], plain + (from - p), (size_t)(to - from), from - r->offsets[i], b)) return 0;
  }
  if (end > r->padding_from) {
    uint64_t from = p > r->padding_from ? p : r->padding_from;
    uint8_t any = 0;
    for (uint64_t i = from; i < end; i++) any |= plain[i - p];
    if (any != 0) return fail_block(w, b, PADDING, 0);
  }
  return 1;
}

static int open_block(worker *w, uint64_t b, const uint8_t *sealed, size_t length) {
  reader *r = w->r;
  uint64_t count = length / CHUNK_SEALED;
  for (uint64_t c = 0; c < count; c++) {
    uint64_t index = b * BLOCK_CHUNKS + c;
    uint8_t nonce[NONCE_BYTES];
    chunk_nonce(index, index == r->chunks - 1, nonce);
    const uint8_t *chunk = sealed + c * CHUNK_SEALED;
    uint8_t tag[TAG_BYTES];
    memcpy(tag, chunk + CHUNK_PLAIN, TAG_BYTES);
    int n = 0, m = 0;
    if (EVP_DecryptInit_ex(w->open, NULL, NULL, NULL, nonce) != 1 ||
        EVP_DecryptUpdate(w->open, w->plain + c * CHUNK_PLAIN, &n, chunk, CHUNK_PLAIN) != 1 || n != CHUNK_PLAIN ||
        EVP_CIPHER_CTX_ctrl(w->open, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, tag) != 1 ||
        EVP_DecryptFinal_ex(w->open, w->plain + c * CHUNK_PLAIN + n, &m) != 1 || m != 0) {
      OPENSSL_cleanse(w->plain, BLOCK_PLAIN);
      return fail_block(w, b, TAG, (int64_t)index);
    }
  }
  return place(w, b, w->plain, b * BLOCK_PLAIN, (size_t)count * CHUNK_PLAIN);
}

/* Into the digest, under the lock: the leaves of blocks b (and c, unless NONE), then every leaf
 * that waited for them. A failure leaves the digest failed: digest_final then refuses (CRYPTO). */
static void leaves_in(reader *r, uint64_t b, const uint8_t *leaf, uint64_t c, const uint8_t *other) {
  pthread_mutex_lock(&r->lock);
  digest_leaf_at(&r->hash, b, leaf);
  if (c != NONE) digest_leaf_at(&r->hash, c, other);
  r->hashed = r->hash.blocks;
  pthread_cond_broadcast(&r->moved);
  pthread_mutex_unlock(&r->lock);
}

/* Blocks index, index + WORKERS, ... until the end or the first failure before them. With pairs,
 * a block opened waits in w->sealed, untouched, for the worker's next one (read into w->partner):
 * both leaves are then hashed together; the last one alone once the blocks end. */
static void *work_blocks(void *arg) {
  worker *w = arg;
  reader *r = w->r;
#ifdef __linux__
  if (w->index > 0) pthread_setname_np(pthread_self(), "pli-open");
#endif
  uint64_t waiting = NONE; /* pairs: the block in w->sealed whose leaf is not hashed yet */
  size_t waiting_length = 0;
  uint64_t b = (uint64_t)w->index;
  for (; b < r->blocks; b += WORKERS) {
    if (__atomic_load_n(&r->control[0], __ATOMIC_ACQUIRE) != 0) {
      pthread_mutex_lock(&r->lock);
      failed_at(r, b, STOPPED);
      pthread_mutex_unlock(&r->lock);
      break;
    }
    size_t length = block_bytes(r, b);
    uint8_t *sealed = waiting != NONE ? w->partner : w->sealed;
    pthread_mutex_lock(&r->lock);
    int go = b < r->limit;
    if (b >= r->prehashed && r->own_leaves) {
      /* Within LEAF_WINDOW of the digest's next leaf (blocks before b on the other worker). */
      while (b - r->hashed >= LEAF_WINDOW && b < r->limit) pthread_cond_wait(&r->moved, &r->lock);
      go = b < r->limit;
    } else if (b >= r->prehashed) {
      /* Its ring slot, once the hashing thread is done with the block before in that slot. */
      while (r->hashed + (uint64_t)r->ring_size <= b && b < r->limit) pthread_cond_wait(&r->moved, &r->lock);
      go = b < r->limit;
      sealed = r->ring[b % (uint64_t)r->ring_size];
    }
    pthread_mutex_unlock(&r->lock);
    if (!go) break;
    int got = read_block(r, b, sealed, length);
    if (got < 0) fail_block(w, b, TRUNCATED, 0);
    else if (got == 0) failed_io(r, b, errno, "read");
    if (got != 1) break;
    if (b < r->prehashed) {
      uint8_t tag[TAG_BYTES];
      if (!gmac_of(w->gmac, b, sealed, length, tag)) {
        fail_block(w, b, CRYPTO, 0);
        break;
      }
      if (CRYPTO_memcmp(tag, r->macs[b], TAG_BYTES) != 0) {
        fail_block(w, b, CHANGED, (int64_t)b);
        break;
      }
    }
    /* The leaves of the very bytes opened (own_leaves), in w->sealed and w->partner, which
     * nothing writes until their leaves are hashed. */
    uint8_t leaves[2][32];
    int own = b >= r->prehashed && r->own_leaves;
    uint64_t first = NONE, second = NONE;
    if (own && r->pairs && waiting != NONE) {
      if (!digest_leaf_pair(w->sealed, waiting_length, w->partner, length, leaves)) {
        fail_block(w, b, CRYPTO, 0);
        break;
      }
      first = waiting, second = b;
    } else if (own && !r->pairs) {
      if (!digest_leaf(w->leaf, sealed, length, leaves[0])) {
        fail_block(w, b, CRYPTO, 0);
        break;
      }
      first = b;
    }
    if (!open_block(w, b, sealed, length)) break;
    if (first != NONE) leaves_in(r, first, leaves[0], second, leaves[1]);
    if (own && r->pairs) {
      if (waiting == NONE) {
        waiting = b, waiting_length = length; /* in w->sealed: its leaf comes with the next block's */
      } else {
        waiting = NONE;
      }
    } else if (!own && b >= r->prehashed) {
      pthread_mutex_lock(&r->lock);
      r->ready[b % (uint64_t)r->ring_size] = b;
      pthread_cond_broadcast(&r->moved);
      pthread_mutex_unlock(&r->lock);
    }
    __atomic_add_fetch(&r->control[1], 1, __ATOMIC_RELEASE);
  }
  /* The blocks ended with one still waiting: its leaf alone (after a failure, the digest is not used). */
  if (b >= r->blocks && waiting != NONE) {
    uint8_t leaf[32];
    if (!digest_leaf(w->leaf, w->sealed, waiting_length, leaf)) fail_block(w, waiting, CRYPTO, 0);
    else leaves_in(r, waiting, leaf, NONE, NULL);
  }
  return NULL;
}

/* Ends the pre-hash (after its current block) and waits for its thread. */
static void stop_prehash(reader *r) {
  if (!r->prehasher_started) return;
  pthread_mutex_lock(&r->lock);
  r->handoff = 1;
  pthread_mutex_unlock(&r->lock);
  pthread_join(r->prehasher, NULL);
  r->prehasher_started = 0;
}

static void run(reader *r) {
  worker w[WORKERS];
  memset(w, 0, sizeof w);
  /* The pre-hash stops after its current block (or batch, hashed whole); from then on
   * `prehashed` does not move. Stopped first so that its buffers are freed before the ring is
   * made. */
  stop_prehash(r);
  int ok = 1;
  const char *hasher_wanted = getenv("PLI_READER_HASHER");
  r->own_leaves = r->hash.version == 2 && r->batch == 1 && (hasher_wanted == NULL || strcmp(hasher_wanted, "1") != 0);
  r->pairs = r->own_leaves && digest_pairs();
  for (int i = 0; !r->own_leaves && i < r->ring_size; i++) ok &= (r->ring[i] = malloc(BLOCK_SEALED)) != NULL;
  for (int i = 0; i < WORKERS; i++) {
    w[i].r = r;
    w[i].index = i;
    w[i].sealed = malloc(BLOCK_SEALED);
    w[i].partner = r->pairs ? malloc(BLOCK_SEALED) : NULL;
    w[i].plain = malloc(BLOCK_PLAIN);
    w[i].open = EVP_CIPHER_CTX_new();
    w[i].gmac = gmac_context(r);
    w[i].leaf = r->own_leaves ? EVP_MD_CTX_new() : NULL;
    ok &= w[i].sealed != NULL && (w[i].partner != NULL || !r->pairs) && w[i].plain != NULL && w[i].open != NULL && w[i].gmac != NULL &&
          (w[i].leaf != NULL || !r->own_leaves) && EVP_CIPHER_CTX_copy(w[i].open, r->gcm->ctx) == 1;
  }
  pthread_t hasher;
  int hashing = ok && !r->own_leaves;
  ok = ok && (!hashing || pthread_create(&hasher, NULL, hash_ring, r) == 0);
  if (!ok) {
    pthread_mutex_lock(&r->lock);
    failed_at(r, 0, MEMORY);
    pthread_mutex_unlock(&r->lock);
  } else {
    pthread_t second;
    int started = pthread_create(&second, NULL, work_blocks, &w[1]) == 0;
    if (!started) {
      pthread_mutex_lock(&r->lock);
      failed_at(r, 0, MEMORY);
      pthread_mutex_unlock(&r->lock);
    }
    work_blocks(&w[0]);
    if (started) pthread_join(second, NULL);
  }
  /* Every block before the first failure is in the digest once the hashing thread is done. */
  pthread_mutex_lock(&r->lock);
  while (r->result == DONE && r->hashed < r->blocks) pthread_cond_wait(&r->moved, &r->lock);
  r->quit = 1;
  pthread_cond_broadcast(&r->moved);
  pthread_mutex_unlock(&r->lock);
  if (ok && hashing) pthread_join(hasher, NULL);
  if (r->result == DONE && !digest_final(&r->hash, r->digest)) r->result = CRYPTO;
  for (int i = 0; i < WORKERS; i++) {
    if (w[i].plain != NULL) OPENSSL_cleanse(w[i].plain, BLOCK_PLAIN);
    free(w[i].plain);
    free(w[i].sealed);
    free(w[i].partner);
    EVP_CIPHER_CTX_free(w[i].open);
    EVP_CIPHER_CTX_free(w[i].gmac);
    EVP_MD_CTX_free(w[i].leaf);
  }
}

static void execute(napi_env env, void *data) {
  (void)env;
  run((reader *)data);
}

/* The end of open(), on the JavaScript thread: the context is the caller's again. */
static void end_open(napi_env env, reader *r) {
  r->running = 0;
  context_done(r->gcm);
  if (r->gcm_ref != NULL) napi_delete_reference(env, r->gcm_ref);
  if (r->control_ref != NULL) napi_delete_reference(env, r->control_ref);
  if (r->work != NULL) napi_delete_async_work(env, r->work);
  r->gcm = NULL;
  r->gcm_ref = r->control_ref = NULL;
  r->work = NULL;
}

/* Frees the reader: once its external is collected and no open() runs (JavaScript thread only). */
static void free_reader(reader *r) {
  stop_prehash(r);
  digest_free(&r->hash);
  for (int i = 0; i < RING_LANES; i++) free(r->ring[i]);
  free(r->macs);
  if (r->head != NULL) OPENSSL_cleanse(r->head, r->head_length);
  free(r->head);
  free(r->fds);
  free(r->sizes);
  free(r->offsets);
  pthread_mutex_destroy(&r->lock);
  pthread_mutex_destroy(&r->write_lock);
  pthread_cond_destroy(&r->moved);
  OPENSSL_cleanse(r->mac_key, sizeof r->mac_key);
  OPENSSL_cleanse(r->digest, sizeof r->digest);
  free(r);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  reader *r = data;
  r->collected = 1;
  if (!r->running) free_reader(r);
}

/* The reader behind the first of exactly `count` arguments (put in argv), or NULL. */
static reader *reader_arg(napi_env env, napi_callback_info info, size_t count, napi_value *argv) {
  size_t argc = count;
  reader *r = NULL;
  napi_valuetype type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != count) return NULL;
  if (napi_typeof(env, argv[0], &type) != napi_ok || type != napi_external) return NULL;
  if (napi_get_value_external(env, argv[0], (void **)&r) != napi_ok) return NULL;
  return r;
}

/* readerStart(fd: number, start: number, chunks: number, prefix: Uint8Array, version: 1 | 2) -> reader
 * Starts the pre-hash of the sealed chunks at [start, start + chunks × (64 KiB + 16)) of fd,
 * after `prefix` (the signature's label and the header, the caller's for that version), into the
 * digest of that format version (digest.c). PLI_SHA256_LANES is read here (digest_lanes). */
napi_value reader_start(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5)
    return fail(env, "readerStart(fd, start, chunks, prefix, version)");
  int32_t fd;
  double start, chunks, version;
  uint8_t *prefix;
  size_t prefix_length;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) return fail(env, "fd: a file descriptor");
  if (napi_get_value_double(env, argv[1], &start) != napi_ok || !(start >= 0 && start <= MAX_SIZE) || start != (double)(uint64_t)start)
    return fail(env, "start: a whole offset");
  if (napi_get_value_double(env, argv[2], &chunks) != napi_ok || !(chunks >= 1 && chunks <= MAX_SIZE / CHUNK_SEALED) || chunks != (double)(uint64_t)chunks)
    return fail(env, "chunks: a whole count");
  if (!bytes_of(env, argv[3], &prefix, &prefix_length)) return fail(env, "prefix: Uint8Array");
  if (napi_get_value_double(env, argv[4], &version) != napi_ok || (version != 1 && version != 2))
    return fail(env, "version: 1 or 2");
  reader *r = calloc(1, sizeof *r);
  if (r == NULL) return fail(env, "out of memory");
  pthread_mutex_init(&r->lock, NULL);
  pthread_mutex_init(&r->write_lock, NULL);
  pthread_cond_init(&r->moved, NULL);
  r->fd = fd;
  r->start = (uint64_t)start;
  r->chunks = (uint64_t)chunks;
  r->blocks = (r->chunks + BLOCK_CHUNKS - 1) / BLOCK_CHUNKS;
  r->limit = NONE;
  for (int i = 0; i < RING_LANES; i++) r->ready[i] = NONE;
  int lanes = version == 2 && digest_lanes();
  r->batch = lanes ? DIGEST_BATCH : 1;
  r->ring_size = lanes ? RING_LANES : RING;
  r->macs = calloc((size_t)r->blocks, TAG_BYTES);
  napi_value external;
  if (r->macs == NULL || RAND_bytes(r->mac_key, sizeof r->mac_key) != 1 ||
      !digest_init(&r->hash, (int)version, lanes, prefix, prefix_length)) {
    free_reader(r);
    return fail(env, "could not start the reader");
  }
  if (pthread_create(&r->prehasher, NULL, prehash_blocks, r) != 0) {
    free_reader(r);
    return fail(env, "could not start the reader's thread");
  }
  r->prehasher_started = 1;
  if (napi_create_external(env, r, finalize, NULL, &external) != napi_ok) {
    free_reader(r);
    return fail(env, "external");
  }
  return external;
}

/* readerClose(reader): stops the pre-hash now (an open() running stops it at its end). The
 * reader cannot be opened afterwards; its memory goes when it is collected. */
napi_value reader_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  reader *r = reader_arg(env, info, 1, argv);
  if (r == NULL) return fail(env, "readerClose(reader)");
  r->closed = 1;
  if (!r->running) stop_prehash(r);
  return NULL;
}

/* readerPrehashed(reader) -> number: the blocks pre-hashed so far (tests and measurements). */
napi_value reader_prehashed(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  reader *r = reader_arg(env, info, 1, argv);
  if (r == NULL) return fail(env, "readerPrehashed(reader)");
  pthread_mutex_lock(&r->lock);
  double prehashed = (double)r->prehashed;
  pthread_mutex_unlock(&r->lock);
  napi_create_double(env, prehashed, &result);
  return result;
}

static void complete(napi_env env, napi_status status, void *data) {
  reader *r = data;
  napi_value value;
  r->running = 0;
  if (status != napi_ok) {
    napi_reject_deferred(env, r->deferred, error_of(env, "ERR_PLI_READER", "the reader did not run"));
  } else if (r->result == DONE) {
    void *copy;
    napi_create_buffer_copy(env, sizeof r->digest, r->digest, &copy, &value);
    napi_resolve_deferred(env, r->deferred, value);
  } else {
    static const char *codes[] = {"", "ERR_PLI_READER_TRUNCATED", "ERR_PLI_READER_TAG", "ERR_PLI_READER_CHANGED",
                                  "ERR_PLI_READER_PADDING", "ERR_PLI_READER_IO", "ERR_PLI_READER_STOPPED",
                                  "ERR_PLI_READER_MEMORY", "ERR_PLI_READER_CRYPTO"};
    static const char *messages[] = {"", "the container is shorter than its chunks", "a chunk's tag failed",
                                     "the container changed while it was read", "bytes after the last file",
                                     "a read or write failed", "stopped by the caller", "out of memory", "OpenSSL failed"};
    value = error_of(env, codes[r->result], messages[r->result]);
    if (r->result == TAG) set_number(env, value, "chunk", (double)r->failed_chunk);
    if (r->result == CHANGED) set_number(env, value, "block", (double)r->changed_block);
    if (r->result == IO) set_system_error(env, value, r->error_number, r->syscall);
    napi_reject_deferred(env, r->deferred, value);
  }
  end_open(env, r);
  if (r->collected) free_reader(r);
}

/* readerOpen(reader, context, head: Uint8Array, fds: Int32Array, sizes: Float64Array,
 *            control: Int32Array(≥ 2)) -> Promise<Buffer>
 * Opens every chunk: the plaintext is `head` (compared), each file's `size` bytes (written at
 * [0, size) of its fd), then zero padding to the last chunk (checked). Resolves with the digest
 * of the prefix and the sealed chunks, in readerStart's version (digest.c); rejects with an Error whose code is
 * ERR_PLI_READER_TRUNCATED, _TAG (.chunk), _CHANGED (.block, -1 for the head), _PADDING,
 * _IO (.errno, .syscall), _STOPPED, _MEMORY or _CRYPTO. Once per reader. PLI_READER_HASHER and
 * PLI_SHA256_PAIRS (digest_pairs) are read when the opening starts (run). */
napi_value reader_open(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  reader *r = reader_arg(env, info, 6, argv);
  if (r == NULL) return fail(env, "readerOpen(reader, context, head, fds, sizes, control)");
  if (r->closed || r->opened) return fail(env, "reader: closed or opened already");
  gcm_context *gcm = context_of(env, argv[1], 0);
  uint8_t *head;
  size_t head_length, fd_count, size_count, control_count;
  int32_t *fds, *control;
  double *sizes;
  if (gcm == NULL) return fail(env, "context: an opening context");
  if (!bytes_of(env, argv[2], &head, &head_length)) return fail(env, "head: Uint8Array");
  if (!elements_of(env, argv[3], napi_int32_array, (void **)&fds, &fd_count)) return fail(env, "fds: Int32Array");
  if (!elements_of(env, argv[4], napi_float64_array, (void **)&sizes, &size_count) || size_count != fd_count)
    return fail(env, "sizes: Float64Array, one per fd");
  if (!elements_of(env, argv[5], napi_int32_array, (void **)&control, &control_count) || control_count < 2)
    return fail(env, "control: Int32Array of 2");
  /* The head, the files and less than a chunk of padding fill the chunks exactly. */
  double total = (double)head_length;
  for (size_t i = 0; i < fd_count; i++) {
    if (fds[i] < 0) return fail(env, "fds: file descriptors");
    if (!(sizes[i] >= 0 && sizes[i] <= MAX_SIZE) || sizes[i] != (double)(uint64_t)sizes[i]) return fail(env, "sizes: whole numbers of bytes");
    total += sizes[i];
  }
  double payload = (double)r->chunks * CHUNK_PLAIN;
  if (total > payload || payload - total >= CHUNK_PLAIN) return fail(env, "sizes: not the chunks' plaintext");
  r->opened = 1;
  r->head = copy_of(head, head_length);
  r->head_length = head_length;
  r->fds = malloc((fd_count > 0 ? fd_count : 1) * sizeof *r->fds);
  r->sizes = malloc((fd_count > 0 ? fd_count : 1) * sizeof *r->sizes);
  r->offsets = malloc((fd_count > 0 ? fd_count : 1) * sizeof *r->offsets);
  if (r->head == NULL || r->fds == NULL || r->sizes == NULL || r->offsets == NULL) return fail(env, "out of memory");
  uint64_t at = head_length;
  for (size_t i = 0; i < fd_count; i++) {
    r->fds[i] = fds[i];
    r->sizes[i] = (uint64_t)sizes[i];
    r->offsets[i] = at;
    at += r->sizes[i];
  }
  r->files = fd_count;
  r->padding_from = at;
  r->control = control;
  r->gcm = gcm;
  control[0] = 0;
  control[1] = 0;
  napi_value promise, name;
  if (napi_create_reference(env, argv[1], 1, &r->gcm_ref) != napi_ok ||
      napi_create_reference(env, argv[5], 1, &r->control_ref) != napi_ok ||
      napi_create_promise(env, &r->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "pli-reader", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute, complete, r, &r->work) != napi_ok) {
    end_open(env, r);
    return fail(env, "could not start the reader");
  }
  gcm->busy = 1; /* until end_open: no seal, open or close meanwhile (gcm.c) */
  r->running = 1;
  if (napi_queue_async_work(env, r->work) != napi_ok) {
    end_open(env, r);
    return fail(env, "could not start the reader");
  }
  return promise;
}
#endif /* _WIN32 */
