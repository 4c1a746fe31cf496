/* Streaming estimates: one SGD step on 1/2 ||x - h_b||^2 per bucket, variance tracked exactly. */
#include "server/analytics/stream.h"
#include "common/error.h"
#include "server/analytics/consistency.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int pinhole_stream_init(pinhole_stream *s, uint64_t k, double eta, int project, double *x,
                        double *var)
{
    if (k == 0 || !x || !(eta == 0 || (eta > 0 && eta <= 1)))
        return PINHOLE_EINVAL;
    *s = (pinhole_stream){.k = k, .eta = eta, .project = project != 0, .x = x, .var = var};
    return PINHOLE_OK;
}

int pinhole_stream_update(pinhole_stream *s, const double *h, const double *h_var, double n_b)
{
    if (!isfinite(n_b) || n_b < 0 || (s->var && !h_var))
        return PINHOLE_EINVAL;
    for (uint64_t i = 0; i < s->k; i++)
        if (!isfinite(h[i]) || (s->var && (!isfinite(h_var[i]) || h_var[i] < 0)))
            return PINHOLE_EINVAL;
    const double eta = s->steps == 0 ? 1.0 : s->eta > 0 ? s->eta : 1.0 / (double)(s->steps + 1);
    const double n = s->steps == 0 ? n_b : s->n + eta * (n_b - s->n);
    /* (the first step copies the bucket: the caller's arrays may hold anything before it) */
    if (s->project) {
        /* step into scratch, project, then commit: the state stays unchanged on error */
        double *y = malloc(s->k * sizeof *y);
        if (!y)
            return PINHOLE_ENOMEM;
        for (uint64_t i = 0; i < s->k; i++)
            y[i] = s->steps == 0 ? h[i] : s->x[i] - eta * (s->x[i] - h[i]);
        const int rc = pinhole_simplex_project(y, s->k, n, y, NULL);
        if (rc == PINHOLE_OK)
            memcpy(s->x, y, s->k * sizeof *y);
        free(y);
        if (rc != PINHOLE_OK)
            return rc;
    } else {
        for (uint64_t i = 0; i < s->k; i++)
            s->x[i] = s->steps == 0 ? h[i] : s->x[i] - eta * (s->x[i] - h[i]);
    }
    if (s->var) {
        const double keep = (1 - eta) * (1 - eta), add = eta * eta;
        for (uint64_t i = 0; i < s->k; i++)
            s->var[i] = s->steps == 0 ? h_var[i] : keep * s->var[i] + add * h_var[i];
    }
    s->n = n;
    s->steps++;
    return PINHOLE_OK;
}
