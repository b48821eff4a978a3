/* xorshift: the pseudo-random numbers of the samplers (xorshift64*): a few instructions, the
 * state in the caller's hands, safe in a signal handler and in an allocation hook. */
#ifndef HEATLINE_XORSHIFT_H
#define HEATLINE_XORSHIFT_H

#include <stdint.h>

/* The next number; `state` must not be 0. */
static inline uint64_t xorshift_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

#endif
