// Example plugin in JavaScript: URL slugs from titles (world example:slugify@0.1.0).
//
// The same plugin as the Rust one in guests/examples/slugify, with byte-identical results:
// build it into a component with ./build.sh (componentize-js). The exports of the world are the
// module's exports, in camelCase: slugify-max is slugifyMax.

import { ALNUM_BOUNDS, LOWER_MULTI, LOWER_RUNS } from './unicode_tables.js';

// Rust's char::to_lowercase, from the generated table: String.prototype.toLowerCase agrees
// except for characters newer than the Unicode version of the engine inside componentize-js.
const LOWER = new Map(LOWER_MULTI.map(([cp, s]) => [String.fromCodePoint(cp), s]));
for (let i = 0; i < LOWER_RUNS.length; i += 4) {
  const [start, end, step, delta] = LOWER_RUNS.slice(i, i + 4);
  for (let cp = start; cp <= end; cp += step) {
    LOWER.set(String.fromCodePoint(cp), String.fromCodePoint(cp + delta));
  }
}

// Rust's char::is_alphanumeric: Unicode Alphabetic, or general category Nd, Nl or No. The
// engine is built without ICU, so /[\p{Alphabetic}\p{N}]/u is a syntax error there: hence the
// table generated from Rust (an odd number of boundaries <= cp means inside a range).
function isAlnum(cp) {
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
  let out = '';
  let dash = false;
  // for..of walks code points, not UTF-16 units; lower-case one character at a time, like
  // Rust's flat_map(char::to_lowercase) (a whole-string toLowerCase() would turn a word-final
  // capital sigma into "ς" instead of "σ").
  for (const ch of input) {
    for (const c of LOWER.get(ch) ?? ch) {
      if (isAlnum(c.codePointAt(0))) {
        if (dash && out.length > 0) out += '-';
        out += c;
        dash = false;
      } else {
        dash = true;
      }
    }
  }
  return out;
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
  for (const c of full) {
    const cp = c.codePointAt(0);
    bytes += utf8Len(cp);
    if (bytes > maxLen) break;
    end += c.length;
  }
  if (end === full.length) return full;
  const cut = full.slice(0, end);
  if (full[end] === '-') return cut;
  const i = cut.lastIndexOf('-');
  return i > 0 ? cut.slice(0, i) : cut;
}
