/* SHA-256 of 2 messages at once with SHA-NI, their rounds interleaved (sha256x2.c): the leaves of
 * format version 2 (docs/format.md section 11) on CPUs with SHA-NI. */
#ifndef PLI_SHA256X2_H
#define PLI_SHA256X2_H

#include <stddef.h>
#include <stdint.h>

/* 1 when sha256x2 may be called here: an x86-64 build on a CPU with SHA-NI, SSSE3 and SSE4.1
 * (0 elsewhere). Says nothing of OPENSSL_ia32cap: digest.c decides whether to use it. */
int sha256x2_available(void);
/* first = SHA-256(a[0 .. a_length)), second = SHA-256(b[0 .. b_length)); the lengths may differ
 * and may be 0. Only where sha256x2_available(). */
void sha256x2(const uint8_t *a, size_t a_length, const uint8_t *b, size_t b_length, uint8_t first[32], uint8_t second[32]);

#endif
