/* cputime: see cputime.h. */
#include "cputime.h"

#include <stdatomic.h>
#include <stdlib.h>

/* Where the sampled threads started to run `entry` (a code object's address: one freed and
 * reused by another code object passes its stand-in on, a rare and small misplacement) spent
 * their sampled CPU time: an unsampled thread of that target is credited in the same proportions
 * (the latest sample alone put every such thread's time at one place, often the thread's start in
 * threading.py, outside the program). The first places seen are kept; a thread's work is a few
 * lines, and samples at any other place add their weight to the busiest. */
#define STAND_IN_PLACES 8

struct stand_in_place {
    struct place place;
    uint8_t state;
    int64_t weight_ns;
};

struct stand_in {
    uintptr_t entry;
    size_t count;
    int64_t weight_ns;
    struct stand_in_place places[STAND_IN_PLACES];
};

static struct stand_in *find_stand_in(struct session *s, uintptr_t entry)
{
    for (size_t i = 0; i < s->stand_in_count; i++)
        if (s->stand_ins[i].entry == entry)
            return &s->stand_ins[i];
    return NULL;
}

/* The place of `stand_in` that a sample of `thread` at its last place adds to. */
static struct stand_in_place *stand_in_slot(struct stand_in *stand_in, const struct tracked_thread *thread)
{
    struct stand_in_place *busiest = NULL;
    for (size_t i = 0; i < stand_in->count; i++) {
        struct stand_in_place *known = &stand_in->places[i];
        if (known->place.line == thread->last.line && known->state == thread->last_state)
            return known;
        if (!busiest || known->weight_ns > busiest->weight_ns)
            busiest = known;
    }
    if (stand_in->count == STAND_IN_PLACES)
        return busiest;
    struct stand_in_place *slot = &stand_in->places[stand_in->count++];
    slot->place = thread->last;
    slot->state = thread->last_state;
    slot->weight_ns = 0;
    return slot;
}

static void remember_stand_in(struct session *s, const struct tracked_thread *thread, int64_t weight_ns)
{
    struct stand_in *found = find_stand_in(s, thread->entry);
    if (!found) {
        if (s->stand_in_count == s->stand_in_capacity) {
            size_t capacity = s->stand_in_capacity ? s->stand_in_capacity * 2 : 8;
            struct stand_in *grown = realloc(s->stand_ins, capacity * sizeof *grown);
            if (!grown)
                return; /* its unsampled threads' time goes outside the program */
            s->stand_ins = grown;
            s->stand_in_capacity = capacity;
        }
        found = &s->stand_ins[s->stand_in_count++];
        found->entry = thread->entry;
        found->count = 0;
        found->weight_ns = 0;
    }
    struct stand_in_place *slot = stand_in_slot(found, thread);
    slot->weight_ns += weight_ns;
    found->weight_ns += weight_ns;
}

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
        if (s->gpu) {
            /* The GPU's latest reading stands for this stretch of the line's time. */
            struct gpu_reading reading;
            gpu_latest(s->gpu, &reading);
            double seconds = counters_total_s(amount) + amount->gil_wait_s;
            gpu_counters_add(&place->line->gpu, reading.util_percent, reading.mem_mb, seconds);
            gpu_counters_add(&place->function->gpu, reading.util_percent, reading.mem_mb, seconds);
        }
    } else {
        counters_add(&s->outside, amount);
    }
    stacks_credit_time(s->stacks, place ? place->stack : (struct stack_ref){STACKS_ROOT, 0}, amount);
    counters_add(&thread->totals, amount);
    counters_add(&s->totals, amount);
}

/* CPU time split by the kernel's share and by where the thread was. */
static struct counters split_cpu(double seconds, double system_fraction, uint8_t state)
{
    struct counters amount = {0};
    amount.system_s = system_fraction * seconds;
    if (state == SAMPLE_PYTHON)
        amount.python_s = seconds - amount.system_s;
    else
        amount.native_s = seconds - amount.system_s;
    return amount;
}

struct place cputime_main_thread_place(struct session *s)
{
    struct place none = {0};
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
    struct place place = {0};
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
    thread->last_weight_ns = sample->weight_ns;
    if (thread->registered)
        remember_stand_in(s, thread, sample->weight_ns);
    s->samples++;
    stacks_count_sample(s->stacks, place.stack);
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

/* An unsampled thread's `cpu_ns` where the sampled threads of its target spent theirs. */
static void credit_like(struct session *s, struct tracked_thread *thread, const struct stand_in *stand_in,
                        int64_t cpu_ns)
{
    for (size_t i = 0; i < stand_in->count; i++) {
        const struct stand_in_place *slot = &stand_in->places[i];
        double seconds = (double)cpu_ns / 1e9 * (double)slot->weight_ns / (double)stand_in->weight_ns;
        struct counters amount = split_cpu(seconds, thread->system_fraction, slot->state);
        cputime_credit(s, thread, &slot->place, &amount);
    }
    thread->weight_ns += cpu_ns;
}

void cputime_credit_final(struct session *s, struct tracked_thread *thread)
{
    int64_t remainder_ns = thread->cpu_ns - thread->weight_ns;
    struct place place = thread->last;
    uint8_t state = thread->last_state;
    if (!thread->weight_ns) {
        const struct stand_in *stand_in = find_stand_in(s, thread->entry);
        if (stand_in && stand_in->weight_ns > 0 && remainder_ns > 0) {
            credit_like(s, thread, stand_in, remainder_ns);
            return;
        }
        place = (struct place){0};
        state = SAMPLE_PYTHON;
    } else if (remainder_ns < -thread->last_weight_ns) {
        /* Its last sample stood for a stratum it did not finish: take back at most that. */
        remainder_ns = -thread->last_weight_ns;
    }
    if (!remainder_ns)
        return;
    struct counters amount = split_cpu((double)remainder_ns / 1e9, thread->system_fraction, state);
    thread->weight_ns += remainder_ns;
    cputime_credit(s, thread, &place, &amount);
}
