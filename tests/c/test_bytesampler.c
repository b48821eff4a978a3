/* The byte sampler's estimator: the sum of the weights of the sampled events is an unbiased
 * estimate of the bytes, over many sizes and rates, and its spread stays within the error bound
 * the documentation promises (docs/how-it-works.md#memory: a standard deviation below
 * sqrt(rate x bytes)). Statistical checks with fixed seeds, margins in standard deviations. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "bytesampler.h"
#include "check.h"
#include "xorshift.h"

/* A run's estimate is within this many standard deviations of the truth, and the mean over runs
 * within this many standard errors: a false failure is about 1 in 10^5 per check. */
#define SIGMAS 4.5
#define RUNS 200

/* One run of the hot path over `events` events of sizes drawn from `sizes`: the sum of the
 * sampled events' weights, and in `*truth` the bytes they requested. */
static double estimate(uint64_t *random_state, uint64_t *size_state, const size_t *sizes, size_t size_count,
                       size_t events, double *truth)
{
    int64_t left = bytesampler_draw(random_state);
    double sum = 0;
    *truth = 0;
    for (size_t i = 0; i < events; i++) {
        size_t size = sizes[(size_t)(xorshift_next(size_state) % size_count)];
        *truth += (double)size;
        if (bytesampler_count(&left, size)) {
            sum += bytesampler_weight(size);
            left = bytesampler_draw(random_state);
        }
    }
    return sum;
}

static void check_unbiased(double rate, const size_t *sizes, size_t size_count, size_t events)
{
    bytesampler_set_rate(rate);
    uint64_t random_state = 0x9E3779B97F4A7C15ULL ^ (uint64_t)rate, size_state = 0x2545F4914F6CDD1DULL;
    double total = 0, sum = 0, sum_squares = 0, worst_sigmas = 0;
    for (int run = 0; run < RUNS; run++) {
        double truth;
        double error = estimate(&random_state, &size_state, sizes, size_count, events, &truth) - truth;
        double sigmas = fabs(error) / sqrt(rate * truth); /* against the documented bound */
        if (sigmas > worst_sigmas)
            worst_sigmas = sigmas;
        total += truth;
        sum += error;
        sum_squares += error * error;
    }
    double mean_error = sum / RUNS, spread = sqrt(sum_squares / RUNS), mean_bytes = total / RUNS;
    int unbiased = fabs(mean_error) <= SIGMAS * spread / sqrt(RUNS) + 1e-9 * mean_bytes;
    int within_bound = spread <= sqrt(rate * mean_bytes);
    CHECK(unbiased);     /* the mean error is within SIGMAS standard errors of 0 */
    CHECK(within_bound); /* the spread is below sqrt(rate x bytes) */
    CHECK(worst_sigmas <= SIGMAS);
    if (!unbiased || !within_bound)
        fprintf(stderr, "rate %.0f: mean error %.0f B, spread %.0f B, bound %.0f B over %.0f B\n", rate,
                mean_error, spread, sqrt(rate * mean_bytes), mean_bytes);
}

static void test_weights_are_unbiased_over_sizes_and_rates(void)
{
    static const size_t small[] = {16, 32, 48, 64, 100, 256, 512};
    static const size_t mixed[] = {24, 1000, 4096, 65536, 1 << 20, 3 << 20};
    static const size_t huge[] = {8 << 20, 40 << 20};
    check_unbiased(1024, small, sizeof small / sizeof *small, 200000);
    check_unbiased(65536, mixed, sizeof mixed / sizeof *mixed, 20000);
    check_unbiased(1 << 20, mixed, sizeof mixed / sizeof *mixed, 20000);
    check_unbiased(1 << 20, small, sizeof small / sizeof *small, 2000000);
    check_unbiased(1 << 20, huge, sizeof huge / sizeof *huge, 200);
}

static void test_weight_and_variance(void)
{
    bytesampler_set_rate(1 << 20);
    /* Far below the rate: a sampled event stands for about one rate's worth of bytes. */
    double weight = bytesampler_weight(32);
    CHECK(fabs(weight - (1 << 20)) < 64);
    CHECK(bytesampler_variance(weight, 32) > 0.99 * weight * weight);
    /* Far above it: always sampled, stands for itself, no variance. */
    CHECK(fabs(bytesampler_weight(100 << 20) - (100 << 20)) < 1);
    CHECK(bytesampler_variance(bytesampler_weight(100 << 20), 100 << 20) < 1);
    CHECK(bytesampler_weight(0) == 0);
}

static void test_draws_have_the_rate_as_mean(void)
{
    bytesampler_set_rate(65536);
    uint64_t state = 12345;
    double sum = 0;
    const int draws = 100000;
    for (int i = 0; i < draws; i++) {
        int64_t draw = bytesampler_draw(&state);
        CHECK(draw >= 1);
        sum += (double)draw;
    }
    /* An exponential's standard deviation is its mean. */
    CHECK(fabs(sum / draws - 65536) <= SIGMAS * 65536 / sqrt(draws));
}

int main(void)
{
    test_weight_and_variance();
    test_draws_have_the_rate_as_mean();
    test_weights_are_unbiased_over_sizes_and_rates();
    return check_report("bytesampler");
}
