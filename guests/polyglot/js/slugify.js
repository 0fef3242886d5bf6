// Example plugin in JavaScript: URL slugs from titles (world example:slugify@0.1.0).
//
// The same plugin as the Rust one in guests/examples/slugify, with byte-identical results:
// build it into a component with ./build.sh (componentize-js). The exports of the world are the
// module's exports, in camelCase: slugify-max is slugifyMax.

import { ALNUM_BOUNDS, LOWER_MULTI, LOWER_RUNS } from './unicode_tables.js';

// Rust's char::to_lowercase beyond ASCII, from the generated table: String.prototype.toLowerCase
// agrees except for characters newer than the Unicode version of the engine in componentize-js.
// Code point -> code point, or -> array of code points for the few that lower-case to several.
const LOWER = new Map();
for (let i = 0; i < LOWER_RUNS.length; i += 4) {
  const [start, end, step, delta] = LOWER_RUNS.slice(i, i + 4);
  for (let cp = start; cp <= end; cp += step) LOWER.set(cp, cp + delta);
}
for (const [cp, s] of LOWER_MULTI) LOWER.set(cp, Array.from(s, (c) => c.codePointAt(0)));

// Rust's char::is_alphanumeric: Unicode Alphabetic, or general category Nd, Nl or No. The
// engine is built without ICU, so /[\p{Alphabetic}\p{N}]/u is a syntax error there: hence the
// table generated from Rust (an odd number of boundaries <= cp means inside a range).
function isAlnum(cp) {
  if (cp < 0x80) {
    const letter = cp | 0x20; // ASCII upper case to lower case
    return (cp >= 0x30 && cp <= 0x39) || (letter >= 0x61 && letter <= 0x7a); // [0-9A-Za-z]
  }
  let lo = 0;
  let hi = ALNUM_BOUNDS.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ALNUM_BOUNDS[mid] <= cp) lo = mid + 1;
    else hi = mid;
  }
  return (lo & 1) === 1;
}

function slug(input) {
  // Code points of the slug; few strings are made, so that little is left for the collector.
  const out = [];
  let dash = false;
  const push = (cp) => {
    if (isAlnum(cp)) {
      if (dash && out.length > 0) out.push(0x2d);
      out.push(cp);
      dash = false;
    } else {
      dash = true;
    }
  };
  for (let i = 0; i < input.length; ) {
    const cp = input.codePointAt(i);
    i += cp > 0xffff ? 2 : 1;
    // One character at a time, like Rust's flat_map(char::to_lowercase) (a whole-string
    // toLowerCase() would turn a word-final capital sigma into "ς" instead of "σ").
    let lower = cp;
    if (cp >= 0x41 && cp <= 0x5a) lower = cp + 0x20;
    else if (cp >= 0x80) lower = LOWER.get(cp) ?? cp;
    if (typeof lower === 'number') push(lower);
    else lower.forEach(push);
  }
  let s = '';
  for (let i = 0; i < out.length; i += 4096) {
    s += String.fromCodePoint.apply(null, out.slice(i, i + 4096));
  }
  return s;
}

// The UTF-8 length of one code point.
function utf8Len(cp) {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

export function slugify(input) {
  return slug(input);
}

// At most maxLen UTF-8 bytes, cut at a character boundary and, where possible, at a dash.
export function slugifyMax(input, maxLen) {
  const full = slug(input);
  // end: the longest prefix of whole characters of at most maxLen bytes (as a UTF-16 index).
  let bytes = 0;
  let end = 0;
  while (end < full.length) {
    const cp = full.codePointAt(end);
    bytes += utf8Len(cp);
    if (bytes > maxLen) break;
    end += cp > 0xffff ? 2 : 1;
  }
  if (end === full.length) return full;
  const cut = full.slice(0, end);
  if (full[end] === '-') return cut;
  const i = cut.lastIndexOf('-');
  return i > 0 ? cut.slice(0, i) : cut;
}

// result<slugged, slug-error>: the returned value is ok; a thrown object with a `payload` is the
// error, its payload the slug-error record. Record fields are camelCase (max-len is maxLen), and
// an option is `undefined` (or null) for none.
export function slugPost(post) {
  const full = slug(post.title);
  if (full === '') {
    throw { payload: { title: post.title, reason: 'the title has no letter or digit' } };
  }
  const s = post.maxLen === undefined || post.maxLen === null ? full : slugifyMax(post.title, post.maxLen);
  return { slug: s, truncated: s !== full };
}
