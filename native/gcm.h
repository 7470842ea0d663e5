/* What gcm.c (the chunk cipher), stream.c (the writer's stream), reader.c (the reader's) and
 * digest.c (their signature's digest) share. */
#ifndef PLI_GCM_H
#define PLI_GCM_H

#include <node_api.h>
#include <openssl/evp.h>
#include <stdint.h>

/* The chunk layout of docs/format.md section 7 (electron/core/container/format.ts has the same). */
#define CHUNK_PLAIN 65536
#define TAG_BYTES 16
#define CHUNK_SEALED (CHUNK_PLAIN + TAG_BYTES)
#define NONCE_BYTES 12
#define KEY_BYTES 32

typedef struct {
  EVP_CIPHER_CTX *ctx;
  int encrypt;
  /* A stream (stream.c, reader.c) is using ctx on its threads: context_of refuses it meanwhile,
   * and a close() then waits for the stream's end (close_when_done, context_done). Touched on the
   * JavaScript thread only. */
  int busy;
  int close_when_done;
} gcm_context;

/* Wipes and frees the OpenSSL context (the key with it). */
void context_free(gcm_context *c);
/* A stream is done with the context (it set `busy`): usable again, or freed now if a close()
 * came meanwhile. JavaScript thread only. */
void context_done(gcm_context *c);
/* The nonce of chunk `index` (docs/format.md 7: 0^24 || index (64 bits) || last (8 bits)). */
void chunk_nonce(uint64_t index, int last, uint8_t nonce[NONCE_BYTES]);

/* A typed array's elements and count when it is of type `want` (0 for anything else). */
int elements_of(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *count);
/* A Uint8Array's bytes (0 for anything else). */
int bytes_of(napi_env env, napi_value value, uint8_t **data, size_t *length);
/* An Error with that code and message (not thrown). */
napi_value error_of(napi_env env, const char *code, const char *message);
/* Sets a number property. */
void set_number(napi_env env, napi_value object, const char *name, double value);
/* Sets `errno` and `syscall` (a failed system call's, as the caller gives them). */
void set_system_error(napi_env env, napi_value error, int error_number, const char *syscall);
/* A malloc'ed copy (NULL when out of memory). */
uint8_t *copy_of(const uint8_t *bytes, size_t length);
/* The open context of that direction behind an external made by context(), not in use by a
 * stream (NULL otherwise). */
gcm_context *context_of(napi_env env, napi_value value, int encrypt);

napi_value chain_check(napi_env env, napi_callback_info info);
/* digest.c: the lanes' SHA-256, and whether a stream would use them (tests). */
napi_value sha256_lanes(napi_env env, napi_callback_info info);
napi_value sha256_pair(napi_env env, napi_callback_info info);
napi_value digest_pairs_value(napi_env env, napi_callback_info info);
napi_value digest_lanes_value(napi_env env, napi_callback_info info);
#ifndef _WIN32
napi_value seal_stream(napi_env env, napi_callback_info info);
napi_value reader_start(napi_env env, napi_callback_info info);
napi_value reader_open(napi_env env, napi_callback_info info);
napi_value reader_close(napi_env env, napi_callback_info info);
napi_value reader_prehashed(napi_env env, napi_callback_info info);
#endif

#endif
