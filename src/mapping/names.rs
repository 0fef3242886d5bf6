//! WIT names as SQL identifiers, and SQL quoting.

use std::borrow::Cow;

/// WIT kebab-case to SQL snake_case: `split-words` → `split_words`.
pub fn sql_ident(wit_name: &str) -> String {
    sql_ident_cow(wit_name).into_owned()
}

/// [`sql_ident`] without an allocation when the name has no `-` to replace: for the per-row
/// paths.
pub fn sql_ident_cow(wit_name: &str) -> Cow<'_, str> {
    let name = wit_name.trim_start_matches('%');
    if name.contains('-') {
        Cow::Owned(name.replace('-', "_"))
    } else {
        Cow::Borrowed(name)
    }
}

/// Whether `s` is `sql_ident(wit_name)`, compared in place (no allocation).
pub fn is_sql_ident_of(wit_name: &str, s: &str) -> bool {
    let name = wit_name.trim_start_matches('%');
    name.len() == s.len()
        && name
            .bytes()
            .zip(s.bytes())
            .all(|(w, c)| if w == b'-' { c == b'_' } else { w == c })
}

/// Always-quoted SQL identifier: safe for any name, never depends on keywords.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A single-quoted SQL literal.
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_place_forms_agree_with_sql_ident() {
        for name in [
            "plain",
            "split-words",
            "%keyword",
            "%kebab-case",
            "a_b",
            "-",
            "",
        ] {
            assert_eq!(sql_ident_cow(name), sql_ident(name));
            assert!(is_sql_ident_of(name, &sql_ident(name)));
        }
        assert!(!is_sql_ident_of("a-b", "a-b"));
        assert!(!is_sql_ident_of("a_b", "a-b"));
        assert!(!is_sql_ident_of("ab", "abc"));
        assert!(matches!(sql_ident_cow("plain"), Cow::Borrowed("plain")));
    }
}
