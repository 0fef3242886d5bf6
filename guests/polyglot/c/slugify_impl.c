/* The C slugify example's exports, on the bindings that `wit-bindgen c` generates from
 * guests/examples/slugify/wit (slugify.h and slugify.c, written by build.sh at build time).
 * Ownership (wit-bindgen's C convention): the callee owns the input string and frees it; the
 * returned string is freed by the generated cabi_post_* function when its length is > 0. */
#include <stdlib.h>
#include <string.h>

#include "slug.h"
#include "slugify.h"

/* The slug of *input, cut to max_len bytes by slugify-max's rule; consumes *input. */
static void slugify_common(slugify_string_t *input, size_t max_len, slugify_string_t *ret) {
    size_t n = 0;
    uint8_t *out = NULL;
    if (input->len > 0) {
        out = malloc(SLUG_MAX_LEN(input->len));
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

/* A malloc'd copy of a C string as a WIT string (the cabi_post_* function frees it). */
static slugify_string_t string_copy(const char *s) {
    slugify_string_t out = {NULL, strlen(s)};
    if (out.len > 0) {
        out.ptr = malloc(out.len);
        if (!out.ptr) abort();
        memcpy(out.ptr, s, out.len);
    }
    return out;
}

/* result<slugged, slug-error>: return true with *ret filled for ok, false with *err for the
 * error. record post arrives as a struct; option<u32> as {is_some, val}. */
bool exports_slugify_slug_post(slugify_post_t *post, slugify_slugged_t *ret, slugify_slug_error_t *err) {
    size_t full = 0;
    uint8_t *out = NULL;
    if (post->title.len > 0) {
        out = malloc(SLUG_MAX_LEN(post->title.len));
        if (!out) abort();
        full = slug_into(post->title.ptr, post->title.len, out);
    }
    if (full == 0) {
        free(out);
        /* The title goes back in the error: its buffer changes hands, no copy. */
        err->title = post->title;
        err->reason = string_copy("the title has no letter or digit");
        return false;
    }
    slugify_string_free(&post->title);
    size_t n = post->max_len.is_some ? slug_cut(out, full, post->max_len.val) : full;
    if (n == 0) { /* cut to nothing: an empty string has no buffer for cabi_post_* to free */
        free(out);
        out = NULL;
    }
    ret->slug.ptr = out;
    ret->slug.len = n;
    ret->truncated = n < full;
    return true;
}
