/* leaks: see leaks.h. */
#include "leaks.h"

double leak_likelihood(uint64_t samples, uint64_t freed)
{
    if (freed > samples)
        freed = samples;
    return (double)(samples - freed + 1) / (double)(samples + 2);
}

int leak_assess(const struct memory_counters *memory, int64_t end_ns, double peak_footprint_bytes,
                struct leak *out)
{
    double likelihood = leak_likelihood(memory->peak_samples, memory->peak_freed);
    int64_t rise_ns = memory->peak_ns - memory->first_ns;
    if (likelihood < LEAK_MIN_LIKELIHOOD || rise_ns < LEAK_MIN_RISE_NS ||
        (double)rise_ns < LEAK_MIN_SPAN_OF_RUN * (double)end_ns)
        return 0;
    int64_t middle_ns = memory->first_ns + rise_ns / 2;
    double growth = memory->peak_bytes - timeline_value_at(memory->timeline, middle_ns);
    if (growth <= 0 || growth < LEAK_MIN_GROWTH_OF_PEAK * peak_footprint_bytes)
        return 0;
    out->likelihood = likelihood;
    out->bytes_per_s = growth / ((double)(memory->peak_ns - middle_ns) / 1e9);
    return 1;
}

void leak_combine(struct leak *into, const struct leak *line_leak)
{
    if (line_leak->likelihood > into->likelihood)
        into->likelihood = line_leak->likelihood;
    into->bytes_per_s += line_leak->bytes_per_s;
}
