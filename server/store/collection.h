/* A collection as the server holds it (pinhole_server_collection): its parameters, the configured
 * mechanism, the canonical config clients verify, its labels. Not to be confused with the client's
 * pinhole_collection (client/pinhole.h), which is what a device knows of a collection.
 *
 * Built by pinhole_server_collection_init() from validated parameters; every storage backend
 * loads collections through it, so a stored collection configures exactly as it did when created.
 * Read-only once built; shared between threads. */
#ifndef PINHOLE_SERVER_STORE_COLLECTION_H
#define PINHOLE_SERVER_STORE_COLLECTION_H

#include "common/mechanism.h"
#include "proto/config.h"

#include <stddef.h>
#include <stdint.h>

#define PINHOLE_REPORT_ID_BYTES PINHOLE_REPORT_IDBYTES
#define PINHOLE_COLLECTION_NAME_MAX 200u
/* Largest count vector a collection may need (2^27 entries, 1 GiB of 64-bit counts). */
#define PINHOLE_COUNTS_LEN_MAX (UINT64_C(1) << 27)
/* Largest domain size a server collection may have: every query holds several k-sized arrays
 * (estimates, variances, order), 800 MiB at 2^25. */
#define PINHOLE_K_SERVER_MAX (UINT64_C(1) << 25)

/* The report window the server gives a new collection whose creator sets none (the daemon's
 * max_report_age and max_clock_skew settings override them): 7 days back, 1 hour ahead. A
 * collection made through the store alone (pinhole_store_create_collection) has no window until
 * one is set. */
#define PINHOLE_DEFAULT_MAX_REPORT_AGE (7u * 86400u)
#define PINHOLE_DEFAULT_MAX_CLOCK_SKEW 3600u

/* A collection's report window and retention. A report is accepted only while some second of its
 * time bucket lies in [now - max_report_age, now + max_clock_skew]; so the replay check needs the
 * ids of that window only, and raw reports older than it can go (unless keep_reports). */
typedef struct pinhole_collection_window {
    uint32_t max_report_age; /* seconds; 0: no lower bound (replay state then grows with data) */
    uint32_t max_clock_skew; /* seconds a report may lie ahead of the server's clock; 0: no
                                upper bound */
    int keep_reports;        /* 1: keep raw reports once outside the window; 0: drop them */
} pinhole_collection_window;

typedef struct pinhole_server_collection {
    int64_t id;
    char name[PINHOLE_COLLECTION_NAME_MAX + 1];
    pinhole_config_params params;   /* as requested (q, t resolved to the planner's choice) */
    pinhole_collection_config wire; /* the canonical config (proto/config.h) clients verify */
    pinhole_config cfg;             /* the configured mechanism */
    uint32_t time_precision;        /* seconds per time unit of a report; 1..2^31 */
    uint32_t min_reports;           /* histogram refused while fewer reports are stored */
    uint8_t fingerprint[PINHOLE_FINGERPRINT_BYTES]; /* of the canonical config (proto/config.h) */
    char *labels_blob;      /* k labels, each NUL-terminated, back to back; NULL when none */
    const char **label;     /* label[v] points into labels_blob; NULL when none */
    uint8_t *labels_list;   /* the canonical label list (proto/labels.h) the wire config commits
                               to, served to clients; NULL when wire is a version 1 config */
    size_t labels_list_len; /* its bytes */
    int64_t created;        /* Unix seconds */
    pinhole_collection_window window; /* none (all zero) unless set */
} pinhole_server_collection;

/** Is a report of time `time` (in c's precision units) inside c's report window at Unix time
 * now? PINHOLE_OK, or PINHOLE_EWINDOW: the whole bucket [time, time + 1) x time_precision lies
 * before now - max_report_age (max_report_age nonzero), or its start after now + max_clock_skew
 * (max_clock_skew nonzero). */
int pinhole_collection_window_check(const pinhole_server_collection *c, uint64_t time, int64_t now);

/** Fill c from parameters: configures the mechanism, builds the canonical config and its
 * fingerprint (proto/config.h; the id is part of both). labels (may be NULL) are k NUL-terminated
 * strings, copied; the config then commits to them (a version 2 config with the labels hash,
 * docs/protocol.md §4.5) unless one is empty, which the canonical list cannot hold. Errors:
 * PINHOLE_EINVAL (bad parameters, time_precision 0, name too long), PINHOLE_ETOOBIG (k above
 * PINHOLE_K_SERVER_MAX or the mechanism's count vector above PINHOLE_COUNTS_LEN_MAX entries),
 * PINHOLE_EUNSUPPORTED, PINHOLE_EOVERFLOW, PINHOLE_ENOMEM. Free with
 * pinhole_server_collection_free(). */
int pinhole_server_collection_init(pinhole_server_collection *c, int64_t id, const char *name,
                                   const pinhole_config_params *p, uint32_t time_precision,
                                   uint32_t min_reports, const char *const *labels,
                                   int64_t created);

/** Give c the labels stored as blob[0..len) (k NUL-terminated strings back to back, as
 * labels_blob holds them; copied); the config commits to them as in
 * pinhole_server_collection_init() and the fingerprint follows. Errors: PINHOLE_EFORMAT (not
 * exactly k strings), PINHOLE_ENOMEM. On error c keeps no labels. */
int pinhole_server_collection_set_labels(pinhole_server_collection *c, const void *blob,
                                         size_t len);

/** Check a stored fingerprint against c (labels set): it must be c's own fingerprint, whose
 * version 2 config commits to the labels, or, for a collection stored before configs could
 * commit to labels, the fingerprint of its version 1 config, which c then keeps (so that its
 * devices' configs and reports stay valid). Errors: PINHOLE_EMISMATCH (neither: the parameters
 * changed under the stored fingerprint). */
int pinhole_server_collection_match_fingerprint(pinhole_server_collection *c,
                                                const uint8_t stored[PINHOLE_FINGERPRINT_BYTES]);

/** Bytes of c->labels_blob (0 when the collection has no labels). */
size_t pinhole_server_collection_labels_len(const pinhole_server_collection *c);

/** The inclusive range of time buckets (units of c->time_precision) whose start lies in
 * [from, to) (Unix seconds, from >= 0; to = INT64_MAX for unbounded). *first > *last when no
 * bucket can match. */
void pinhole_server_collection_bucket_range(const pinhole_server_collection *c, int64_t from,
                                            int64_t to, int64_t *first, int64_t *last);

/** Release a collection's configuration and labels; safe on a zeroed struct. */
void pinhole_server_collection_free(pinhole_server_collection *c);

#endif
