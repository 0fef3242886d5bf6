/* The C slugify example's exports, on the bindings that `wit-bindgen c` generates from
 * guests/examples/slugify/wit (slugify.h and slugify.c, written by build.sh at build time).
 * Ownership (wit-bindgen's C convention): the callee owns the input string and frees it; the
 * returned string is freed by the generated cabi_post_* function when its length is > 0. */
#include <stdlib.h>

#include "slug.h"
#include "slugify.h"

/* The slug of *input, cut to max_len bytes by slugify-max's rule; consumes *input. */
static void slugify_common(slugify_string_t *input, size_t max_len, slugify_string_t *ret) {
    size_t n = 0;
    uint8_t *out = NULL;
    if (input->len > 0) {
        out = malloc(input->len); /* a slug is never longer than its input */
        if (!out) abort();
        n = slug_into(input->ptr, input->len, out);
        n = slug_cut(out, n, max_len);
    }
    slugify_string_free(input);
    if (n == 0) { /* an empty string needs no buffer, and cabi_post_* frees none */
        free(out);
        out = NULL;
    }
    ret->ptr = out;
    ret->len = n;
}

void exports_slugify_slugify(slugify_string_t *input, slugify_string_t *ret) {
    slugify_common(input, SIZE_MAX, ret);
}

void exports_slugify_slugify_max(slugify_string_t *input, uint32_t max_len, slugify_string_t *ret) {
    slugify_common(input, max_len, ret);
}
