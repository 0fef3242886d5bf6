/* Pure slug logic for the C slugify example, independent of the component bindings. */
#ifndef PGC_SLUG_H
#define PGC_SLUG_H
#include <stddef.h>
#include <stdint.h>

/* Writes the slug of in[0..n) to out, which must hold at least n bytes (a slug is never longer
 * than its input); returns the slug's length in bytes. */
size_t slug_into(const uint8_t *in, size_t n, uint8_t *out);

/* The length in bytes of the longest prefix of slug[0..n) that slugify-max keeps for max_len. */
size_t slug_cut(const uint8_t *slug, size_t n, size_t max_len);
#endif
