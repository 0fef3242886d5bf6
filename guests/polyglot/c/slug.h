/* Pure slug logic for the C slugify example, independent of the component bindings. */
#ifndef PGC_SLUG_H
#define PGC_SLUG_H
#include <stddef.h>
#include <stdint.h>

/* Writes the slug of in[0..n) to out, which must hold at least SLUG_MAX_LEN(n) bytes; returns
 * the slug's length in bytes. Lower-casing can lengthen a character (U+0130, 2 bytes, becomes
 * "i" and U+0307, 3 bytes; U+023A, 2 bytes, becomes U+2C65, 3 bytes), and a dash may come before
 * what a character becomes: an ASCII byte gives at most 2 bytes, a 2-byte character at most 4,
 * a 3- or 4-byte character at most 5, so never more than twice the input. */
#define SLUG_MAX_LEN(n) (2 * (n) + 4)
size_t slug_into(const uint8_t *in, size_t n, uint8_t *out);

/* The length in bytes of the longest prefix of slug[0..n) that slugify-max keeps for max_len. */
size_t slug_cut(const uint8_t *slug, size_t n, size_t max_len);
#endif
