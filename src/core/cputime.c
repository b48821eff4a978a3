/* cputime: see cputime.h. */
#include "cputime.h"

#include <stdatomic.h>

static struct tracked_thread *find_thread(struct session *s, pid_t tid)
{
    for (size_t i = 0; i < s->thread_count; i++)
        if (s->threads[i]->tid == tid)
            return s->threads[i];
    return NULL;
}

void cputime_credit(struct session *s, struct tracked_thread *thread, const struct place *place,
                    const struct counters *amount)
{
    if (place && place->line) {
        counters_add(&place->line->counters, amount);
        counters_add(&place->function->counters, amount);
    } else {
        counters_add(&s->outside, amount);
    }
    counters_add(&thread->totals, amount);
    counters_add(&s->totals, amount);
}

/* CPU time split by the kernel's share and by where the thread was. */
static struct counters split_cpu(double seconds, double system_fraction, uint8_t state)
{
    struct counters amount = {0, 0, 0, 0};
    amount.system_s = system_fraction * seconds;
    if (state == SAMPLE_PYTHON)
        amount.python_s = seconds - amount.system_s;
    else
        amount.native_s = seconds - amount.system_s;
    return amount;
}

struct place cputime_main_thread_place(struct session *s)
{
    struct place none = {NULL, NULL};
    struct tracked_thread *main_thread = find_thread(s, s->main_tid);
    if (!main_thread)
        return none;
    return main_thread->blocked_at_last_beat ? main_thread->blocked : main_thread->last;
}

static void credit_sample(struct session *s, struct tracked_thread *thread, const struct cpu_sample *sample)
{
    if (sample->cpu_ns > 0)
        thread->system_fraction = (double)sample->system_ns / (double)sample->cpu_ns;
    struct counters amount = split_cpu((double)sample->weight_ns / 1e9, thread->system_fraction,
                                       sample->stack.state);
    struct place place = {NULL, NULL};
    int has_python = thread->thread_state ||
                     atomic_load_explicit(&thread->sampler.thread_state, memory_order_relaxed);
    if (sample->stack.state == SAMPLE_NO_PYTHON && !has_python) {
        place = cputime_main_thread_place(s);
    } else {
        places_of(&s->places, &sample->stack, &place);
        thread->last = place;
    }
    thread->last_state = sample->stack.state;
    thread->weight_ns += sample->weight_ns;
    s->samples++;
    cputime_credit(s, thread, &place, &amount);
}

void cputime_drain(struct session *s, struct tracked_thread *thread)
{
    struct cpu_sample sample;
    while (sampler_pop(&thread->sampler, &sample))
        credit_sample(s, thread, &sample);
    s->dropped += (int64_t)atomic_exchange(&thread->sampler.dropped, 0);
}

void cputime_credit_remainder(struct session *s, struct tracked_thread *thread)
{
    int64_t remainder_ns = thread->cpu_ns - thread->weight_ns;
    if (remainder_ns <= 0)
        return;
    uint8_t state = thread->weight_ns ? thread->last_state : SAMPLE_PYTHON;
    struct counters amount = split_cpu((double)remainder_ns / 1e9, thread->system_fraction, state);
    thread->weight_ns = thread->cpu_ns;
    cputime_credit(s, thread, &thread->last, &amount);
}
