//! WIT names as SQL identifiers, and SQL quoting.

/// WIT kebab-case to SQL snake_case: `split-words` → `split_words`.
pub fn sql_ident(wit_name: &str) -> String {
    wit_name.trim_start_matches('%').replace('-', "_")
}

/// Always-quoted SQL identifier: safe for any name, never depends on keywords.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A single-quoted SQL literal.
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
