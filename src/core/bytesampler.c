/* bytesampler: see bytesampler.h. */
#include "bytesampler.h"

#include <math.h>

#include "xorshift.h"

static double rate = 1 << 20;

void bytesampler_set_rate(double rate_bytes)
{
    rate = rate_bytes;
}

double bytesampler_rate(void)
{
    return rate;
}

int64_t bytesampler_draw(uint64_t *random_state)
{
    double uniform = (double)((xorshift_next(random_state) >> 11) + 1) * 0x1.0p-53; /* (0, 1] */
    return (int64_t)(-rate * log(uniform)) + 1;
}

double bytesampler_weight(size_t size)
{
    /* expm1 keeps the precision of p for sizes far below the rate (p ~ s/R). */
    return size > 0 ? (double)size / -expm1(-(double)size / rate) : 0;
}

double bytesampler_variance(double weight, size_t size)
{
    double excess = weight - (double)size;
    return excess > 0 ? weight * excess : 0;
}
