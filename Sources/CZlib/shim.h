#include <zlib.h>

// inflateInit2 is a macro in zlib.h; Swift cannot call macros, so wrap it.
static inline int fathom_inflate_init(z_stream *stream) {
    // 15 window bits + 32: accept both zlib and gzip headers.
    return inflateInit2(stream, 15 + 32);
}
