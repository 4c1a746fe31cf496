/* Why a set of mechanism parameters is refused, in a sentence a user can act on. */
#ifndef PINHOLE_COMMON_EXPLAIN_H
#define PINHOLE_COMMON_EXPLAIN_H

#include "common/mechanism.h"

#include <stddef.h>

/** Check parameters for a new collection: PINHOLE_OK when pinhole_config_init() accepts them and
 * they ask for nothing the library would silently change, else the error, with a sentence saying
 * why in buf (len bytes, NUL-terminated; empty on PINHOLE_OK). Stricter than pinhole_config_init()
 * in one way: an HR block larger than one block for k (which pinhole_config_init() shrinks, so
 * that stored collections keep loading) is refused. Errors: those of pinhole_config_init(). */
int pinhole_config_explain(const pinhole_config_params *p, char *buf, size_t len);

#endif
