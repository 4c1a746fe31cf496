/* libFuzzer harness: job parameters. The first byte picks a job type, the rest is its params
 * (JSON). The params check and then the type itself (inline, stopped at its first progress
 * check) run on a small PGR collection; neither may crash, leak or take long, and a job that
 * succeeds must give a result. */
#include "common/error.h"
#include "common/mechanism.h"
#include "server/jobs/jobs.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static pinhole_job_data d;
static pinhole_job_bucket buckets[2];

static void init(void)
{
    if (sodium_init() < 0)
        abort();
    const pinhole_config_params p = {.mechanism = PINHOLE_MECH_PGR, .k = 8, .epsilon = 2};
    if (pinhole_config_init(&d.cfg, &p) != PINHOLE_OK)
        abort();
    const uint64_t len = d.cfg.counts_len;
    d.counts = calloc(len, sizeof *d.counts);
    for (int b = 0; b < 2; b++) {
        buckets[b].time = 1764028800 + 3600 * b;
        buckets[b].counts = calloc(len, sizeof *d.counts);
        if (!d.counts || !buckets[b].counts)
            abort();
        for (uint64_t i = 0; i < len; i++) {
            buckets[b].counts[i] = (i * 7 + (uint64_t)b) % 5;
            buckets[b].n += buckets[b].counts[i];
            d.counts[i] += buckets[b].counts[i];
        }
    }
    d.n = buckets[0].n + buckets[1].n;
    d.nbuckets = 2;
    d.buckets = buckets;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        init();
        ready = 1;
    }
    if (size < 1)
        return 0;
    size_t nt;
    const pinhole_job_type *types = pinhole_job_types(&nt);
    const pinhole_job_type *t = &types[data[0] % nt];
    json_t *params = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(params)) {
        json_decref(params);
        return 0;
    }
    char err[512] = "";
    if (pinhole_job_params_check(t, params, err, sizeof err) == PINHOLE_OK) {
        json_t *result = NULL;
        const int rc = pinhole_job_run_inline(t, &d, params, 0, &result, err, sizeof err);
        if ((rc == PINHOLE_OK) != (result != NULL))
            abort();
        json_decref(result);
    } else if (!strstr(err, "unknown parameter")) {
        abort();
    }
    json_decref(params);
    return 0;
}
