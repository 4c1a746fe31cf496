/* Request heads as the connection gate and the relay check them before libmicrohttpd reads a
 * byte of them (RFC 9112 §2-§7), so that every framing error is answered by the server as
 * application/problem+json (libmicrohttpd answers its own with HTML pages): the request line,
 * each header field line, the body's framing (Content-Length, Transfer-Encoding: chunked), and
 * the bounds under which libmicrohttpd's own parser cannot fail (head size, number of fields). */
#ifndef PINHOLE_SERVER_HTTP_HEAD_H
#define PINHOLE_SERVER_HTTP_HEAD_H

#include "server/http/problem.h"

#include <stddef.h>
#include <stdint.h>

/* Most header fields, query parameters and cookies of one request together (each costs
 * libmicrohttpd a record in the connection's memory pool). */
#define PINHOLE_HEAD_FIELDS_MAX 100u

/* The method of the requests the relay writes to the daemon in place of a refused one: the
 * target is "/<fault>" (a pinhole_head_fault). The relay refuses it from clients. */
#define PINHOLE_HEAD_REFUSE_METHOD "PINHOLE-REFUSE"

/** Why a head (or a chunked body's framing) was refused. */
typedef enum pinhole_head_fault {
    HEAD_OK,
    HEAD_REQUEST_LINE, /* 400: not METHOD SP TARGET SP HTTP-VERSION, or a reserved method */
    HEAD_VERSION,      /* 505: HTTP/x.y other than 1.0 and 1.1 */
    HEAD_FIELD,        /* 400: a field line without a name and a colon, a control character */
    HEAD_FOLDED,       /* 400: obsolete line folding */
    HEAD_LENGTH,       /* 400: Content-Length not one decimal number */
    HEAD_CODING,       /* 400: a Transfer-Encoding other than chunked alone */
    HEAD_BOTH,         /* 400: Content-Length and Transfer-Encoding together */
    HEAD_TOO_LARGE,    /* 431: the head is longer than the server accepts */
    HEAD_TOO_MANY,     /* 431: too many header fields, query parameters and cookies */
    HEAD_TIMEOUT,      /* 408: the head did not arrive in time */
    HEAD_CHUNKS,       /* 400: a chunked body's framing broke (the relay answers it itself) */
    HEAD_FAULTS
} pinhole_head_fault;

/** A checked head's body framing. */
typedef struct pinhole_head_framing {
    int chunked;     /* Transfer-Encoding: chunked */
    uint64_t length; /* else the Content-Length (0 when none) */
} pinhole_head_framing;

/** Bytes of the head at the start of p[0..n), up to and including its blank line (CRLF CRLF, or
 * bare LFs as libmicrohttpd accepts them); 0 when it is not complete yet. */
size_t pinhole_head_end(const char *p, size_t n);

/** Check a complete head p[0..n) (as measured by pinhole_head_end): HEAD_OK with *f its body's
 * framing, or the first fault found. */
pinhole_head_fault pinhole_head_check(const char *p, size_t n, pinhole_head_framing *f);

/** Check the trailer section of a chunked body, p[0..n) up to and including its blank line: its
 * field lines as pinhole_head_check checks them. HEAD_OK, HEAD_FIELD, HEAD_FOLDED or
 * HEAD_TOO_MANY. */
pinhole_head_fault pinhole_head_check_trailer(const char *p, size_t n);

/** The problem type a fault is answered with, and a one-line detail. */
pinhole_problem pinhole_head_problem(pinhole_head_fault f);
const char *pinhole_head_detail(pinhole_head_fault f);

#endif
