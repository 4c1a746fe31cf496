/* The answers a relayed connection owes its client: the relay (relay.h) counts each request it
 * forwards (or refuses in its place) and reads the daemon's byte stream back, so that it knows
 * when every answer owed has fully come back. Only what that needs is read of an answer: its
 * status line, its Content-Length, and no body after a HEAD request or a 1xx, 204 or 304 status
 * (RFC 9112 §6.3). */
#ifndef PINHOLE_SERVER_HTTP_ANSWERS_H
#define PINHOLE_SERVER_HTTP_ANSWERS_H

#include <stddef.h>
#include <stdint.h>

/** Answers owed at most: the relay does not read a client while that many are owed; more heads
 * than that in one read, and the answers are no longer counted (lost). */
#define PINHOLE_ANSWERS_OWED_MAX 64u
#define PINHOLE_ANSWERS_LINE_MAX 64u /* an answer's status line or Content-Length field */

/** One connection's count, zero-initialised. owed: final answers not fully back yet, oldest
 * first; bit i of head_bits is 1 when the i-th is to a HEAD request. lost: an answer whose length
 * the reader cannot follow (none without a Content-Length comes from libmicrohttpd here) or more
 * than PINHOLE_ANSWERS_OWED_MAX owed; from then on nothing is counted. The rest is where the
 * daemon's stream is: in an answer's head (the current line, cut at PINHOLE_ANSWERS_LINE_MAX
 * bytes: longer lines are not needed) or in its body (left bytes). */
typedef struct pinhole_answers {
    unsigned owed;
    uint64_t head_bits;
    int lost;
    int in_body, status_seen, status, has_length;
    uint64_t length, left;
    char line[PINHOLE_ANSWERS_LINE_MAX];
    size_t line_len;
} pinhole_answers;

/** One more answer owed, to a HEAD request (head != 0) or not. No errors: past
 * PINHOLE_ANSWERS_OWED_MAX it sets lost. */
void pinhole_answers_owe(pinhole_answers *a, int head);

/** The daemon's next n bytes: each final answer complete in them is no longer owed. Bytes may be
 * split anywhere between calls. No errors: a stream it cannot follow sets lost. */
void pinhole_answers_read(pinhole_answers *a, const uint8_t *p, size_t n);

#endif
