//! Example plugin: reference-data lookups through pg-component's query interface.

use std::cell::RefCell;

wit_bindgen::generate!({ world: "enrich", path: "wit", generate_all });

use pg_component::plugin::query::{self, Statement};
use pg_component::plugin::types::{SqlError, Value};

struct Enrich;

/// The probes' parameters: `int:<n>` an int, `null` a null, `nul` text with a NUL in it (which
/// no SQL value can hold: Postgres refuses it with 22021), anything else text.
fn probe_values(params: Vec<String>) -> Vec<Value> {
    params
        .into_iter()
        .map(|p| match p.strip_prefix("int:").map(str::parse::<i64>) {
            Some(Ok(i)) => Value::Int(i),
            _ if p == "null" => Value::Null,
            _ if p == "nul" => Value::Text("a\0b".into()),
            _ => Value::Text(p),
        })
        .collect()
}

thread_local! {
    /// Prepared on the first row, kept for the instance's life (one transaction).
    static BY_CODE: RefCell<Option<Statement>> = const { RefCell::new(None) };
}

fn render_value(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Boolean(b) => format!("boolean({b})"),
        Value::Int(i) => format!("int({i})"),
        Value::Float(f) => format!("float({f})"),
        Value::Numeric(s) => format!("numeric({s})"),
        Value::Text(s) => format!("text({s})"),
        Value::Bytes(b) => format!(
            "bytes({})",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        ),
        Value::Json(s) => format!("json({s})"),
    }
}

fn render(result: Result<Vec<Vec<Value>>, SqlError>) -> String {
    match result {
        Ok(rows) => rows
            .iter()
            .map(|row| row.iter().map(render_value).collect::<Vec<_>>().join(","))
            .collect::<Vec<_>>()
            .join(";"),
        Err(e) => format!("ERROR {}: {}", e.sqlstate, e.message),
    }
}

impl Guest for Enrich {
    fn country_name(code: String) -> Option<String> {
        BY_CODE.with(|slot| {
            let mut slot = slot.borrow_mut();
            if slot.is_none() {
                *slot = Some(
                    query::prepare(
                        "SELECT name FROM public.countries WHERE code = $1",
                        &["text".to_string()],
                    )
                    .ok()?,
                );
            }
            let row = slot.as_ref()?.query_row(&[Value::Text(code)]).ok()??;
            // The row's first value, moved out (no copy).
            match row.into_iter().next()? {
                Value::Text(name) => Some(name),
                _ => None,
            }
        })
    }

    fn probe(queries: Vec<String>) -> Vec<String> {
        queries
            .iter()
            .map(|sql| render(query::query(sql, &[])))
            .collect()
    }

    fn probe_params(sql: String) -> String {
        let params = [
            Value::Int(7),
            Value::Float(1.5),
            Value::Numeric("2.25".into()),
            Value::Text("t".into()),
            Value::Bytes(vec![1, 2]),
            Value::Json("{\"a\": 1}".into()),
            Value::Boolean(true),
            Value::Null,
        ];
        render(query::query(&sql, &params))
    }

    fn probe_typed(sql: String, param_types: Vec<String>, params: Vec<String>) -> String {
        let params = probe_values(params);
        render(query::prepare(&sql, &param_types).and_then(|s| s.query(&params)))
    }

    fn probe_row(sql: String, params: Vec<String>) -> String {
        let params = probe_values(params);
        match query::prepare(&sql, &[]).and_then(|s| s.query_row(&params)) {
            Ok(None) => "none".into(),
            Ok(Some(row)) => render(Ok(vec![row])),
            Err(e) => render(Err(e)),
        }
    }

    fn count_in_batches(sql: String, batch: u32) -> String {
        let statement = match query::prepare(&sql, &[]) {
            Ok(s) => s,
            Err(e) => return format!("ERROR {}: {}", e.sqlstate, e.message),
        };
        let rows = match statement.open(&[]) {
            Ok(r) => r,
            Err(e) => return format!("ERROR {}: {}", e.sqlstate, e.message),
        };
        let (mut total, mut batches) = (0usize, 0usize);
        loop {
            match rows.fetch(batch) {
                Ok(got) if got.is_empty() => break,
                Ok(got) => {
                    total += got.len();
                    batches += 1;
                }
                Err(e) => return format!("ERROR {}: {}", e.sqlstate, e.message),
            }
        }
        format!("{total} rows in {batches} batches")
    }
}

export!(Enrich);
