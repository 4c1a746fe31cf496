/* Discovery collections in the service: their rounds' state, kept in the store and advanced by a
 * job; each round collects its reports as an ordinary collection of the registry. */
#include "common/clock.h"
#include "common/error.h"
#include "server/service/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct svc_discovery {
    pinhole_store_discovery rec; /* id, name, created, round collections (state: see st) */
    pinhole_discovery_state st;  /* the rounds */
    int advancing;               /* a discovery_round job is queued or running */
    int64_t job;                 /* the one the service queued, 0 if none */
};

static svc_discovery *find(pinhole_service *s, int64_t id)
{
    for (size_t i = 0; i < s->ndisc; i++)
        if (s->disc[i]->rec.id == id)
            return s->disc[i];
    return NULL;
}

/* The discovery whose open round collects into collection, or NULL. */
static svc_discovery *find_open_round(pinhole_service *s, int64_t collection)
{
    for (size_t i = 0; i < s->ndisc; i++) {
        svc_discovery *d = s->disc[i];
        if (!d->st.done && d->st.round < d->rec.nrounds &&
            d->rec.round_collection[d->st.round] == collection)
            return d;
    }
    return NULL;
}

static void discovery_free(svc_discovery *d)
{
    if (!d)
        return;
    pinhole_store_discovery_free(&d->rec);
    pinhole_discovery_free(&d->st);
    free(d);
}

static int add(pinhole_service *s, svc_discovery *d)
{
    if (s->ndisc == s->capdisc) {
        const size_t cap = s->capdisc ? 2 * s->capdisc : 8;
        svc_discovery **a = realloc(s->disc, cap * sizeof *a);
        if (!a)
            return PINHOLE_ENOMEM;
        s->disc = a;
        s->capdisc = cap;
    }
    s->disc[s->ndisc++] = d;
    return PINHOLE_OK;
}

int pinhole_service_discovery_load(pinhole_service *s)
{
    pinhole_store_discovery *arr = NULL;
    size_t n = 0;
    int rc = pinhole_store_discovery_load(s->admin, &arr, &n);
    if (rc != PINHOLE_OK)
        return rc;
    size_t i = 0;
    for (; i < n && rc == PINHOLE_OK; i++) {
        svc_discovery *d = calloc(1, sizeof *d);
        if (!d) {
            rc = PINHOLE_ENOMEM;
            break;
        }
        d->rec = arr[i];
        memset(&arr[i], 0, sizeof arr[i]);
        rc = pinhole_discovery_load(&d->st, d->rec.state, d->rec.state_len);
        if (rc == PINHOLE_OK && !d->st.done && d->st.round >= d->rec.nrounds)
            rc = PINHOLE_EFORMAT; /* the open round has no collection */
        if (rc != PINHOLE_OK) {
            rc = rc == PINHOLE_ENOMEM ? rc : PINHOLE_EDB;
            discovery_free(d);
            break;
        }
        free(d->rec.state); /* the state lives in d->st */
        d->rec.state = NULL;
        d->rec.state_len = 0;
        if ((rc = add(s, d)) != PINHOLE_OK)
            discovery_free(d);
    }
    for (; i < n; i++)
        pinhole_store_discovery_free(&arr[i]);
    free(arr);
    return rc;
}

void pinhole_service_discovery_free(pinhole_service *s)
{
    for (size_t i = 0; i < s->ndisc; i++)
        discovery_free(s->disc[i]);
    free(s->disc);
    s->disc = NULL;
    s->ndisc = s->capdisc = 0;
}

/* The collection the open round of st collects into: created with the round's oracle parameters
 * (time precision 1 s, no minimum). */
static int round_collection(pinhole_service *s, const char *name, const pinhole_discovery_state *st,
                            const pinhole_server_collection **out)
{
    pinhole_round_config rc;
    int err = pinhole_discovery_round_config(st, 0, &rc);
    if (err != PINHOLE_OK)
        return err;
    char cname[PINHOLE_COLLECTION_NAME_MAX + 1];
    snprintf(cname, sizeof cname, "%.160s, discovery round %u", name, (unsigned)st->round);
    return pinhole_service_create_collection(s, cname, &rc.oracle.params, 1, 0, NULL, NULL, out);
}

int pinhole_service_discovery_create(pinhole_service *s, const char *name,
                                     const pinhole_discovery_params *p, int64_t *id)
{
    if (!name || strlen(name) > PINHOLE_COLLECTION_NAME_MAX)
        return PINHOLE_EINVAL;
    svc_discovery *d = calloc(1, sizeof *d);
    if (!d)
        return PINHOLE_ENOMEM;
    int rc = pinhole_discovery_start(&d->st, p);
    const pinhole_server_collection *c = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (rc == PINHOLE_OK)
        rc = pinhole_discovery_save(&d->st, &bytes, &len);
    pthread_mutex_lock(&s->disc_mu);
    if (rc == PINHOLE_OK)
        rc = round_collection(s, name, &d->st, &c);
    d->rec.round_collection = malloc(sizeof *d->rec.round_collection);
    if (rc == PINHOLE_OK && !d->rec.round_collection)
        rc = PINHOLE_ENOMEM;
    if (rc == PINHOLE_OK) {
        d->rec.created = (int64_t)pinhole_clock_wall();
        snprintf(d->rec.name, sizeof d->rec.name, "%s", name);
        pthread_mutex_lock(&s->admin_mu);
        rc = pinhole_store_discovery_create(s->admin, name, bytes, len, c->id, d->rec.created,
                                            &d->rec.id);
        pthread_mutex_unlock(&s->admin_mu);
    }
    if (rc == PINHOLE_OK) {
        d->rec.round_collection[0] = c->id;
        d->rec.nrounds = 1;
        rc = add(s, d); /* on failure: stored, served after a restart */
    }
    pthread_mutex_unlock(&s->disc_mu);
    free(bytes);
    if (rc != PINHOLE_OK) {
        discovery_free(d);
        return rc;
    }
    *id = d->rec.id;
    return PINHOLE_OK;
}

size_t pinhole_service_discovery_count(pinhole_service *s)
{
    pthread_mutex_lock(&s->disc_mu);
    const size_t n = s->ndisc;
    pthread_mutex_unlock(&s->disc_mu);
    return n;
}

/* The JSON of d (under disc_mu). */
static json_t *discovery_json(pinhole_service *s, const svc_discovery *d)
{
    json_t *o = pinhole_discovery_json(&d->st), *rounds = json_array();
    if (!o || !rounds)
        goto fail;
    for (uint32_t r = 0; r < d->rec.nrounds; r++)
        if (json_array_append_new(rounds, json_integer(d->rec.round_collection[r])) != 0)
            goto fail;
    json_object_set_new(o, "id", json_integer(d->rec.id));
    json_object_set_new(o, "name", json_string(d->rec.name));
    json_object_set_new(o, "created", json_integer(d->rec.created));
    json_object_set_new(o, "round_collections", rounds);
    rounds = NULL;
    if (!d->st.done) {
        const int64_t coll = d->rec.round_collection[d->st.round];
        uint64_t n = 0;
        if (pinhole_service_report_total(s, coll, &n) != PINHOLE_OK)
            n = 0;
        json_object_set_new(o, "open_round_collection", json_integer(coll));
        json_object_set_new(o, "open_round_reports", json_integer((json_int_t)n));
        json_object_set_new(o, "open_round_wanted",
                            json_integer((json_int_t)pinhole_discovery_wanted(&d->st)));
    }
    return o;
fail:
    json_decref(o);
    json_decref(rounds);
    return NULL;
}

int pinhole_service_discovery_json(pinhole_service *s, int64_t id, json_t **out)
{
    *out = NULL;
    pthread_mutex_lock(&s->disc_mu);
    const svc_discovery *d = find(s, id);
    int rc = PINHOLE_ENOTFOUND;
    if (d) {
        *out = discovery_json(s, d);
        rc = *out ? PINHOLE_OK : PINHOLE_ENOMEM;
    }
    pthread_mutex_unlock(&s->disc_mu);
    return rc;
}

int pinhole_service_discovery_list(pinhole_service *s, json_t **out)
{
    *out = json_array();
    if (!*out)
        return PINHOLE_ENOMEM;
    pthread_mutex_lock(&s->disc_mu);
    int rc = PINHOLE_OK;
    for (size_t i = 0; i < s->ndisc && rc == PINHOLE_OK; i++) {
        json_t *o = discovery_json(s, s->disc[i]);
        if (!o || json_array_append_new(*out, o) != 0)
            rc = PINHOLE_ENOMEM;
    }
    pthread_mutex_unlock(&s->disc_mu);
    if (rc != PINHOLE_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

int pinhole_service_discovery_round_config(pinhole_service *s, int64_t id, uint8_t **out,
                                           size_t *len)
{
    *out = NULL;
    *len = 0;
    pthread_mutex_lock(&s->disc_mu);
    const svc_discovery *d = find(s, id);
    int rc = !d ? PINHOLE_ENOTFOUND : d->st.done ? PINHOLE_ERANGE : PINHOLE_OK;
    pinhole_round_config rcfg;
    const pinhole_server_collection *c = NULL;
    if (rc == PINHOLE_OK)
        rc = pinhole_discovery_round_config(&d->st, 0, &rcfg);
    if (rc == PINHOLE_OK) {
        c = pinhole_service_collection(s, d->rec.round_collection[d->st.round]);
        rc = c ? PINHOLE_OK : PINHOLE_EDB;
    }
    if (rc == PINHOLE_OK) {
        rcfg.oracle = c->wire; /* the round's reports are reports of this collection */
        const size_t cap = pinhole_round_config_bytes(&rcfg) + PINHOLE_ROUND_SIGBYTES;
        *out = malloc(cap);
        rc = *out ? pinhole_round_config_sign(&rcfg, s->keys.sign_sk, *out, cap, len)
                  : PINHOLE_ENOMEM;
    }
    pthread_mutex_unlock(&s->disc_mu);
    if (rc != PINHOLE_OK) {
        free(*out);
        *out = NULL;
        *len = 0;
    }
    return rc;
}

int pinhole_service_discovery_round_of(pinhole_service *s, int64_t collection, int64_t *id,
                                       uint32_t *round, int *open)
{
    pthread_mutex_lock(&s->disc_mu);
    int rc = PINHOLE_ENOTFOUND;
    for (size_t i = 0; i < s->ndisc && rc != PINHOLE_OK; i++) {
        const svc_discovery *d = s->disc[i];
        for (uint32_t r = 0; r < d->rec.nrounds; r++)
            if (d->rec.round_collection[r] == collection) {
                *id = d->rec.id;
                *round = r;
                *open = !d->st.done && d->st.round == r;
                rc = PINHOLE_OK;
                break;
            }
    }
    pthread_mutex_unlock(&s->disc_mu);
    return rc;
}

int pinhole_service_discovery_reports_arrived(pinhole_service *s, int64_t collection)
{
    pthread_mutex_lock(&s->disc_mu);
    svc_discovery *d = find_open_round(s, collection);
    int rc = PINHOLE_OK;
    uint64_t n = 0;
    if (d && d->advancing && d->job > 0) { /* cancelled before it ran: queue another */
        pinhole_job_state st;
        pthread_mutex_lock(&s->admin_mu);
        if (pinhole_store_job_state(s->admin, d->job, &st) == PINHOLE_OK &&
            st == PINHOLE_JOB_CANCELED)
            d->advancing = 0;
        pthread_mutex_unlock(&s->admin_mu);
    }
    if (d && !d->advancing &&
        (rc = pinhole_service_report_total(s, collection, &n)) == PINHOLE_OK &&
        n >= pinhole_discovery_wanted(&d->st)) {
        int64_t job;
        rc = pinhole_jobs_submit(s->jobs, collection, "discovery_round", INT64_MIN, INT64_MAX, NULL,
                                 &job);
        if (rc == PINHOLE_OK) {
            d->advancing = 1;
            d->job = job;
        }
    }
    pthread_mutex_unlock(&s->disc_mu);
    return rc;
}

int pinhole_service_discovery_job(void *ctx, const char *type, int64_t collection_id,
                                  const pinhole_job_data *data, const json_t *params,
                                  pinhole_job_ctl *ctl, json_t **result, char *err, size_t errlen)
{
    (void)type;
    (void)params;
    (void)ctl;
    pinhole_service *s = ctx;
    uint8_t *bytes = NULL;
    size_t len = 0;
    pinhole_discovery_state next;
    memset(&next, 0, sizeof next);
    /* a copy of the state, taken under the lock and advanced outside it: the estimation may take a
     * while, and the lock is on the path of every report batch */
    pthread_mutex_lock(&s->disc_mu);
    svc_discovery *d = find_open_round(s, collection_id);
    const uint32_t round = d ? d->st.round : 0;
    int rc = d ? pinhole_discovery_save(&d->st, &bytes, &len) : PINHOLE_EINVAL;
    if (d && rc == PINHOLE_OK)
        d->advancing = 1;
    pthread_mutex_unlock(&s->disc_mu);
    if (!d) {
        snprintf(err, errlen, "collection %lld is not the open round of a discovery collection",
                 (long long)collection_id);
        return PINHOLE_EINVAL;
    }
    if (rc == PINHOLE_OK)
        rc = pinhole_discovery_load(&next, bytes, len);
    free(bytes);
    bytes = NULL;
    if (rc == PINHOLE_OK &&
        (rc = pinhole_discovery_advance(&next, &data->cfg, data->counts, data->n)) != PINHOLE_OK)
        snprintf(err, errlen, "the round could not be closed: %s%s", pinhole_strerror(rc),
                 rc == PINHOLE_ENOREPORTS ? " (it has no reports yet)" : "");
    if (rc == PINHOLE_OK)
        rc = pinhole_discovery_save(&next, &bytes, &len);

    pthread_mutex_lock(&s->disc_mu);
    const pinhole_server_collection *c = NULL;
    if (rc != PINHOLE_OK)
        goto out;
    if (find_open_round(s, collection_id) != d || d->st.round != round) {
        snprintf(err, errlen, "the round was closed by another job meanwhile");
        rc = PINHOLE_EINVAL;
        goto out;
    }
    if (!next.done && (rc = round_collection(s, d->rec.name, &next, &c)) != PINHOLE_OK) {
        snprintf(err, errlen, "the next round's collection could not be made: %s",
                 pinhole_strerror(rc));
        goto out;
    }
    if (c) {
        int64_t *more = realloc(d->rec.round_collection,
                                (d->rec.nrounds + 1) * sizeof *d->rec.round_collection);
        if (!more) {
            rc = PINHOLE_ENOMEM;
            goto out;
        }
        d->rec.round_collection = more;
    }
    pthread_mutex_lock(&s->admin_mu);
    rc = pinhole_store_discovery_save(s->admin, d->rec.id, bytes, len, c ? c->id : 0);
    pthread_mutex_unlock(&s->admin_mu);
    if (rc != PINHOLE_OK) {
        snprintf(err, errlen, "the store refused the new state; the round stays open");
        goto out;
    }
    if (c)
        d->rec.round_collection[d->rec.nrounds++] = c->id;
    const pinhole_discovery_round_log *l = &next.log[next.nlog - 1];
    *result =
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:b}", "discovery", (json_int_t)d->rec.id, "round",
                  (json_int_t)l->round, "devices", (json_int_t)l->devices, "kept",
                  (json_int_t)l->kept, "complete", (json_int_t)l->complete, "done", next.done);
    if (*result && c)
        json_object_set_new(*result, "next_round_collection", json_integer(c->id));
    pinhole_discovery_free(&d->st);
    d->st = next;
    memset(&next, 0, sizeof next);
out:
    d->advancing = 0;
    pthread_mutex_unlock(&s->disc_mu);
    pinhole_discovery_free(&next);
    free(bytes);
    return rc;
}
