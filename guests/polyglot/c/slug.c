/* Slug logic of the C slugify example (the Rust original: guests/examples/slugify/src/lib.rs).
 *
 * Each character is lower-cased like Rust's char::to_lowercase (one character may become up to
 * three), and each resulting character is kept if it is alphanumeric like Rust's
 * char::is_alphanumeric; both come from unicode_tables.h, generated from Rust by
 * ../gen_unicode_tables.rs, so the slugs are byte-identical to the Rust version's. Runs of other
 * characters become one '-', with no leading or trailing dash. The input is valid UTF-8 (the
 * component model guarantees it for a WIT string), so the output is valid UTF-8 too. */
#include "slug.h"
#include "unicode_tables.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Whether code point cp is alphanumeric: an odd number of boundaries are <= cp. */
static int is_alnum(uint32_t cp) {
    if (cp < 0x80) return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    size_t lo = 0, hi = COUNT(ALNUM_BOUNDS);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ALNUM_BOUNDS[mid] <= cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo & 1;
}

/* The lower case of cp into out (up to three code points); returns how many. */
static size_t to_lower(uint32_t cp, uint32_t out[3]) {
    if (cp < 0x80) { /* ASCII, the common case: no table lookup */
        out[0] = (cp >= 'A' && cp <= 'Z') ? cp + ('a' - 'A') : cp;
        return 1;
    }
    for (size_t i = 0; i < COUNT(LOWER_MULTI); i++) {
        if (LOWER_MULTI[i][0] == cp) {
            size_t n = 0;
            while (n < 3 && LOWER_MULTI[i][n + 1] != 0) {
                out[n] = LOWER_MULTI[i][n + 1];
                n++;
            }
            return n;
        }
    }
    /* The run with the last start <= cp, if cp is one of its steps. */
    size_t lo = 0, hi = COUNT(LOWER_RUNS) / 4;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((uint32_t)LOWER_RUNS[mid * 4] <= cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    out[0] = cp;
    if (lo > 0) {
        const int32_t *run = &LOWER_RUNS[(lo - 1) * 4];
        uint32_t start = (uint32_t)run[0], end = (uint32_t)run[1], step = (uint32_t)run[2];
        if (cp <= end && (cp - start) % step == 0) out[0] = (uint32_t)((int32_t)cp + run[3]);
    }
    return 1;
}

/* Decodes the UTF-8 sequence at in[0..n) (valid by contract); stores its length in *len. */
static uint32_t decode(const uint8_t *in, size_t n, size_t *len) {
    uint8_t c = in[0];
    size_t k = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (k > n) k = n; /* never read past the end, even for truncated input */
    uint32_t cp = k == 1 ? c : k == 2 ? (c & 0x1F) : k == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t i = 1; i < k; i++) cp = (cp << 6) | (in[i] & 0x3F);
    *len = k;
    return cp;
}

static size_t encode(uint32_t cp, uint8_t *out) {
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

size_t slug_into(const uint8_t *in, size_t n, uint8_t *out) {
    size_t o = 0;
    int dash = 0;
    size_t i = 0;
    while (i < n) {
        size_t len;
        uint32_t lower[3];
        size_t m = to_lower(decode(in + i, n - i, &len), lower);
        i += len;
        for (size_t k = 0; k < m; k++) {
            if (!is_alnum(lower[k])) {
                dash = 1;
                continue;
            }
            if (dash && o > 0) out[o++] = '-';
            dash = 0;
            o += encode(lower[k], out + o);
        }
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
