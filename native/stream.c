/*
 * The writer's stream of a container whose payload comes from files (docs/format.md sections 5
 * and 7): the work of sealStream's loop (electron/core/container/seal.ts) done here, with no
 * JavaScript, event loop or message between threads in the way. Two layouts, the same bytes:
 * - workers (format version 2 where the leaves are hashed one at a time, a CPU with SHA-NI): one
 *   of libuv's pool threads and a thread of its own take the 1 MiB blocks in turn (two at a time
 *   where digest_pairs says so); each reads its blocks' plaintext with pread, seals their 64 KiB
 *   chunks with a copy of gcm.c's context, hashes each sealed block into its leaf (digest.c; two
 *   leaves together, sha256x2.c) and writes them at their place with pwrite; the leaves join the
 *   signature's digest in the blocks' order, whichever worker finishes first. Both cores then
 *   share every kind of work, where the in-order layout left the sealing thread with the reads,
 *   the cipher and the writes, and the hashing thread with less than half of that
 *   (bench/README.md, "Both cores seal" and "Two leaves at once");
 * - in order (version 1, version 2's leaves in AVX2 lanes, an output that cannot take pwrite, or
 *   PLI_SEAL_WORKERS=1): one pool thread reads, seals and appends each block; a thread of its own
 *   hashes them in order (digest.c: version 1's SHA-256 over the bytes, or version 2's leaves).
 *   With the lanes (a CPU without SHA-NI) that thread takes 8 sealed blocks at a time, and the
 *   ring holds 16 so that the sealer fills one group while the other is hashed.
 * The JavaScript path makes the same bytes (test/unit/stream-seal.test.ts compares them); this one
 * is faster on two cores (bench/README.md, "the floor in C").
 *
 * It implements no cryptography of its own: AES-GCM is OpenSSL's, as in gcm.c; SHA-256 is
 * OpenSSL's, or sha256x8.c's or sha256x2.c's plain SHA-256 (digest.c).
 *
 * Invariants:
 * - every argument is checked before any work: the chunk count must be the one the sizes give,
 *   each size a whole number of bytes; a wrong call throws and touches nothing;
 * - each block's plaintext is read with pread from where the stream's layout puts it (the prefix,
 *   then each file from 0 to the size given and no further, then zeros); a file shorter than its
 *   size stops the stream (the caller names it);
 * - the sealed bytes go where the output's offset was when the stream started, block after block
 *   (write() in order, or pwrite at each block's place), and the output's offset ends after the
 *   last one, so that the caller's next write through its own handle follows them. The workers
 *   run only on an output that seeks and does not append (O_APPEND would put each pwrite at the
 *   end, in whatever order the blocks come);
 * - the stream stops at the next block once control[0] is set (the caller's unlock failed): what
 *   was written is the caller's to delete, as after any failure;
 * - the first failure in the stream's order is the one reported: no block after it is taken;
 * - the digest covers exactly the sealed bytes written, in order: in order, a ring slot is sealed
 *   again only once the hashing thread is done with the block it held (b - hashed_blocks <
 *   ring_size); with the workers, a block's leaf is hashed from the very buffer that is then
 *   written at that block's place (two blocks taken together are consecutive, the first whole,
 *   so one pwrite puts both), and the leaves join the root by block number, each once;
 * - the plaintext buffer and the copy of the manifest's prefix are wiped before they are freed.
 */
/* POSIX only (pread, pwrite, pthreads): a Windows build leaves it out, and seal.ts streams in JavaScript. */
#ifndef _WIN32
#define _GNU_SOURCE
#include "gcm.h"
#include "digest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK_CHUNKS 16                     /* 1 MiB blocks, as the JavaScript writer's */
#define BLOCK_SEALED ((size_t)BLOCK_CHUNKS * CHUNK_SEALED)
#define RING 4                              /* sealed blocks the hashing thread may lag behind */
/* The same with the lanes: two groups of DIGEST_BATCH (12 measured ~2x slower without SHA-NI: the
 * sealer then waits for each group's hash). 12 MiB more than RING, so only when the lanes run. */
#define RING_LANES 16
/* With the lanes, while the caller's unlock runs (control[2] not set yet): one group, so that the
 * sealer waits for each group's hash. The unlock's Argon2id holds 64 MiB and the other core then;
 * the 8 slots left untouched keep 8 MiB off the process's peak (bench/README.md, "The writer's
 * ring while the key unlocks"). */
#define RING_NARROW DIGEST_BATCH
#define FLUSH_BYTES (32 * 1024 * 1024)      /* the output's writeback is started every 32 MiB */
#define WORKERS 2                           /* the workers' layout: one per core */
#define NONE UINT64_MAX
#define MAX_SIZE 9007199254740992.0         /* 2^53: sizes come as JavaScript numbers */

typedef enum { DONE = 0, SHORT, IO, STOPPED, MEMORY, CRYPTO } outcome;

typedef struct {
  gcm_context *gcm;
  napi_ref gcm_ref;
  uint8_t *prefix;
  size_t prefix_length;
  int32_t *fds;
  uint64_t *sizes;
  size_t sources;
  uint64_t chunks;
  int out_fd;
  uint8_t *hash_prefix;
  size_t hash_prefix_length;
  int version;           /* the format's, 1 or 2: what the digest covers (digest.c) */
  int lanes;             /* version 2's leaves in AVX2 lanes (digest_lanes, at the call) */
  int workers;           /* WORKERS: the workers' layout, where the output allows it; 1: in order */
  int pairs;             /* the workers take 2 blocks at a time and hash their leaves together (digest_pairs) */
  uint64_t *starts;      /* where each file begins in the plaintext stream */
  /* control[0]: stop asked (set by the caller); control[1]: blocks written (set here);
   * control[2], when the array has it: the caller's unlock is done, the full ring may be used. */
  int32_t *control;
  int32_t *widen;        /* &control[2], or NULL: the full ring from the start */
  napi_ref control_ref;

  /* The first failure in the stream's order, under the lock (failed_at): its block is `limit`. */
  outcome result;
  int error_number;
  const char *syscall;
  size_t failed_source;
  uint64_t limit;
  uint8_t digest[32];

  /* The workers' layout, under the lock: the next block to take (within LEAF_WINDOW of
   * hash.blocks, the leaves in the root), and how far the output's writeback was started. */
  off_t base;            /* the output's offset at block 0 */
  uint64_t next_block, flushed;

  /* Sealed blocks between this thread and the hashing one: ring_size of them in use (RING; with
   * the lanes, whose hashing thread takes `batch` = DIGEST_BATCH blocks at a time, RING_NARROW
   * until widened, then RING_LANES). run() allocates wide_size; a slot never used is never
   * touched, so the common case's memory stays low. */
  uint8_t *ring[RING_LANES];
  size_t ring_bytes[RING_LANES];
  int ring_size, batch;
  int wide_size;         /* the ring once widened: RING_LANES with the lanes, else RING */
  uint64_t blocks, sealed_blocks, hashed_blocks;
  int stop_hashing;
  /* The workers' writes to the output, one at a time: a waiter sleeps here instead of spinning
   * on the file's lock in the kernel (reader.c's write_lock says why). */
  pthread_mutex_t write_lock;
  pthread_mutex_t lock;
  pthread_cond_t moved;
  pli_digest hash;

  napi_deferred deferred;
  napi_async_work work;
} stream_job;

static napi_value fail(napi_env env, const char *message) {
  napi_throw_range_error(env, "ERR_PLI_STREAM", message);
  return NULL;
}

/* Keeps the failure of the earliest block (a worker may fail at a later block first), and wakes
 * whoever waits: no block from `limit` on is taken. */
static void failed_at(stream_job *j, uint64_t b, outcome what, int error_number, const char *syscall, size_t source) {
  pthread_mutex_lock(&j->lock);
  if (b < j->limit) {
    j->limit = b;
    j->result = what;
    j->error_number = error_number;
    j->syscall = syscall;
    j->failed_source = source;
    pthread_cond_broadcast(&j->moved);
  }
  pthread_mutex_unlock(&j->lock);
}

/* The first file that ends after `at` in the plaintext stream (files of size 0 end where they
 * start, so they are passed over), or j->sources past the last. The ends only grow: a binary
 * search. */
static size_t source_at(const stream_job *j, uint64_t at) {
  size_t low = 0, high = j->sources;
  while (low < high) {
    size_t middle = low + (high - low) / 2;
    if (j->starts[middle] + j->sizes[middle] <= at) low = middle + 1;
    else high = middle;
  }
  return low;
}

/* Fills `length` bytes of block b's plaintext: the prefix, the files in order, then zeros. */
static int fill(stream_job *j, uint64_t b, uint8_t *target, size_t length) {
  uint64_t at = b * BLOCK_CHUNKS * CHUNK_PLAIN;
  size_t offset = 0;
  if (at < j->prefix_length) {
    offset = j->prefix_length - at < length ? (size_t)(j->prefix_length - at) : length;
    memcpy(target, j->prefix + at, offset);
  }
  while (offset < length) {
    size_t s = source_at(j, at + offset);
    if (s >= j->sources) {
      memset(target + offset, 0, length - offset); /* padding to a whole chunk */
      return 1;
    }
    uint64_t position = at + offset - j->starts[s];
    uint64_t left = j->sizes[s] - position;
    size_t want = length - offset < left ? length - offset : (size_t)left;
    ssize_t got = pread(j->fds[s], target + offset, want, (off_t)position);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      failed_at(j, b, IO, errno, "read", 0);
      return 0;
    }
    if (got == 0) {
      failed_at(j, b, SHORT, 0, NULL, s);
      return 0;
    }
    offset += (size_t)got;
  }
  return 1;
}

/* Starts the disk writing [from, to) of the output while the next blocks are sealed; the caller's
 * final sync then has only the tail left (what seal.ts's datasync every 32 MiB does on the
 * JavaScript path). Linux only: elsewhere the final sync does it all. */
static void start_writeback(int fd, off_t from, off_t to) {
#ifdef __linux__
  if (to > from) sync_file_range(fd, from, to - from, SYNC_FILE_RANGE_WRITE);
#else
  (void)fd, (void)from, (void)to;
#endif
}

/* Writes block b's sealed bytes (with pairs, b's and the next): at the output's offset with
 * write() (in order, `at` < 0), or at `at` with pwrite (the workers). */
static int put(stream_job *j, uint64_t b, const uint8_t *bytes, size_t length, off_t at) {
  if (at >= 0) pthread_mutex_lock(&j->write_lock);
  int code = 0;
  while (length > 0) {
    ssize_t written = at < 0 ? write(j->out_fd, bytes, length) : pwrite(j->out_fd, bytes, length, at);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      code = written == 0 ? EIO : errno;
      break;
    }
    bytes += written;
    length -= (size_t)written;
    if (at >= 0) at += written;
  }
  if (at >= 0) pthread_mutex_unlock(&j->write_lock);
  if (code != 0) failed_at(j, b, IO, code, "write", 0);
  return code == 0;
}

/* The hashing thread: every sealed block, in order, into the signature's digest, `batch` blocks
 * at a time (or the last ones). An OpenSSL failure stays in the digest, which then gives no value
 * (digest_final): the stream fails as CRYPTO. */
static void *hash_blocks(void *arg) {
  stream_job *j = arg;
  for (uint64_t b = 0; b < j->blocks;) {
    uint64_t end = j->blocks - b > (uint64_t)j->batch ? b + (uint64_t)j->batch : j->blocks;
    pthread_mutex_lock(&j->lock);
    while (j->sealed_blocks < end && !j->stop_hashing) pthread_cond_wait(&j->moved, &j->lock);
    int stop = j->sealed_blocks < end; /* stopped early: the digest will not be used */
    /* Read under the lock: the sealer widens the ring only once every block sealed is hashed. */
    uint64_t slots = (uint64_t)j->ring_size;
    pthread_mutex_unlock(&j->lock);
    if (stop) break;
    const uint8_t *blocks[DIGEST_BATCH];
    size_t lengths[DIGEST_BATCH];
    for (uint64_t k = b; k < end; k++) {
      blocks[k - b] = j->ring[k % slots];
      lengths[k - b] = j->ring_bytes[k % slots];
    }
    digest_blocks(&j->hash, blocks, lengths, (int)(end - b));
    pthread_mutex_lock(&j->lock);
    j->hashed_blocks = end;
    pthread_cond_broadcast(&j->moved);
    pthread_mutex_unlock(&j->lock);
    b = end;
  }
  return NULL;
}

static int seal_chunks(stream_job *j, EVP_CIPHER_CTX *ctx, uint64_t first, uint64_t count, const uint8_t *plain, uint8_t *out) {
  for (uint64_t c = 0; c < count; c++) {
    uint64_t index = first + c;
    uint8_t nonce[NONCE_BYTES];
    chunk_nonce(index, index == j->chunks - 1, nonce);
    uint8_t *sealed = out + c * CHUNK_SEALED;
    int n = 0, m = 0;
    if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1 ||
        EVP_EncryptUpdate(ctx, sealed, &n, plain + c * CHUNK_PLAIN, CHUNK_PLAIN) != 1 || n != CHUNK_PLAIN ||
        EVP_EncryptFinal_ex(ctx, sealed + n, &m) != 1 || m != 0 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, sealed + CHUNK_PLAIN) != 1)
      return 0;
  }
  return 1;
}

/* The chunks of block b: 16, or what is left for the last one. */
static uint64_t chunks_of(const stream_job *j, uint64_t b) {
  uint64_t first = b * BLOCK_CHUNKS;
  return j->chunks - first < BLOCK_CHUNKS ? j->chunks - first : BLOCK_CHUNKS;
}

typedef struct {
  stream_job *j;
  int index;             /* 0: the pool thread; 1: the thread of its own */
  EVP_CIPHER_CTX *ctx;   /* a copy of the caller's context: one per thread */
  EVP_MD_CTX *leaf;
  uint8_t *plain, *sealed;
} worker;

/* A worker: takes the next block (with pairs, the next two) until none is left or a block before
 * it failed; reads, seals, hashes and writes it at its place, then puts its leaf, and every leaf
 * that waited for it, into the root in order. Two blocks taken together are consecutive, so the
 * first is whole: they are written with one pwrite. An OpenSSL failure in the root stays in the
 * digest, which then gives no value (digest_final): the stream fails as CRYPTO. */
static void *work_blocks(void *arg) {
  worker *w = arg;
  stream_job *j = w->j;
#ifdef __linux__
  if (w->index > 0) pthread_setname_np(pthread_self(), "pli-seal");
#endif
  const uint64_t most = j->pairs ? 2 : 1;
  for (;;) {
    pthread_mutex_lock(&j->lock);
    /* Every block taken stays within LEAF_WINDOW of the root's next one. */
    while (j->next_block < j->blocks && j->next_block < j->limit && j->next_block + most - 1 - j->hash.blocks >= LEAF_WINDOW)
      pthread_cond_wait(&j->moved, &j->lock);
    uint64_t b = j->next_block, take = 0;
    if (b < j->blocks && b < j->limit) {
      take = j->blocks - b < most ? j->blocks - b : most;
      if (b + take > j->limit) take = j->limit - b;
      j->next_block += take;
    }
    pthread_mutex_unlock(&j->lock);
    if (take == 0) break;
    if (__atomic_load_n(&j->control[0], __ATOMIC_ACQUIRE) != 0) {
      failed_at(j, b, STOPPED, 0, NULL, 0);
      break;
    }
    size_t bytes[2] = {0, 0};
    uint8_t leaves[2][32];
    int ok = 1;
    for (uint64_t k = 0; ok && k < take; k++) {
      uint64_t count = chunks_of(j, b + k);
      bytes[k] = (size_t)count * CHUNK_SEALED;
      if (!fill(j, b + k, w->plain, (size_t)count * CHUNK_PLAIN)) ok = 0; /* fill says why */
      else if (!seal_chunks(j, w->ctx, (b + k) * BLOCK_CHUNKS, count, w->plain, w->sealed + k * BLOCK_SEALED)) {
        failed_at(j, b + k, CRYPTO, 0, NULL, 0);
        ok = 0;
      }
    }
    if (!ok) break;
    if (take == 2 ? !digest_leaf_pair(w->sealed, bytes[0], w->sealed + BLOCK_SEALED, bytes[1], leaves)
                  : !digest_leaf(w->leaf, w->sealed, bytes[0], leaves[0])) {
      failed_at(j, b, CRYPTO, 0, NULL, 0);
      break;
    }
    if (!put(j, b, w->sealed, bytes[0] + bytes[1], j->base + (off_t)(b * BLOCK_SEALED))) break;
    uint64_t from = 0, to = 0;
    pthread_mutex_lock(&j->lock);
    for (uint64_t k = 0; k < take; k++) digest_leaf_at(&j->hash, b + k, leaves[k]);
    /* The blocks in the root are written too, one after the other from the first. */
    uint64_t fed = j->hash.blocks;
    uint64_t written = fed == j->blocks ? j->chunks * CHUNK_SEALED : fed * BLOCK_SEALED;
    if (written - j->flushed >= FLUSH_BYTES) {
      from = j->flushed;
      to = j->flushed = written;
    }
    __atomic_store_n(&j->control[1], (int32_t)fed, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&j->moved);
    pthread_mutex_unlock(&j->lock);
    start_writeback(j->out_fd, j->base + (off_t)from, j->base + (off_t)to);
  }
  return NULL;
}

static void run_in_order(stream_job *j) {
  uint8_t *plain = malloc((size_t)BLOCK_CHUNKS * CHUNK_PLAIN);
  int ring_ok = 1;
  /* Every slot of the wide ring: a slot not used yet is not touched, so not in memory. */
  for (int i = 0; i < j->wide_size; i++) ring_ok &= (j->ring[i] = malloc(BLOCK_SEALED)) != NULL;
  pthread_t hasher;
  if (plain == NULL || !ring_ok || !digest_init(&j->hash, j->version, j->lanes, j->hash_prefix, j->hash_prefix_length) ||
      pthread_create(&hasher, NULL, hash_blocks, j) != 0) {
    failed_at(j, 0, MEMORY, 0, NULL, 0);
    free(plain);
    return;
  }
  uint64_t written = 0, flushed = 0;
  for (uint64_t b = 0; b < j->blocks; b++) {
    if (__atomic_load_n(&j->control[0], __ATOMIC_ACQUIRE) != 0) {
      failed_at(j, b, STOPPED, 0, NULL, 0);
      break;
    }
    /* The unlock done: the full ring, from a block where both rings map it to slot 0 and once
     * every block before it is hashed (no slot in use then; the hashing thread's groups of 8 end
     * there, since wide_size is a multiple of the batch). */
    if (j->ring_size < j->wide_size && b % (uint64_t)j->wide_size == 0 && __atomic_load_n(j->widen, __ATOMIC_ACQUIRE) != 0) {
      pthread_mutex_lock(&j->lock);
      while (j->hashed_blocks < b) pthread_cond_wait(&j->moved, &j->lock);
      j->ring_size = j->wide_size;
      pthread_mutex_unlock(&j->lock);
    }
    uint64_t count = chunks_of(j, b);
    if (!fill(j, b, plain, (size_t)count * CHUNK_PLAIN)) break;
    pthread_mutex_lock(&j->lock);
    while (b - j->hashed_blocks >= (uint64_t)j->ring_size) pthread_cond_wait(&j->moved, &j->lock);
    pthread_mutex_unlock(&j->lock);
    uint8_t *out = j->ring[b % (uint64_t)j->ring_size];
    size_t bytes = (size_t)count * CHUNK_SEALED;
    if (!seal_chunks(j, j->gcm->ctx, b * BLOCK_CHUNKS, count, plain, out)) {
      failed_at(j, b, CRYPTO, 0, NULL, 0);
      break;
    }
    if (!put(j, b, out, bytes, -1)) break;
    written += bytes;
    if (j->base >= 0 && written - flushed >= FLUSH_BYTES) {
      start_writeback(j->out_fd, j->base + (off_t)flushed, j->base + (off_t)written);
      flushed = written;
    }
    pthread_mutex_lock(&j->lock);
    j->ring_bytes[b % (uint64_t)j->ring_size] = bytes;
    j->sealed_blocks = b + 1;
    pthread_cond_broadcast(&j->moved);
    pthread_mutex_unlock(&j->lock);
    __atomic_store_n(&j->control[1], (int32_t)(b + 1), __ATOMIC_RELEASE);
  }
  pthread_mutex_lock(&j->lock);
  j->stop_hashing = 1;
  pthread_cond_broadcast(&j->moved);
  pthread_mutex_unlock(&j->lock);
  pthread_join(hasher, NULL);
  if (j->result == DONE && !digest_final(&j->hash, j->digest)) j->result = CRYPTO;
  OPENSSL_cleanse(plain, (size_t)BLOCK_CHUNKS * CHUNK_PLAIN);
  free(plain);
}

static void run_workers(stream_job *j) {
  worker w[WORKERS];
  memset(w, 0, sizeof w);
  int ok = digest_init(&j->hash, j->version, 0, j->hash_prefix, j->hash_prefix_length);
  for (int i = 0; i < WORKERS; i++) {
    w[i].j = j;
    w[i].index = i;
    w[i].plain = malloc((size_t)BLOCK_CHUNKS * CHUNK_PLAIN);
    w[i].sealed = malloc((j->pairs ? 2 : 1) * BLOCK_SEALED);
    w[i].ctx = EVP_CIPHER_CTX_new();
    w[i].leaf = EVP_MD_CTX_new();
    ok &= w[i].plain != NULL && w[i].sealed != NULL && w[i].ctx != NULL && w[i].leaf != NULL &&
          EVP_CIPHER_CTX_copy(w[i].ctx, j->gcm->ctx) == 1;
  }
  if (!ok) {
    failed_at(j, 0, MEMORY, 0, NULL, 0);
  } else {
    /* A second thread that cannot start leaves the first to take every block alone. */
    pthread_t second;
    int started = pthread_create(&second, NULL, work_blocks, &w[1]) == 0;
    work_blocks(&w[0]);
    if (started) pthread_join(second, NULL);
  }
  /* With no failure every block was taken, written and put into the root; the caller's next
   * write goes after the last one. */
  if (j->result == DONE && j->hash.blocks != j->blocks) failed_at(j, j->hash.blocks, CRYPTO, 0, NULL, 0);
  if (j->result == DONE && lseek(j->out_fd, j->base + (off_t)(j->chunks * CHUNK_SEALED), SEEK_SET) < 0)
    failed_at(j, j->blocks, IO, errno, "lseek", 0);
  if (j->result == DONE && !digest_final(&j->hash, j->digest)) j->result = CRYPTO;
  for (int i = 0; i < WORKERS; i++) {
    if (w[i].plain != NULL) OPENSSL_cleanse(w[i].plain, (size_t)BLOCK_CHUNKS * CHUNK_PLAIN);
    free(w[i].plain);
    free(w[i].sealed);
    EVP_CIPHER_CTX_free(w[i].ctx); /* wipes its copy of the key */
    EVP_MD_CTX_free(w[i].leaf);
  }
}

static void run(stream_job *j) {
  j->base = lseek(j->out_fd, 0, SEEK_CUR);
  int flags = fcntl(j->out_fd, F_GETFL);
  /* pwrite needs an output that seeks, and that does not append. */
  if (j->workers > 1 && j->base >= 0 && flags >= 0 && !(flags & O_APPEND)) run_workers(j);
  else run_in_order(j);
}

static void execute(napi_env env, void *data) {
  (void)env;
  run((stream_job *)data);
}

static void job_free(napi_env env, stream_job *j) {
  context_done(j->gcm);
  if (j->gcm_ref != NULL) napi_delete_reference(env, j->gcm_ref);
  if (j->control_ref != NULL) napi_delete_reference(env, j->control_ref);
  if (j->work != NULL) napi_delete_async_work(env, j->work);
  digest_free(&j->hash);
  for (int i = 0; i < RING_LANES; i++) free(j->ring[i]);
  if (j->prefix != NULL) OPENSSL_cleanse(j->prefix, j->prefix_length);
  free(j->prefix);
  free(j->hash_prefix);
  free(j->fds);
  free(j->sizes);
  free(j->starts);
  pthread_mutex_destroy(&j->lock);
  pthread_mutex_destroy(&j->write_lock);
  pthread_cond_destroy(&j->moved);
  OPENSSL_cleanse(j->digest, sizeof j->digest);
  free(j);
}

static void complete(napi_env env, napi_status status, void *data) {
  stream_job *j = data;
  napi_value outcome_value;
  if (status != napi_ok) {
    napi_reject_deferred(env, j->deferred, error_of(env, "ERR_PLI_STREAM", "the stream did not run"));
  } else if (j->result == DONE) {
    void *copy;
    napi_create_buffer_copy(env, sizeof j->digest, j->digest, &copy, &outcome_value);
    napi_resolve_deferred(env, j->deferred, outcome_value);
  } else {
    static const char *codes[] = {"", "ERR_PLI_STREAM_SHORT", "ERR_PLI_STREAM_IO", "ERR_PLI_STREAM_STOPPED",
                                  "ERR_PLI_STREAM_MEMORY", "ERR_PLI_STREAM_CRYPTO"};
    static const char *messages[] = {"", "a file is shorter than its size", "a read or write failed",
                                     "stopped by the caller", "out of memory", "OpenSSL failed"};
    outcome_value = error_of(env, codes[j->result], messages[j->result]);
    if (j->result == SHORT) set_number(env, outcome_value, "source", (double)j->failed_source);
    if (j->result == IO) set_system_error(env, outcome_value, j->error_number, j->syscall);
    napi_reject_deferred(env, j->deferred, outcome_value);
  }
  job_free(env, j);
}

/* stream(context, prefix: Uint8Array, fds: Int32Array, sizes: Float64Array, chunks: number,
 *        outFd: number, hashPrefix: Uint8Array, control: Int32Array(2 or 3), version: 1 | 2)
 *        -> Promise<Buffer>
 * Resolves with the signature's digest of hashPrefix and the sealed chunks (digest.c: version 1,
 * SHA-256 of hashPrefix and every sealed chunk; version 2, SHA-256 of hashPrefix and the leaves of
 * the 16-chunk blocks); rejects with an Error whose code is ERR_PLI_STREAM_SHORT (.source), _IO
 * (.errno, .syscall), _STOPPED, _MEMORY or _CRYPTO. PLI_SHA256_LANES (digest_lanes),
 * PLI_SEAL_WORKERS and PLI_SHA256_PAIRS (digest_pairs) are read here.
 * With a third element, the stream uses a narrower ring until the caller sets it (RING_NARROW). */
napi_value seal_stream(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 9)
    return fail(env, "stream(context, prefix, fds, sizes, chunks, outFd, hashPrefix, control, version)");
  gcm_context *gcm = context_of(env, argv[0], 1);
  uint8_t *prefix, *hash_prefix;
  size_t prefix_length, hash_prefix_length, fd_count, size_count, control_count;
  int32_t *fds, *control;
  double *sizes, chunks_value, version;
  int32_t out_fd;
  if (gcm == NULL) return fail(env, "context: a sealing context");
  if (!bytes_of(env, argv[1], &prefix, &prefix_length)) return fail(env, "prefix: Uint8Array");
  if (!elements_of(env, argv[2], napi_int32_array, (void **)&fds, &fd_count)) return fail(env, "fds: Int32Array");
  if (!elements_of(env, argv[3], napi_float64_array, (void **)&sizes, &size_count) || size_count != fd_count)
    return fail(env, "sizes: Float64Array, one per fd");
  if (napi_get_value_double(env, argv[4], &chunks_value) != napi_ok) return fail(env, "chunks: number");
  if (napi_get_value_int32(env, argv[5], &out_fd) != napi_ok || out_fd < 0) return fail(env, "outFd: a file descriptor");
  if (!bytes_of(env, argv[6], &hash_prefix, &hash_prefix_length)) return fail(env, "hashPrefix: Uint8Array");
  if (!elements_of(env, argv[7], napi_int32_array, (void **)&control, &control_count) || control_count < 2 || control_count > 3)
    return fail(env, "control: Int32Array of 2 or 3");
  if (napi_get_value_double(env, argv[8], &version) != napi_ok || (version != 1 && version != 2))
    return fail(env, "version: 1 or 2");
  /* The chunk count must be the one the sizes give (seal.ts computes it the same way). */
  double total = (double)prefix_length;
  for (size_t i = 0; i < fd_count; i++) {
    if (fds[i] < 0) return fail(env, "fds: file descriptors");
    if (!(sizes[i] >= 0 && sizes[i] <= MAX_SIZE) || sizes[i] != (double)(uint64_t)sizes[i]) return fail(env, "sizes: whole numbers of bytes");
    total += sizes[i];
    if (total > MAX_SIZE) return fail(env, "sizes: too large");
  }
  uint64_t expected = total == 0 ? 1 : ((uint64_t)total + CHUNK_PLAIN - 1) / CHUNK_PLAIN;
  if (!(chunks_value >= 1 && chunks_value <= MAX_SIZE) || (uint64_t)chunks_value != expected || chunks_value != (double)(uint64_t)chunks_value)
    return fail(env, "chunks: the count the sizes give");
  uint64_t blocks = (expected + BLOCK_CHUNKS - 1) / BLOCK_CHUNKS;
  if (blocks > INT32_MAX) return fail(env, "chunks: too many");

  stream_job *j = calloc(1, sizeof *j);
  if (j == NULL) return fail(env, "out of memory");
  pthread_mutex_init(&j->lock, NULL);
  pthread_mutex_init(&j->write_lock, NULL);
  pthread_cond_init(&j->moved, NULL);
  j->gcm = gcm;
  j->prefix = copy_of(prefix, prefix_length);
  j->prefix_length = prefix_length;
  j->hash_prefix = copy_of(hash_prefix, hash_prefix_length);
  j->hash_prefix_length = hash_prefix_length;
  j->version = (int)version;
  j->lanes = j->version == 2 && digest_lanes();
  j->batch = j->lanes ? DIGEST_BATCH : 1;
  j->wide_size = j->lanes ? RING_LANES : RING;
  /* Version 2's leaves one at a time can be hashed by whichever thread sealed the block: the
   * workers. PLI_SEAL_WORKERS=1 keeps the in-order layout (tests, and bench/README.md's pairs). */
  const char *workers = getenv("PLI_SEAL_WORKERS");
  j->workers = j->version == 2 && !j->lanes && (workers == NULL || strcmp(workers, "1") != 0) ? WORKERS : 1;
  j->pairs = j->workers > 1 && digest_pairs();
  j->limit = NONE;
  /* Narrow until the caller widens (control[2]), when it can: only the lanes' ring is wider. */
  j->widen = control_count >= 3 ? &control[2] : NULL;
  j->ring_size = j->lanes && j->widen != NULL ? RING_NARROW : j->wide_size;
  j->fds = malloc((fd_count > 0 ? fd_count : 1) * sizeof *j->fds);
  j->sizes = malloc((fd_count > 0 ? fd_count : 1) * sizeof *j->sizes);
  j->starts = malloc((fd_count > 0 ? fd_count : 1) * sizeof *j->starts);
  j->sources = fd_count;
  j->chunks = expected;
  j->blocks = blocks;
  j->out_fd = out_fd;
  j->control = control;
  napi_value promise, name;
  if (j->prefix == NULL || j->hash_prefix == NULL || j->fds == NULL || j->sizes == NULL || j->starts == NULL) {
    job_free(env, j);
    return fail(env, "out of memory");
  }
  uint64_t start = prefix_length;
  for (size_t i = 0; i < fd_count; i++) {
    j->fds[i] = fds[i];
    j->sizes[i] = (uint64_t)sizes[i];
    j->starts[i] = start;
    start += j->sizes[i];
  }
  control[0] = 0;
  control[1] = 0;
  gcm->busy = 1; /* until job_free: no seal, open or close meanwhile (gcm.c) */
  /* The context and the control array stay alive while the pool thread uses them. */
  if (napi_create_reference(env, argv[0], 1, &j->gcm_ref) != napi_ok ||
      napi_create_reference(env, argv[7], 1, &j->control_ref) != napi_ok ||
      napi_create_promise(env, &j->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "pli-seal-stream", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute, complete, j, &j->work) != napi_ok ||
      napi_queue_async_work(env, j->work) != napi_ok) {
    job_free(env, j);
    return fail(env, "could not start the stream");
  }
  return promise;
}

#endif /* _WIN32 */
