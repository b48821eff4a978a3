/* bytesampler: the geometric byte sampler, as an estimator and nothing else.
 *
 * Bytes are marked by a Poisson process of mean spacing R (the memory sampling rate): a counter
 * counts down an exponentially distributed number of bytes, and the event whose bytes cross zero
 * is sampled, so an event of s bytes is sampled with probability p = 1 - exp(-s/R) and stands for
 * s / p bytes: unbiased, whatever the sizes and their order. After a sample the countdown is
 * drawn afresh (the process is memoryless, so the bytes of the sampled event past the crossing
 * need no carrying over). The variance of one event's estimate is s^2 (1-p) / p; a sampled
 * event's share of it is estimated without bias by w (w - s), w its weight.
 *
 * Owns: the rate, the countdown step, the draw and the weight.
 * Never: walks frames, allocates, locks, or knows where the bytes came from: that is memsample's
 * (the hooks' side). Pure arithmetic, unit-tested for unbiasedness (tests/c/test_bytesampler.c).
 * Talks to: memsample (calls in on every event and sample). */
#ifndef HEATLINE_BYTESAMPLER_H
#define HEATLINE_BYTESAMPLER_H

#include <stddef.h>
#include <stdint.h>

/* The mean spacing R, in bytes; set while no hook samples (at start). */
void bytesampler_set_rate(double rate_bytes);
double bytesampler_rate(void);

/* Counts `size` bytes down `*left`; 1 when they cross zero (the event is sampled: draw anew). */
static inline int bytesampler_count(int64_t *left, size_t size)
{
    return (*left -= (int64_t)size) <= 0;
}

/* A fresh countdown: exponential of mean R, at least 1. `*random_state` must not be 0. */
int64_t bytesampler_draw(uint64_t *random_state);

/* What a sampled event of `size` bytes stands for: size / P(sampled). */
double bytesampler_weight(size_t size);

/* The estimated variance a sampled event of `size` bytes and weight `weight` adds to a sum of
 * weights: weight * (weight - size). */
double bytesampler_variance(double weight, size_t size);

#endif
