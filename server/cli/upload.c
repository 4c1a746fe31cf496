/* Parallel batch upload: encode (client library), frame (proto/batch.h), seal, post, tally. */
#include "server/cli/upload.h"
#include "client/device.h"
#include "common/bytes.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/rng.h"
#include "proto/batch.h"
#include "proto/report.h"
#include "proto/seal.h"
#include "server/estimate/estimate.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Where an encoded report holds its id (proto/report.h: byte 32, PINHOLE_REPORT_IDBYTES). */
#define REPORT_ID_OFFSET 32

typedef struct worker {
    cli_upload *u;
    unsigned index;
    pthread_mutex_t *mu;
    uint64_t *truth, *counts; /* this thread's tallies */
    uint64_t accepted, duplicates, rejected, failed, sent;
    int error;
} worker;

/* The rng of simulated batch b: ChaCha20 keyed by BLAKE2b-256(seed || b). */
static void batch_rng(pinhole_rng *rng, uint64_t seed, uint64_t b)
{
    uint8_t in[16], key[32];
    pinhole_store_le(in, seed, 8);
    pinhole_store_le(in + 8, b, 8);
    crypto_generichash(key, sizeof key, in, sizeof in, NULL, 0);
    pinhole_rng_init_key(rng, key);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    cli_upload *u = w->u;
    const pinhole_config *cfg = &u->coll->cfg;
    const size_t pb = cfg->payload_bytes;
    const int sim = u->sample != NULL;
    const uint64_t total = sim ? u->users : u->nreports;
    const uint64_t nbatches = (total + u->batch - 1) / u->batch;
    size_t item_max = sim ? pinhole_report_bytes(pb) : 0;
    for (uint64_t i = 0; !sim && i < u->nreports; i++)
        if (u->len[i] > item_max)
            item_max = u->len[i];
    item_max += u->seal ? PINHOLE_SEALBYTES : 0;
    const size_t cap = pinhole_batch_bytes(u->batch, item_max);
    uint8_t *body = malloc(cap), *payloads = malloc((size_t)u->batch * (pb ? pb : 1));
    uint8_t *rep = malloc(item_max), *sealed = malloc(item_max),
            *ids = malloc((size_t)u->batch * 16);
    uint64_t *values = malloc((size_t)u->batch * sizeof *values);
    cli_http h;
    h.curl = NULL;
    if (!body || !payloads || !rep || !sealed || !ids || !values ||
        cli_http_init(&h, u->url, u->token) != 0) {
        w->error = -1;
        goto out;
    }
    for (uint64_t b = w->index; b < nbatches; b += u->connections) {
        const uint64_t first = b * u->batch;
        const uint64_t m = total - first < u->batch ? total - first : u->batch;
        pinhole_batch_writer bw;
        pinhole_batch_writer_init(
            &bw, u->seal || u->file_sealed ? PINHOLE_BATCH_SEALED : PINHOLE_BATCH_PLAIN, body, cap);
        pinhole_rng rng;
        pinhole_report header = {.collection_id = u->collection, .time = u->time};
        memcpy(header.fingerprint, u->coll->fingerprint, PINHOLE_FINGERPRINT_BYTES);
        if (sim)
            batch_rng(&rng, u->seed, b);
        for (uint64_t i = 0; i < m; i++) {
            const uint8_t *item;
            size_t item_len = 0;
            if (sim) {
                const uint64_t v = pinhole_countfile_sample(u->sample, &rng);
                values[i] = v;
                if (pinhole_device_report(cfg, &header, v, &rng, &rng, rep, item_max, &item_len) !=
                    PINHOLE_OK) {
                    w->error = -1;
                    goto out;
                }
                memcpy(payloads + i * pb, rep + PINHOLE_REPORT_HEADERBYTES, pb);
                memcpy(ids + 16 * i, rep + REPORT_ID_OFFSET, 16);
                item = rep;
            } else {
                item = u->file + u->offset[first + i];
                item_len = u->len[first + i];
                if (item_len >= REPORT_ID_OFFSET + PINHOLE_REPORT_IDBYTES &&
                    !u->file_sealed) /* the report id field (proto/report.h) */
                    memcpy(ids + 16 * i, item + REPORT_ID_OFFSET, 16);
                else
                    memset(ids + 16 * i, 0, 16); /* sealed: the id is not visible here */
            }
            if (u->seal) {
                size_t sealed_len;
                if (pinhole_report_seal(item, item_len, u->coll->seal_pk, sealed, item_max,
                                        &sealed_len) != PINHOLE_OK) {
                    w->error = -1;
                    goto out;
                }
                item = sealed;
                item_len = sealed_len;
            }
            if (pinhole_batch_writer_add(&bw, item, item_len) != PINHOLE_OK) {
                w->error = -1;
                goto out;
            }
        }
        size_t blen;
        pinhole_batch_writer_finish(&bw, &blen);
        cli_batch_result res;
        const long status = cli_post_batch(&h, u->collection, body, blen, u->retries, &res);
        w->sent += m;
        if (status != 200) {
            w->failed++;
            w->rejected += res.rejected;
            continue;
        }
        w->accepted += res.accepted;
        w->duplicates += res.duplicates;
        w->rejected += res.rejected;
        if (sim && res.rejected == 0) /* tally only what the server acknowledged */
            for (uint64_t i = 0; i < m; i++) {
                w->truth[values[i]]++;
                pinhole_accumulate(cfg, payloads + i * pb, pb, w->counts);
            }
        if (u->ack_log && res.rejected == 0 && !u->file_sealed) {
            pthread_mutex_lock(w->mu);
            char hex[33];
            for (uint64_t i = 0; i < m; i++) {
                pinhole_report r = {
                    .time = u->time, .payload = payloads + i * pb, .payload_len = (uint32_t)pb};
                if (!sim && pinhole_report_decode(u->file + u->offset[first + i], u->len[first + i],
                                                  &r) != PINHOLE_OK)
                    continue; /* the server would have refused it */
                sodium_bin2hex(hex, sizeof hex, ids + 16 * i, 16);
                fprintf(u->ack_log, "%s %llu ", hex, (unsigned long long)r.time);
                for (uint32_t j = 0; j < r.payload_len; j++)
                    fprintf(u->ack_log, "%02x", r.payload[j]);
                fputc('\n', u->ack_log);
            }
            fflush(u->ack_log);
            pthread_mutex_unlock(w->mu);
        }
    }
out:
    if (h.curl)
        cli_http_free(&h);
    free(body);
    free(payloads);
    free(rep);
    free(sealed);
    free(ids);
    free(values);
    return NULL;
}

int cli_upload_run(cli_upload *u)
{
    const int sim = u->sample != NULL;
    if (u->batch == 0 || u->batch > PINHOLE_BATCH_MAXCOUNT)
        u->batch = 1000;
    if (u->connections == 0)
        u->connections = 1;
    const uint64_t k = sim ? u->sample->k : 0, len = sim ? u->coll->cfg.counts_len : 0;
    u->truth = sim ? calloc(k, sizeof *u->truth) : NULL;
    u->counts = sim ? calloc(len, sizeof *u->counts) : NULL;
    worker *w = calloc(u->connections, sizeof *w);
    pthread_t *th = calloc(u->connections, sizeof *th);
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    int rc = 0;
    if (!w || !th || (sim && (!u->truth || !u->counts))) {
        rc = -1;
        goto out;
    }
    const double t0 = pinhole_clock_mono();
    unsigned started = 0;
    for (unsigned i = 0; i < u->connections; i++) {
        w[i] = (worker){.u = u, .index = i, .mu = &mu};
        if (sim) {
            w[i].truth = calloc(k, sizeof *w[i].truth);
            w[i].counts = calloc(len, sizeof *w[i].counts);
            if (!w[i].truth || !w[i].counts) {
                rc = -1;
                break;
            }
        }
        if (pthread_create(&th[i], NULL, worker_main, &w[i]) != 0) {
            rc = -1;
            break;
        }
        started++;
    }
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    u->seconds = pinhole_clock_mono() - t0;
    for (unsigned i = 0; i < u->connections; i++) {
        if (w[i].error || w[i].failed)
            rc = -1;
        u->accepted += w[i].accepted;
        u->duplicates += w[i].duplicates;
        u->rejected += w[i].rejected;
        u->failed_batches += w[i].failed;
        u->sent += w[i].sent;
        for (uint64_t v = 0; w[i].truth && v < k; v++)
            u->truth[v] += w[i].truth[v];
        for (uint64_t j = 0; w[i].counts && j < len; j++)
            u->counts[j] += w[i].counts[j];
        free(w[i].truth);
        free(w[i].counts);
    }
out:
    free(w);
    free(th);
    return rc;
}
