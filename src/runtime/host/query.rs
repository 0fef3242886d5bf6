//! Host side of `pg-component:plugin/query@0.2.0`: the guest's statements and cursors live in
//! its store's resource table; the work is `crate::query`'s.

use wasmtime::component::{HasSelf, Linker, Resource};

use super::HostState;
use super::v0_2::pg_component::plugin::{query, types};
use crate::query as q;

fn to_host(value: types::Value) -> q::Value {
    use types::Value as V;
    match value {
        V::Null => q::Value::Null,
        V::Boolean(b) => q::Value::Boolean(b),
        V::Int(i) => q::Value::Int(i),
        V::Float(f) => q::Value::Float(f),
        V::Numeric(s) => q::Value::Numeric(s),
        V::Text(s) => q::Value::Text(s),
        V::Bytes(b) => q::Value::Bytes(b),
        V::Json(s) => q::Value::Json(s),
    }
}

fn to_guest(value: q::Value) -> types::Value {
    use types::Value as V;
    match value {
        q::Value::Null => V::Null,
        q::Value::Boolean(b) => V::Boolean(b),
        q::Value::Int(i) => V::Int(i),
        q::Value::Float(f) => V::Float(f),
        q::Value::Numeric(s) => V::Numeric(s),
        q::Value::Text(s) => V::Text(s),
        q::Value::Bytes(b) => V::Bytes(b),
        q::Value::Json(s) => V::Json(s),
    }
}

fn row_to_guest(row: Vec<q::Value>) -> Vec<types::Value> {
    row.into_iter().map(to_guest).collect()
}

fn rows_to_guest(rows: Vec<Vec<q::Value>>) -> Vec<Vec<types::Value>> {
    rows.into_iter().map(row_to_guest).collect()
}

fn columns_to_guest(columns: &[q::Column]) -> Vec<types::Column> {
    columns
        .iter()
        .map(|c| types::Column {
            name: c.name.clone(),
            type_name: c.type_name.clone(),
        })
        .collect()
}

fn error_to_guest(e: q::SqlError) -> types::SqlError {
    types::SqlError {
        sqlstate: e.sqlstate,
        message: e.message,
        detail: e.detail,
        hint: e.hint,
    }
}

/// An interrupt ends the guest call (a trap the runtime reports as 57014); a SQL error is the
/// guest's to handle.
fn deliver<T, U>(
    result: q::QueryResult<T>,
    convert: impl FnOnce(T) -> wasmtime::Result<U>,
) -> wasmtime::Result<Result<U, types::SqlError>> {
    match result {
        Err(interrupted) => Err(wasmtime::Error::new(interrupted)),
        Ok(Err(e)) => Ok(Err(error_to_guest(e))),
        Ok(Ok(v)) => convert(v).map(Ok),
    }
}

fn params(values: Vec<types::Value>) -> Vec<q::Value> {
    values.into_iter().map(to_host).collect()
}

impl types::Host for HostState {}

impl query::Host for HostState {
    fn prepare(
        &mut self,
        sql: String,
        param_types: Vec<String>,
    ) -> wasmtime::Result<Result<Resource<q::Statement>, types::SqlError>> {
        deliver(q::prepare(&sql, &param_types), |statement| {
            Ok(self.table.push(statement)?)
        })
    }

    fn query(
        &mut self,
        sql: String,
        values: Vec<types::Value>,
    ) -> wasmtime::Result<Result<Vec<Vec<types::Value>>, types::SqlError>> {
        deliver(q::query(&sql, &params(values)), |rows| {
            Ok(rows_to_guest(rows))
        })
    }
}

impl query::HostStatement for HostState {
    fn columns(
        &mut self,
        statement: Resource<q::Statement>,
    ) -> wasmtime::Result<Vec<types::Column>> {
        Ok(columns_to_guest(&self.table.get(&statement)?.columns))
    }

    fn query(
        &mut self,
        statement: Resource<q::Statement>,
        values: Vec<types::Value>,
    ) -> wasmtime::Result<Result<Vec<Vec<types::Value>>, types::SqlError>> {
        let statement = self.table.get(&statement)?;
        deliver(q::run(statement, &params(values)), |rows| {
            Ok(rows_to_guest(rows))
        })
    }

    fn query_row(
        &mut self,
        statement: Resource<q::Statement>,
        values: Vec<types::Value>,
    ) -> wasmtime::Result<Result<Option<Vec<types::Value>>, types::SqlError>> {
        let statement = self.table.get(&statement)?;
        deliver(q::run_row(statement, &params(values)), |row| {
            Ok(row.map(row_to_guest))
        })
    }

    fn open(
        &mut self,
        statement: Resource<q::Statement>,
        values: Vec<types::Value>,
    ) -> wasmtime::Result<Result<Resource<q::Rows>, types::SqlError>> {
        let opened = q::open(self.table.get(&statement)?, &params(values));
        deliver(opened, |rows| Ok(self.table.push(rows)?))
    }

    fn drop(&mut self, statement: Resource<q::Statement>) -> wasmtime::Result<()> {
        self.table.delete(statement)?;
        Ok(())
    }
}

impl query::HostRows for HostState {
    fn columns(&mut self, rows: Resource<q::Rows>) -> wasmtime::Result<Vec<types::Column>> {
        Ok(columns_to_guest(&self.table.get(&rows)?.columns))
    }

    fn fetch(
        &mut self,
        rows: Resource<q::Rows>,
        count: u32,
    ) -> wasmtime::Result<Result<Vec<Vec<types::Value>>, types::SqlError>> {
        let rows = self.table.get(&rows)?;
        deliver(q::fetch(rows, count), |batch| Ok(rows_to_guest(batch)))
    }

    fn drop(&mut self, rows: Resource<q::Rows>) -> wasmtime::Result<()> {
        self.table.delete(rows)?;
        Ok(())
    }
}

/// Serve the interface (and its `types`) from `linker`.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    types::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)?;
    query::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)
}
