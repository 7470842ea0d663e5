/*
 * The floor of a container's stream in C (bench/pipeline.mjs compiles and runs it when a C
 * compiler and OpenSSL's headers are there): the same work as Pli's writer of format version 1,
 * read, AES-256-GCM per 64 KiB chunk (Pli's nonces), SHA-256 of the sealed bytes, write, with
 * no JavaScript, no event loop and no message between threads, only OpenSSL (the library Node
 * is built with) and system calls. It answers one question before anyone rewrites the stream in
 * C: how much of Pli's streaming time is its format's work, and how much the way it is done.
 * Not Pli's writer: no header, no manifest, no signature, no check; the key is zero.
 *
 *   floor LAYOUT INPUT OUTPUT [HASH]   ->  prints the seconds of the stream (process start excluded)
 *   HASH    an OpenSSL digest name, sha256 (format version 1's) by default; another (sha512-256,
 *           blake2b512...) says what a format on that hash would cost, on CPUs with or without
 *           SHA-NI (bench/README.md, "A CPU without SHA-NI")
 *   LAYOUT  one:      one thread reads, seals, hashes and writes each 1 MiB block;
 *           today:    one thread reads, seals and writes, a second hashes every block in order
 *                     (Pli's layout: one SHA-256 over the stream, on the second core);
 *           perblock: two threads, each reading, sealing, hashing and writing every other block
 *                     at its place (a format with one digest per block: bench/README.md);
 *           nohash:   one thread reads, seals and writes (what the SHA-256 costs, by difference);
 *           perblock8: as perblock, 8 blocks at a time hashed in AVX2 lanes (native/sha256x8.c;
 *                     x86-64 with AVX2);
 *           today8:   today's two threads, the second hashing each block's leaf, 8 blocks at a
 *                     time in AVX2 lanes (version 2 with version 1's threads: the least change
 *                     to native/stream.c);
 *           check8:   native/sha256x8.c against OpenSSL's SHA-256 on random messages (INPUT and
 *                     OUTPUT unused).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_PLAIN 65536
#define CHUNK_SEALED (CHUNK_PLAIN + 16)
#define BLOCK_CHUNKS 16 /* 1 MiB blocks, as Pli's writer */
#define RING 8          /* sealed blocks between the sealing thread and the hashing one */
#define RING_LANES 16   /* the same for today8: two groups of 8, one sealed while the other is hashed */

static int in_fd, out_fd;
static long chunks, blocks;
static const uint8_t key[32];
static const EVP_MD *hash;                 /* the stream's digest (HASH, sha256 by default) */
static size_t hash_size;

static void die(const char *what) {
  perror(what);
  exit(1);
}

/* Reads block b (zero-padded to whole chunks); returns its chunk count. */
static long read_block(long b, uint8_t *plain) {
  long first = b * BLOCK_CHUNKS, n = chunks - first < BLOCK_CHUNKS ? chunks - first : BLOCK_CHUNKS;
  size_t want = (size_t)n * CHUNK_PLAIN, got = 0;
  while (got < want) {
    ssize_t r = pread(in_fd, plain + got, want - got, (off_t)first * CHUNK_PLAIN + (off_t)got);
    if (r < 0) die("read");
    if (r == 0) break;
    got += (size_t)r;
  }
  memset(plain + got, 0, want - got);
  return n;
}

/* Seals n chunks from chunk `first` with Pli's nonces (docs/format.md section 7). */
static void seal_block(EVP_CIPHER_CTX *ctx, long first, long n, const uint8_t *plain, uint8_t *out) {
  for (long c = 0; c < n; c++) {
    long index = first + c;
    uint8_t nonce[12] = {0};
    for (int i = 0; i < 8; i++) nonce[3 + i] = (uint8_t)((uint64_t)index >> (56 - 8 * i));
    nonce[11] = index == chunks - 1;
    int len = 0;
    uint8_t *sealed = out + c * CHUNK_SEALED;
    if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1 ||
        EVP_EncryptUpdate(ctx, sealed, &len, plain + c * CHUNK_PLAIN, CHUNK_PLAIN) != 1 ||
        EVP_EncryptFinal_ex(ctx, sealed + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, sealed + CHUNK_PLAIN) != 1)
      die("seal");
  }
}

static void write_at(const uint8_t *p, size_t n, off_t at) {
  while (n > 0) {
    ssize_t w = pwrite(out_fd, p, n, at);
    if (w <= 0) die("write");
    p += w, n -= (size_t)w, at += w;
  }
}

static EVP_CIPHER_CTX *new_sealer(void) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (ctx == NULL || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, NULL) != 1) die("cipher");
  return ctx;
}

static void *alloc(size_t n) {
  void *p = aligned_alloc(4096, n);
  if (p == NULL) die("memory");
  return p;
}

/* one / nohash / the sealing thread of today: blocks in order; `ring` set for today. */
static uint8_t *ring[RING_LANES];
static size_t ring_bytes[RING_LANES];
static long ring_size = RING;
static long sealed_count, hashed_count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t moved = PTHREAD_COND_INITIALIZER;

static void *hash_in_order(void *digest) {
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md, hash, NULL);
  for (long b = 0; b < blocks; b++) {
    pthread_mutex_lock(&lock);
    while (sealed_count <= b) pthread_cond_wait(&moved, &lock);
    pthread_mutex_unlock(&lock);
    EVP_DigestUpdate(md, ring[b % ring_size], ring_bytes[b % ring_size]);
    pthread_mutex_lock(&lock);
    hashed_count = b + 1;
    pthread_cond_broadcast(&moved);
    pthread_mutex_unlock(&lock);
  }
  EVP_DigestFinal_ex(md, digest, NULL);
  EVP_MD_CTX_free(md);
  return NULL;
}

#if defined(__x86_64__)
static void *hash_leaves_in_lanes(void *digest);
#endif

/* hash_there: 0 none, 1 one SHA-256 stream on a second thread (version 1), 2 the blocks' leaves
 * on a second thread, 8 at a time in lanes (today8: version 2 with version 1's threads). */
static void in_order(int hash_here, int hash_there) {
  EVP_CIPHER_CTX *ctx = new_sealer();
  uint8_t *plain = alloc((size_t)BLOCK_CHUNKS * CHUNK_PLAIN), digest[EVP_MAX_MD_SIZE];
  if (hash_there == 2) ring_size = RING_LANES;
  for (int i = 0; i < ring_size; i++) ring[i] = alloc((size_t)BLOCK_CHUNKS * CHUNK_SEALED);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md, hash, NULL);
  pthread_t hasher;
  void *(*hasher_work)(void *) = hash_in_order;
#if defined(__x86_64__)
  if (hash_there == 2) hasher_work = hash_leaves_in_lanes;
#endif
  if (hash_there && pthread_create(&hasher, NULL, hasher_work, digest) != 0) die("thread");
  for (long b = 0; b < blocks; b++) {
    long n = read_block(b, plain);
    if (hash_there) {
      pthread_mutex_lock(&lock);
      while (b - hashed_count >= ring_size) pthread_cond_wait(&moved, &lock);
      pthread_mutex_unlock(&lock);
    }
    uint8_t *out = ring[b % ring_size];
    seal_block(ctx, b * BLOCK_CHUNKS, n, plain, out);
    ring_bytes[b % ring_size] = (size_t)n * CHUNK_SEALED;
    write_at(out, ring_bytes[b % ring_size], (off_t)b * BLOCK_CHUNKS * CHUNK_SEALED);
    if (hash_here) EVP_DigestUpdate(md, out, ring_bytes[b % ring_size]);
    if (hash_there) {
      pthread_mutex_lock(&lock);
      sealed_count = b + 1;
      pthread_cond_broadcast(&moved);
      pthread_mutex_unlock(&lock);
    }
  }
  if (hash_there) pthread_join(hasher, NULL);
  else EVP_DigestFinal_ex(md, digest, NULL);
  EVP_MD_CTX_free(md);
  EVP_CIPHER_CTX_free(ctx);
}

/* perblock: thread `me` of two takes blocks me, me + 2, ... and hashes each on its own. */
static uint8_t (*block_digests)[EVP_MAX_MD_SIZE];

/* The per-block layouts' digest: the hash of the blocks' digests, in order. */
static void root_digest(void) {
  uint8_t digest[EVP_MAX_MD_SIZE];
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md, hash, NULL);
  for (long b = 0; b < blocks; b++) EVP_DigestUpdate(md, block_digests[b], hash_size);
  EVP_DigestFinal_ex(md, digest, NULL);
  EVP_MD_CTX_free(md);
}

static void *every_other(void *arg) {
  long me = (long)(intptr_t)arg;
  EVP_CIPHER_CTX *ctx = new_sealer();
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  uint8_t *plain = alloc((size_t)BLOCK_CHUNKS * CHUNK_PLAIN), *out = alloc((size_t)BLOCK_CHUNKS * CHUNK_SEALED);
  for (long b = me; b < blocks; b += 2) {
    long n = read_block(b, plain);
    seal_block(ctx, b * BLOCK_CHUNKS, n, plain, out);
    EVP_DigestInit_ex(md, hash, NULL);
    EVP_DigestUpdate(md, out, (size_t)n * CHUNK_SEALED);
    EVP_DigestFinal_ex(md, block_digests[b], NULL);
    write_at(out, (size_t)n * CHUNK_SEALED, (off_t)b * BLOCK_CHUNKS * CHUNK_SEALED);
  }
  EVP_MD_CTX_free(md);
  EVP_CIPHER_CTX_free(ctx);
  return NULL;
}

static void per_block(void) {
  block_digests = calloc((size_t)blocks, EVP_MAX_MD_SIZE);
  if (block_digests == NULL) die("memory");
  pthread_t other;
  if (pthread_create(&other, NULL, every_other, (void *)(intptr_t)1) != 0) die("thread");
  every_other((void *)(intptr_t)0);
  pthread_join(other, NULL);
  root_digest();
}

#if defined(__x86_64__)
/*
 * perblock8: per-block digests as perblock, but each of the two threads takes 8 blocks at a time
 * and hashes them side by side in the 8 lanes of AVX2 (native/sha256x8.c, the SHA-256 in
 * lanes of format version 2: docs/format.md section 11). x86-64 with AVX2 only.
 */
#include "../native/sha256x8.c"
#define LANES X8_LANES

/* today8's hashing thread: waits for 8 sealed blocks (or the last ones), hashes them in lanes,
 * and feeds their leaves in order into the digest. */
static void *hash_leaves_in_lanes(void *digest) {
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md, EVP_sha256(), NULL);
  for (long g = 0; g < blocks; g += LANES) {
    long end = g + LANES < blocks ? g + LANES : blocks;
    pthread_mutex_lock(&lock);
    while (sealed_count < end) pthread_cond_wait(&moved, &lock);
    pthread_mutex_unlock(&lock);
    const uint8_t *lanes[LANES];
    size_t lengths[LANES];
    uint8_t leaves[LANES][32];
    for (int l = 0; l < LANES; l++) {
      lanes[l] = ring[(g + l) % ring_size];
      lengths[l] = g + l < end ? ring_bytes[(g + l) % ring_size] : 0;
    }
    sha256x8(lanes, lengths, leaves);
    for (long b = g; b < end; b++) EVP_DigestUpdate(md, leaves[b - g], 32);
    pthread_mutex_lock(&lock);
    hashed_count = end;
    pthread_cond_broadcast(&moved);
    pthread_mutex_unlock(&lock);
  }
  EVP_DigestFinal_ex(md, digest, NULL);
  EVP_MD_CTX_free(md);
  return NULL;
}

static void *eight_at_a_time(void *arg) {
  long me = (long)(intptr_t)arg;
  EVP_CIPHER_CTX *ctx = new_sealer();
  uint8_t *plain = alloc((size_t)BLOCK_CHUNKS * CHUNK_PLAIN), *out[LANES];
  for (int l = 0; l < LANES; l++) out[l] = alloc((size_t)BLOCK_CHUNKS * CHUNK_SEALED);
  for (long g = me * LANES; g < blocks; g += 2 * LANES) {
    const uint8_t *lanes[LANES];
    size_t lengths[LANES];
    uint8_t digests[LANES][32];
    for (int l = 0; l < LANES; l++) {
      long b = g + l;
      lanes[l] = out[l];
      lengths[l] = 0;
      if (b >= blocks) continue;
      long n = read_block(b, plain);
      seal_block(ctx, b * BLOCK_CHUNKS, n, plain, out[l]);
      lengths[l] = (size_t)n * CHUNK_SEALED;
    }
    sha256x8(lanes, lengths, digests);
    for (int l = 0; l < LANES && g + l < blocks; l++) {
      memcpy(block_digests[g + l], digests[l], 32);
      write_at(out[l], lengths[l], (off_t)(g + l) * BLOCK_CHUNKS * CHUNK_SEALED);
    }
  }
  EVP_CIPHER_CTX_free(ctx);
  return NULL;
}

static void per_block_in_lanes(void) {
  block_digests = calloc((size_t)blocks, EVP_MAX_MD_SIZE);
  if (block_digests == NULL) die("memory");
  hash = EVP_sha256();
  hash_size = 32;
  pthread_t other;
  if (pthread_create(&other, NULL, eight_at_a_time, (void *)(intptr_t)1) != 0) die("thread");
  eight_at_a_time((void *)(intptr_t)0);
  pthread_join(other, NULL);
  root_digest();
}
#endif

#if defined(__x86_64__)
/* sha256x8 against OpenSSL's SHA-256 on random messages, 8 lanes of different lengths at
 * unaligned addresses: `short_rounds` of 0-399 bytes (every kind of tail; the first round has the
 * lengths at each edge of the padding, 0 1 55 56 63 64 119 300), then `long_rounds` of up to
 * 2 MiB. check8 runs 2 000 and 200, and prints the count; perblock8 and today8 run 200 and 0
 * before their clock starts. Returns 0, 1 on any mismatch, 3 without AVX2. */
static int check_lanes(long short_rounds, long long_rounds, int print) {
  if (!__builtin_cpu_supports("avx2")) return 3;
  static const size_t edges[LANES] = {0, 1, 55, 56, 63, 64, 119, 300};
  const size_t span = long_rounds ? (size_t)1 << 21 : 512;
  uint8_t *pool = alloc((size_t)LANES * span);
  srand(13);
  for (size_t i = 0; i < (size_t)LANES * span; i++) pool[i] = (uint8_t)rand();
  long bad = 0, rounds = short_rounds + long_rounds;
  for (long r = 0; r < rounds; r++) {
    const uint8_t *m[LANES];
    size_t len[LANES];
    uint8_t d[LANES][32], e[32];
    for (int l = 0; l < LANES; l++) {
      len[l] = r == 0 ? edges[l] : r < short_rounds ? (size_t)(rand() % 400) : (size_t)(rand() % (span - 64));
      m[l] = pool + (size_t)l * span + (size_t)(rand() % 64);
    }
    sha256x8(m, len, d);
    for (int l = 0; l < LANES; l++) {
      EVP_Digest(m[l], len[l], e, NULL, EVP_sha256(), NULL);
      if (memcmp(e, d[l], 32) != 0) bad++;
    }
  }
  if (print) printf("%ld mismatches of %ld messages\n", bad, rounds * LANES);
  free(pool);
  return bad != 0;
}
#endif

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: floor one|today|perblock|nohash INPUT OUTPUT [HASH]\n");
    return 2;
  }
  hash = EVP_get_digestbyname(argc == 5 ? argv[4] : "sha256");
  if (hash == NULL) {
    fprintf(stderr, "floor: unknown digest %s\n", argv[4]);
    return 2;
  }
  hash_size = (size_t)EVP_MD_get_size(hash);
#if defined(__x86_64__)
  if (strcmp(argv[1], "check8") == 0) return check_lanes(2000, 200, 1);
  if (strcmp(argv[1], "perblock8") == 0 || strcmp(argv[1], "today8") == 0) {
    int checked = check_lanes(200, 0, 0);
    if (checked == 3) fprintf(stderr, "floor: no AVX2 on this CPU: not measured\n");
    if (checked == 1) fprintf(stderr, "floor: the lanes' SHA-256 differs from OpenSSL's\n");
    if (checked) return checked;
  }
#endif
  in_fd = open(argv[2], O_RDONLY);
  out_fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (in_fd < 0 || out_fd < 0) die("open");
  struct stat st;
  if (fstat(in_fd, &st) != 0) die("stat");
  chunks = st.st_size == 0 ? 1 : (st.st_size + CHUNK_PLAIN - 1) / CHUNK_PLAIN;
  blocks = (chunks + BLOCK_CHUNKS - 1) / BLOCK_CHUNKS;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (strcmp(argv[1], "one") == 0) in_order(1, 0);
  else if (strcmp(argv[1], "today") == 0) in_order(0, 1);
  else if (strcmp(argv[1], "nohash") == 0) in_order(0, 0);
  else if (strcmp(argv[1], "perblock") == 0) per_block();
#if defined(__x86_64__)
  else if (strcmp(argv[1], "perblock8") == 0) per_block_in_lanes();
  else if (strcmp(argv[1], "today8") == 0) in_order(0, 2);
#endif
  else {
    fprintf(stderr, "floor: layout %s unknown on this machine\n", argv[1]);
    return 2;
  }
  if (close(out_fd) != 0) die("close");
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("%.4f\n", (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
  return 0;
}
