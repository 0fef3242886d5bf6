/* Slug logic of the C slugify example (the Rust original: guests/examples/slugify/src/lib.rs).
 *
 * Difference from the Rust version, on purpose (no Unicode tables in C): only ASCII is classified.
 *   - ASCII letters and digits are alphanumeric; ASCII letters are lower-cased.
 *   - Every other ASCII byte (space, punctuation, control) is a separator.
 *   - Every non-ASCII UTF-8 sequence counts as "alphanumeric" and is copied unchanged: it is
 *     neither lower-cased ("Ä" stays "Ä", Rust gives "ä") nor treated as a separator (Rust turns
 *     non-ASCII punctuation and spaces such as "—", "€" or U+00A0 into a dash; here they are kept).
 * For ASCII input the result is the same as the Rust version's.
 * Runs of separators become one '-', with no leading or trailing dash. The input is valid UTF-8
 * (the component model guarantees it for a WIT string), so the output is valid UTF-8 too. */
#include "slug.h"

static int ascii_alnum(uint8_t c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static size_t utf8_len(uint8_t lead) { /* length of the sequence starting with a non-ASCII lead byte */
    if (lead >= 0xF0) return 4;
    if (lead >= 0xE0) return 3;
    return 2;
}

size_t slug_into(const uint8_t *in, size_t n, uint8_t *out) {
    size_t o = 0;
    int dash = 0;
    size_t i = 0;
    while (i < n) {
        uint8_t c = in[i];
        size_t len = c < 0x80 ? 1 : utf8_len(c);
        if (len > n - i) len = n - i; /* never read past the end, even for truncated input */
        if (c < 0x80 && !ascii_alnum(c)) {
            dash = 1;
            i++;
            continue;
        }
        /* A dash is written only before a kept character and after at least one separator, so
         * the output never outgrows the input. */
        if (dash && o > 0) out[o++] = '-';
        dash = 0;
        if (c < 0x80) {
            out[o++] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
        } else {
            for (size_t k = 0; k < len; k++) out[o++] = in[i + k];
        }
        i += len;
    }
    return o;
}

size_t slug_cut(const uint8_t *slug, size_t n, size_t max_len) {
    if (n <= max_len) return n;
    size_t end = max_len;
    while (end > 0 && (slug[end] & 0xC0) == 0x80) end--; /* back to a UTF-8 boundary */
    if (slug[end] == '-') return end;                     /* the cut falls just before a dash */
    for (size_t i = end; i-- > 1;)                         /* else cut at the last dash, if at i > 0 */
        if (slug[i] == '-') return i;
    return end;
}
