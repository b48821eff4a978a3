/* leaks: the leak rule, for a line and for a function.
 *
 * Owns: the likelihood that a line's allocations are never freed (of its sampled allocations,
 * how many were freed), whether its live memory grew enough and long enough to call it a leak,
 * and a function's leak from its lines'.
 * Never: keeps state: it judges counters that live.c filled.
 * Talks to: profile (leak_assess, leak_combine), linetable (the counters it reads). */
#ifndef HEATLINE_LEAKS_H
#define HEATLINE_LEAKS_H

#include <stddef.h>
#include <stdint.h>

#include "linetable.h"

#define LEAK_MIN_LIKELIHOOD 0.95
/* Growth in the second half of the line's rise that counts, as a share of the peak footprint. */
#define LEAK_MIN_GROWTH_OF_PEAK 0.01
/* The rise must span this share of the run, and this long: a list built by one statement is not
 * a leak, even when it is most of a short run. */
#define LEAK_MIN_SPAN_OF_RUN 0.1
#define LEAK_MIN_RISE_NS 500000000LL

struct leak {
    double likelihood; /* rule of succession over the line's sampled allocations */
    double bytes_per_s;
};

/* Laplace's rule of succession: the probability that the line's next sampled allocation is never
 * freed, given `samples` sampled allocations of which `freed` were freed. */
double leak_likelihood(uint64_t samples, uint64_t freed);

/* Whether the line leaks, judged over its rise: from its first sampled allocation to the last
 * time its live memory stood at its peak (what is freed after that, at the program's teardown
 * say, is no evidence against a leak). It leaks when its allocations until then stayed live
 * (likelihood >= 0.95), the rise lasts half a second and 10% of the run (`end_ns`), and its live memory grew
 * over the second half of the rise by at least 1% of the peak footprint. */
int leak_assess(const struct memory_counters *memory, int64_t end_ns, double peak_footprint_bytes,
                struct leak *out);

/* A function's leak judges its lines' live memory together: the function leaks when some of its
 * lines do (a function that leaks on one line may free its temporaries on others, which says
 * nothing against that line); its likelihood is the highest of theirs, its growth their sum.
 * Start with `*into` zeroed and add each leaking line. */
void leak_combine(struct leak *into, const struct leak *line_leak);

#endif
