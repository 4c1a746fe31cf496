/* The analyst dashboard's static files, embedded in the server at build time (server/http/ui/). */
#ifndef PINHOLE_SERVER_HTTP_UI_H
#define PINHOLE_SERVER_HTTP_UI_H

#include <stddef.h>

typedef struct pinhole_ui_asset {
    const char *name; /* file name, e.g. "index.html" */
    const unsigned char *data;
    size_t len;               /* bytes */
    const char *content_type; /* HTTP Content-Type */
} pinhole_ui_asset;

/** The embedded file called name (no directories), or NULL. */
const pinhole_ui_asset *pinhole_ui_find(const char *name);

#endif
