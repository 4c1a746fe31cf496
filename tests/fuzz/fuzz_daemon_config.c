/* libFuzzer harness: the pinhole-server config-file parser on arbitrary text. It must never crash
 * or leak, must give the same result when run twice, and must never accept a line it could not
 * have read whole. */
#include "common/error.h"
#include "server/daemon/config.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (sodium_init() < 0 || !freopen("/dev/null", "r", stdin)) /* a token file of /dev/stdin */
            abort();
        ready = 1;
    }
    if (size == 0)
        return 0;
    static pinhole_daemon_config a, b;
    char ea[512] = "", eb[512] = "";
    int rc[2];
    for (int i = 0; i < 2; i++) {
        pinhole_daemon_config *c = i ? &b : &a;
        pinhole_daemon_config_default(c);
        FILE *f = fmemopen((void *)data, size, "r");
        if (!f)
            return 0;
        rc[i] = pinhole_daemon_config_stream(c, f, "fuzz.conf", i ? eb : ea, sizeof ea);
        fclose(f);
    }
    if (rc[0] != rc[1] || strcmp(ea, eb) != 0 || memcmp(&a, &b, sizeof a) != 0)
        abort(); /* the parser depends on something besides its input */
    if (rc[0] != PINHOLE_OK && rc[0] != PINHOLE_EINVAL && rc[0] != PINHOLE_EIO)
        abort();
    if (rc[0] != PINHOLE_OK && strncmp(ea, "fuzz.conf:", 10) != 0)
        abort(); /* every refusal names the file and line */
    return 0;
}
