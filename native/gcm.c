/*
 * AES-256-GCM over the 64 KiB chunks of a Pli container (docs/format.md section 7), writing into
 * the caller's buffers. Node's Cipher API makes one object and one new output buffer per chunk,
 * which costs more than the AES itself here (bench/README.md, "A last look at the floor"); this
 * calls the same OpenSSL that Node is built with, through the symbols Node exports for addons.
 * It implements no cryptography of its own: key schedule, CTR and GHASH are OpenSSL's.
 *
 * Invariants:
 * - every length is checked here before any byte is read or written, and the output may not
 *   overlap the input or the nonces: a wrong call throws and touches nothing;
 * - open() releases no plaintext of a chunk whose tag fails: on failure the whole output given
 *   is zeroed before returning, and the caller gets the failing chunk's position;
 * - the key lives only in the OpenSSL context, which EVP_CIPHER_CTX_free wipes when the context
 *   object is collected or closed.
 */
#include "gcm.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static napi_value fail(napi_env env, const char *message) {
  napi_throw_range_error(env, "ERR_PLI_GCM", message);
  return NULL;
}

void context_free(gcm_context *c) {
  if (c->ctx != NULL) EVP_CIPHER_CTX_free(c->ctx);
  c->ctx = NULL;
}

void context_done(gcm_context *c) {
  if (c == NULL || !c->busy) return;
  c->busy = 0;
  if (c->close_when_done) context_free(c);
}

void chunk_nonce(uint64_t index, int last, uint8_t nonce[NONCE_BYTES]) {
  memset(nonce, 0, NONCE_BYTES);
  for (int i = 0; i < 8; i++) nonce[3 + i] = (uint8_t)(index >> (56 - 8 * i));
  nonce[11] = last ? 1 : 0;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  gcm_context *c = (gcm_context *)data;
  context_free(c);
  free(c);
}

int elements_of(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *count) {
  bool is_typed = false;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  if (napi_get_typedarray_info(env, value, &type, count, data, &buffer, &offset) != napi_ok) return 0;
  return type == want;
}

int bytes_of(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  return elements_of(env, value, napi_uint8_array, (void **)data, length);
}

napi_value error_of(napi_env env, const char *code, const char *message) {
  napi_value code_value, message_value, error;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &message_value);
  napi_create_error(env, code_value, message_value, &error);
  return error;
}

void set_number(napi_env env, napi_value object, const char *name, double value) {
  napi_value number;
  napi_create_double(env, value, &number);
  napi_set_named_property(env, object, name, number);
}

void set_system_error(napi_env env, napi_value error, int error_number, const char *syscall) {
  set_number(env, error, "errno", (double)error_number);
  napi_value name;
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &name);
  napi_set_named_property(env, error, "syscall", name);
}

uint8_t *copy_of(const uint8_t *bytes, size_t length) {
  uint8_t *copy = malloc(length > 0 ? length : 1);
  if (copy != NULL) memcpy(copy, bytes, length);
  return copy;
}

gcm_context *context_of(napi_env env, napi_value value, int encrypt) {
  gcm_context *c = NULL;
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external) return NULL;
  if (napi_get_value_external(env, value, (void **)&c) != napi_ok || c == NULL) return NULL;
  if (c->ctx == NULL || c->encrypt != encrypt || c->busy) return NULL;
  return c;
}

/* context(key: Uint8Array(32), encrypt: boolean) -> context */
static napi_value make_context(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) return fail(env, "context(key, encrypt)");
  uint8_t *key;
  size_t key_length;
  bool encrypt;
  if (!bytes_of(env, argv[0], &key, &key_length) || key_length != KEY_BYTES) return fail(env, "key: 32 bytes");
  if (napi_get_value_bool(env, argv[1], &encrypt) != napi_ok) return fail(env, "encrypt: boolean");
  gcm_context *c = calloc(1, sizeof(gcm_context));
  if (c == NULL) return fail(env, "out of memory");
  c->encrypt = encrypt ? 1 : 0;
  c->ctx = EVP_CIPHER_CTX_new();
  int ok = c->ctx != NULL &&
           (encrypt ? EVP_EncryptInit_ex(c->ctx, EVP_aes_256_gcm(), NULL, key, NULL)
                    : EVP_DecryptInit_ex(c->ctx, EVP_aes_256_gcm(), NULL, key, NULL)) == 1;
  if (!ok) {
    context_free(c);
    free(c);
    return fail(env, "OpenSSL refused the key");
  }
  napi_value external;
  if (napi_create_external(env, c, finalize, NULL, &external) != napi_ok) {
    context_free(c);
    free(c);
    return fail(env, "external");
  }
  return external;
}

/* close(context): wipes the key now rather than at collection. */
static napi_value close_context(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) return fail(env, "close(context)");
  gcm_context *c = NULL;
  if (napi_get_value_external(env, argv[0], (void **)&c) != napi_ok || c == NULL) return fail(env, "context");
  if (c->busy) c->close_when_done = 1; /* a stream's pool thread still uses it: freed at its end */
  else context_free(c);
  return NULL;
}

/* Reads (context, input, nonces, output) and checks the sizes: count chunks, one nonce each. */
static int chunk_args(napi_env env, napi_callback_info info, int encrypt, gcm_context **c, uint8_t **in,
                      uint8_t **nonces, uint8_t **out, size_t *count) {
  size_t argc = 4;
  napi_value argv[4];
  size_t in_length, nonce_length, out_length;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4) return 0;
  *c = context_of(env, argv[0], encrypt);
  if (*c == NULL) return 0;
  if (!bytes_of(env, argv[1], in, &in_length) || !bytes_of(env, argv[2], nonces, &nonce_length) ||
      !bytes_of(env, argv[3], out, &out_length))
    return 0;
  if (nonce_length == 0 || nonce_length % NONCE_BYTES != 0) return 0;
  *count = nonce_length / NONCE_BYTES;
  size_t in_chunk = encrypt ? CHUNK_PLAIN : CHUNK_SEALED;
  size_t out_chunk = encrypt ? CHUNK_SEALED : CHUNK_PLAIN;
  if (*count > SIZE_MAX / CHUNK_SEALED || in_length != *count * in_chunk || out_length < *count * out_chunk) return 0;
  /* Input, nonces and output must not share memory: OpenSSL would read what it has just written. */
  uintptr_t in_start = (uintptr_t)*in, out_start = (uintptr_t)*out, nonce_start = (uintptr_t)*nonces;
  if (in_start < out_start + out_length && out_start < in_start + in_length) return 0;
  if (nonce_start < out_start + out_length && out_start < nonce_start + nonce_length) return 0;
  return 1;
}

/* seal(context, plain: count × 64 KiB, nonces: count × 12, out: ≥ count × (64 KiB + 16)) */
static napi_value seal(napi_env env, napi_callback_info info) {
  gcm_context *c;
  uint8_t *plain, *nonces, *out;
  size_t count;
  if (!chunk_args(env, info, 1, &c, &plain, &nonces, &out, &count)) return fail(env, "seal(context, plain, nonces, out): wrong sizes");
  for (size_t i = 0; i < count; i++) {
    uint8_t *sealed = out + i * CHUNK_SEALED;
    int n = 0, m = 0;
    if (EVP_EncryptInit_ex(c->ctx, NULL, NULL, NULL, nonces + i * NONCE_BYTES) != 1 ||
        EVP_EncryptUpdate(c->ctx, sealed, &n, plain + i * CHUNK_PLAIN, CHUNK_PLAIN) != 1 || n != CHUNK_PLAIN ||
        EVP_EncryptFinal_ex(c->ctx, sealed + n, &m) != 1 || m != 0 ||
        EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, sealed + CHUNK_PLAIN) != 1) {
      OPENSSL_cleanse(out, count * CHUNK_SEALED);
      return fail(env, "OpenSSL failed to seal");
    }
  }
  return NULL;
}

/* open(context, sealed: count × (64 KiB + 16), nonces: count × 12, out: ≥ count × 64 KiB)
 * -> -1 when every tag verifies, else the position of the first chunk that fails (out zeroed). */
static napi_value open_chunks(napi_env env, napi_callback_info info) {
  gcm_context *c;
  uint8_t *sealed, *nonces, *out;
  size_t count;
  if (!chunk_args(env, info, 0, &c, &sealed, &nonces, &out, &count)) return fail(env, "open(context, sealed, nonces, out): wrong sizes");
  int64_t bad = -1;
  for (size_t i = 0; i < count; i++) {
    const uint8_t *chunk = sealed + i * CHUNK_SEALED;
    uint8_t tag[TAG_BYTES];
    memcpy(tag, chunk + CHUNK_PLAIN, TAG_BYTES);
    int n = 0, m = 0;
    if (EVP_DecryptInit_ex(c->ctx, NULL, NULL, NULL, nonces + i * NONCE_BYTES) != 1 ||
        EVP_DecryptUpdate(c->ctx, out + i * CHUNK_PLAIN, &n, chunk, CHUNK_PLAIN) != 1 || n != CHUNK_PLAIN ||
        EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, tag) != 1 ||
        EVP_DecryptFinal_ex(c->ctx, out + i * CHUNK_PLAIN + n, &m) != 1 || m != 0) {
      bad = (int64_t)i;
      break;
    }
  }
  if (bad >= 0) OPENSSL_cleanse(out, count * CHUNK_PLAIN);
  napi_value result;
  napi_create_int64(env, bad, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
    {"context", NULL, make_context, NULL, NULL, NULL, napi_enumerable, NULL},
    {"close", NULL, close_context, NULL, NULL, NULL, napi_enumerable, NULL},
    {"seal", NULL, seal, NULL, NULL, NULL, napi_enumerable, NULL},
    {"open", NULL, open_chunks, NULL, NULL, NULL, napi_enumerable, NULL},
    {"chainCheck", NULL, chain_check, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sha256Lanes", NULL, sha256_lanes, NULL, NULL, NULL, napi_enumerable, NULL},
    {"digestLanes", NULL, digest_lanes_value, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sha256Pair", NULL, sha256_pair, NULL, NULL, NULL, napi_enumerable, NULL},
    {"digestPairs", NULL, digest_pairs_value, NULL, NULL, NULL, napi_enumerable, NULL},
#ifndef _WIN32
    {"stream", NULL, seal_stream, NULL, NULL, NULL, napi_enumerable, NULL},
    {"readerStart", NULL, reader_start, NULL, NULL, NULL, napi_enumerable, NULL},
    {"readerOpen", NULL, reader_open, NULL, NULL, NULL, napi_enumerable, NULL},
    {"readerClose", NULL, reader_close, NULL, NULL, NULL, napi_enumerable, NULL},
    {"readerPrehashed", NULL, reader_prehashed, NULL, NULL, NULL, napi_enumerable, NULL},
#endif
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok) return NULL;
  return exports;
}
