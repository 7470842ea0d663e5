/* SHA-256 of 8 messages at once, one in each 32-bit lane of AVX2 (sha256x8.c): the leaves of
 * format version 2 (docs/format.md section 11) on CPUs without SHA-NI. */
#ifndef PLI_SHA256X8_H
#define PLI_SHA256X8_H

#include <stddef.h>
#include <stdint.h>

#define X8_LANES 8

/* 1 when sha256x8 may be called here: an x86-64 build on a CPU with AVX2 (0 elsewhere). */
int sha256x8_available(void);
/* digests[l] = SHA-256(messages[l][0 .. lengths[l])) for the 8 lanes; lengths may differ and may
 * be 0 (a zero-length lane is never read: any pointer will do). Only where sha256x8_available(). */
void sha256x8(const uint8_t *const messages[X8_LANES], const size_t lengths[X8_LANES], uint8_t digests[X8_LANES][32]);

#endif
