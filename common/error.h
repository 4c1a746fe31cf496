/* Error codes shared by every Pinhole layer: negative PINHOLE_E* values, 0 for success. */
#ifndef PINHOLE_COMMON_ERROR_H
#define PINHOLE_COMMON_ERROR_H

#include <pinhole/pinhole.h> /* the codes and pinhole_strerror() are public */

#endif
