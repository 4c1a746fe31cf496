/* Posting many reports to a collection over several connections: simulated devices drawn from a
 * count file and encoded with the client library, or reports read from a file. Shared by
 * `pinhole submit` and `pinhole demo`. */
#ifndef PINHOLE_SERVER_CLI_UPLOAD_H
#define PINHOLE_SERVER_CLI_UPLOAD_H

#include "server/cli/http_client.h"
#include "server/data/countfile.h"

#include <stdint.h>
#include <stdio.h>

typedef struct cli_upload {
    /* in */
    const char *url, *token;
    uint64_t collection;
    const cli_collection *coll;
    /* source 1, simulation: users devices, each with one item drawn from the count file `sample`
     * (pinhole_countfile_sample) and its report made by pinhole_device_report; batch b's
     * randomness is keyed by (seed, b), so a rerun with the same seed sends the same reports (and
     * the server acknowledges them as duplicates). */
    const pinhole_countfile *sample;
    uint64_t users, seed;
    /* source 2, a file: nreports encoded reports (sealed ones when file_sealed), report i at
     * file + offset[i], len[i] bytes */
    const uint8_t *file;
    const size_t *offset, *len;
    uint64_t nreports;
    int file_sealed;
    unsigned batch;       /* reports per request (<= PINHOLE_BATCH_MAXCOUNT) */
    unsigned connections; /* parallel connections (threads) */
    unsigned retries;     /* per batch */
    int seal;             /* seal each report to the server's X25519 key */
    uint64_t time;        /* report time in the collection's precision units */
    FILE *ack_log;        /* when not NULL: every acknowledged report, one a line: hex id, time, hex
                           * payload (unsealed reports only) */
    /* out (simulation only: truth[k] true counts, counts[counts_len] the acknowledged reports'
     * count vector, both allocated by cli_upload_run, free() them) */
    uint64_t *truth, *counts;
    uint64_t accepted, duplicates, rejected, failed_batches, sent;
    double seconds;
} cli_upload;

/** Run the upload. 0 when every batch got an answer of 200, else -1 (after trying all batches;
 * failures are counted in failed_batches and reported on stderr). */
int cli_upload_run(cli_upload *u);

#endif
