/*
 * The audit chain of one page of events (docs/audit.md section 2; electron/core/services/
 * audit-segment.ts lays the page out and has the same walk in JavaScript): every event's stored
 * canonical bytes then its stored 32-byte hash, back to back, and the canonical lengths. Each
 * event must hash, SHA-256(previous stored hash || canonical bytes), to its stored hash. In C
 * the walk costs the hashing alone: in JavaScript, a call, a string and a compare per event made
 * it ~3 µs an event, most of a million-event verification (bench/README.md).
 *
 * It implements no cryptography of its own: SHA-256 is OpenSSL's.
 *
 * Invariants:
 * - every argument is checked before any work; a wrong call throws and reads nothing;
 * - the lengths must be decimal numbers separated by commas, at most as many as `ends` holds:
 *   otherwise nothing is verified (result[0] = -1) and the caller reports the page as broken;
 * - nothing is read outside `bytes`: an event whose canonical bytes and hash do not fit in what
 *   is left stops the walk there, as a mismatch does;
 * - the walk stops at the first event that does not verify: result[1] counts those before it.
 */
#include "gcm.h"

#include <openssl/crypto.h>
#include <stdlib.h>

#define HASH_BYTES 32

static napi_value fail(napi_env env, const char *message) {
  napi_throw_range_error(env, "ERR_PLI_CHAIN", message);
  return NULL;
}

/* Parses "12,345,6" into lengths (at most `room`); returns the count, -1 when malformed. */
static double parse_lengths(const char *text, size_t length, uint64_t *lengths, size_t room) {
  size_t count = 0, i = 0;
  if (length == 0) return 0;
  while (i <= length) {
    uint64_t value = 0;
    size_t digits = 0;
    while (i < length && text[i] >= '0' && text[i] <= '9') {
      if (digits == 15) return -1; /* far past any page */
      value = value * 10 + (uint64_t)(text[i] - '0');
      digits++;
      i++;
    }
    if (digits == 0 || count == room) return -1;
    lengths[count++] = value;
    if (i == length) break;
    if (text[i] != ',') return -1;
    i++;
  }
  return (double)count;
}

/* chainCheck(bytes: Uint8Array, lengths: string, previous: Uint8Array(32), ends: Uint32Array,
 *            result: Float64Array(3)) -> undefined
 * result[0]: the events the lengths list (-1: malformed); result[1]: the events verified, in
 * order, before the first that does not; result[2]: the offset just after the last verified one.
 * ends[i]: where event i's stored hash starts, for each verified event. */
napi_value chain_check(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5)
    return fail(env, "chainCheck(bytes, lengths, previous, ends, result)");
  uint8_t *bytes, *previous;
  size_t byte_count, previous_length, end_count, result_count, text_length;
  uint32_t *ends;
  double *result;
  napi_valuetype type;
  if (!bytes_of(env, argv[0], &bytes, &byte_count)) return fail(env, "bytes: Uint8Array");
  if (napi_typeof(env, argv[1], &type) != napi_ok || type != napi_string ||
      napi_get_value_string_latin1(env, argv[1], NULL, 0, &text_length) != napi_ok)
    return fail(env, "lengths: string");
  if (!bytes_of(env, argv[2], &previous, &previous_length) || previous_length != HASH_BYTES)
    return fail(env, "previous: Uint8Array of 32 bytes");
  if (!elements_of(env, argv[3], napi_uint32_array, (void **)&ends, &end_count)) return fail(env, "ends: Uint32Array");
  if (!elements_of(env, argv[4], napi_float64_array, (void **)&result, &result_count) || result_count < 3)
    return fail(env, "result: Float64Array of 3");
  if (byte_count > UINT32_MAX) return fail(env, "bytes: at most 4 GiB");

  char *text = malloc(text_length + 1);
  uint64_t *lengths = malloc((end_count > 0 ? end_count : 1) * sizeof *lengths);
  EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (text == NULL || lengths == NULL || md == NULL || ctx == NULL) {
    free(text);
    free(lengths);
    EVP_MD_free(md);
    EVP_MD_CTX_free(ctx);
    return fail(env, "out of memory");
  }
  size_t copied = 0;
  napi_get_value_string_latin1(env, argv[1], text, text_length + 1, &copied);
  double count = copied == text_length ? parse_lengths(text, text_length, lengths, end_count) : -1;
  result[0] = count;
  result[1] = 0;
  result[2] = 0;
  size_t offset = 0;
  const uint8_t *before = previous; /* the stored hash the next event chains from */
  for (size_t i = 0; count > 0 && i < (size_t)count; i++) {
    uint64_t length = lengths[i];
    if (length > byte_count - offset || HASH_BYTES > byte_count - offset - length) break;
    uint8_t digest[HASH_BYTES];
    unsigned int digest_length = 0;
    if (EVP_DigestInit_ex(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, before, HASH_BYTES) != 1 ||
        EVP_DigestUpdate(ctx, bytes + offset, (size_t)length) != 1 || EVP_DigestFinal_ex(ctx, digest, &digest_length) != 1 ||
        digest_length != HASH_BYTES)
      break;
    const uint8_t *stored = bytes + offset + length;
    if (CRYPTO_memcmp(digest, stored, HASH_BYTES) != 0) break;
    ends[i] = (uint32_t)(offset + length);
    before = stored;
    offset += (size_t)length + HASH_BYTES;
    result[1] = (double)(i + 1);
    result[2] = (double)offset;
  }
  free(text);
  free(lengths);
  EVP_MD_free(md);
  EVP_MD_CTX_free(ctx);
  return NULL;
}
