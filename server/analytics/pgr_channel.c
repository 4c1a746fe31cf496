/* The PGR incidence product on doubles and the channel probabilities. The product is the
 * reconstruction's dynamic program (server/estimate/pgr_dp.c) instantiated for doubles, so the
 * integer reconstruction and the likelihood methods share one program and its speed. */
#include "server/analytics/pgr_channel.h"
#include "common/error.h"
#include "server/estimate/pgr_dp.h"
#include "server/estimate/pool.h"

#include <stdint.h>

void pinhole_pgr_channel(const pinhole_pgr *g, double *alpha, double *beta)
{
    *beta = g->s_in / (double)g->c_set;
    *alpha = (1.0 - g->s_in) / (double)(g->K - g->c_set);
}

unsigned pinhole_pgr_incidence_threads(const pinhole_pgr *g)
{
    pinhole_pgr_cost_estimate c;
    pinhole_pgr_cost_model(g->q, g->t, g->K, g->K, 1, &c);
    /* below about a millisecond of work, handing it to a second thread costs more than it saves */
    return c.dp_seconds < 1e-3 ? 1 : pinhole_online_cores();
}

int pinhole_pgr_incidence_ex(const pinhole_pgr *g, const double *in, double *out, uint64_t nout,
                             pinhole_pgr_workspace *ws, unsigned threads)
{
    if (threads == 0)
        threads = pinhole_pgr_incidence_threads(g);
    if (threads > PINHOLE_PGR_THREADS_MAX)
        threads = PINHOLE_PGR_THREADS_MAX;
    return pinhole_pgr_dp_f64(g, in, out, nout, threads, ws);
}

int pinhole_pgr_incidence(const pinhole_pgr *g, const double *in, double *out)
{
    return pinhole_pgr_incidence_ex(g, in, out, g->K, NULL, 0);
}
