/* `pinhole-optimize`: the optimization and learning modules of `pinhole analyze` (maxcut,
 * nearest-correlation, single-location, two-layer) as a program of their own, so that only it links
 * LAPACK and GLPK. `pinhole analyze JOB ...` runs it as `pinhole-optimize JOB ...`
 * (server/cli/analyze.c); run by hand it takes the same arguments. */
#include "server/cli/cli.h"

#include <sodium.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "pinhole: libsodium failed to initialise\n");
        return CLI_FAIL;
    }
    return cli_analyze_opt(argc, argv);
}
