/* The relay between the clients' connections and the HTTP daemon. libmicrohttpd answers the
 * framing errors it finds itself, with HTML pages, and reads every request after the first of a
 * kept-alive connection on its own; so the daemon is given one end of a socket pair per
 * connection, and the relay copies the client's bytes to it only after checking each request
 * head (head.h): the first and every later one, and a chunked body's framing. A refused head is
 * replaced by a PINHOLE_HEAD_REFUSE_METHOD request, which the daemon answers in its turn (after
 * the requests before it) as application/problem+json with Connection: close; the client's bytes
 * after it are dropped. When a chunked body's framing breaks, nothing more is forwarded, the
 * daemon's side is ended (it drops the unfinished request) and, once the daemon's answers to the
 * requests before it are out, the relay answers 400 problem+json itself with Connection: close
 * (unless the daemon answered that request early, before its body). A head that takes longer than
 * the head deadline is refused (408). The daemon's bytes go back to the client unchanged; the
 * relay counts the answers it owes, so that a client that ends its side of the connection gets
 * every answer owed before the daemon sees that end (libmicrohttpd, polling, drops a request
 * whose end of stream it reads while answering it). One thread, epoll. */
#ifndef PINHOLE_SERVER_HTTP_RELAY_H
#define PINHOLE_SERVER_HTTP_RELAY_H

#include <stddef.h>

typedef struct pinhole_relay pinhole_relay;

/** Start the relay's thread: heads of at most head_max bytes, each complete within head_timeout
 * seconds of its first byte; a connection whose client takes none of the answer bytes waiting for
 * it for idle_timeout seconds is closed. Errors: PINHOLE_ENOMEM, PINHOLE_EIO (epoll). */
int pinhole_relay_start(pinhole_relay **out, size_t head_max, double head_timeout,
                        double idle_timeout);

/** Relay between client (a connected socket) and daemon (the relay's end of the daemon's socket
 * pair); both are taken, also on error (closed then). Thread-safe. Errors: PINHOLE_ENOMEM,
 * PINHOLE_EIO, PINHOLE_ECANCELED (stopping). */
int pinhole_relay_add(pinhole_relay *r, int client, int daemon);

/** Stop: let the connections whose daemon side has closed deliver what it wrote, for up to grace
 * seconds, then close every connection, join the thread and free the relay. Safe on NULL. */
void pinhole_relay_stop(pinhole_relay *r, double grace);

#endif
