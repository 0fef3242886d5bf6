"""Example plugin in Python: URL slugs from titles (world example:slugify@0.1.0).

The same plugin as the Rust one in guests/examples/slugify, with byte-identical results:
build it into a component with ./build.sh (componentize-py).
"""

from bisect import bisect_right

import wit_world
from componentize_py_types import Err
from unicode_tables import ALNUM_BOUNDS, LOWER_MULTI, LOWER_RUNS

# Rust's char::to_lowercase, from the generated table: ch.lower() agrees except for characters
# newer than the Unicode version of the Python inside componentize-py.
LOWER = {}
for i in range(0, len(LOWER_RUNS), 4):
    start, end, step, delta = LOWER_RUNS[i:i + 4]
    for cp in range(start, end + 1, step):
        LOWER[chr(cp)] = chr(cp + delta)
for cp, s in LOWER_MULTI.items():
    LOWER[chr(cp)] = s


def is_alnum(c: str) -> bool:
    """Rust's char::is_alphanumeric: Unicode Alphabetic, or general category Nd, Nl or No.

    Not str.isalnum(), which goes by general category and misses the Alphabetic marks (e.g.
    U+0345, or the vowel signs of Indic scripts): hence the table generated from Rust.
    """
    if c < "\x80":
        return c.isalnum()  # [0-9A-Za-z]
    return bisect_right(ALNUM_BOUNDS, ord(c)) & 1 == 1


def slug(text: str) -> str:
    out = []
    dash = False
    for ch in text:
        # One character at a time, like Rust's flat_map(char::to_lowercase): str.lower() on the
        # whole string would turn a word-final capital sigma into "ς" instead of "σ".
        for c in LOWER.get(ch, ch):
            if is_alnum(c):
                if dash and out:
                    out.append("-")
                out.append(c)
                dash = False
            else:
                dash = True
    return "".join(out)


def slug_max(text: str, max_len: int) -> str:
    """At most max_len UTF-8 bytes, cut at a character boundary and, where possible, at a dash."""
    full = slug(text).encode("utf-8")
    if len(full) <= max_len:
        return full.decode("utf-8")
    end = max_len
    while full[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte: not a character boundary
        end -= 1
    cut = full[:end]
    if full[end] == 0x2D:  # the cut falls right before a dash
        return cut.decode("utf-8")
    i = cut.rfind(b"-")
    if i > 0:
        cut = cut[:i]
    return cut.decode("utf-8")


class WitWorld(wit_world.WitWorld):
    def slugify(self, input: str) -> str:
        return slug(input)

    def slugify_max(self, input: str, max_len: int) -> str:
        return slug_max(input, max_len)

    def slug_post(self, post: wit_world.Post) -> wit_world.Slugged:
        # result<slugged, slug-error>: return the ok value, raise Err(value) for the error.
        full = slug(post.title)
        if not full:
            raise Err(wit_world.SlugError(title=post.title, reason="the title has no letter or digit"))
        # option<u32> arrives as None or an int.
        s = full if post.max_len is None else slug_max(post.title, post.max_len)
        return wit_world.Slugged(slug=s, truncated=s != full)
