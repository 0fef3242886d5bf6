//! Read-only queries for plugins (`pg-component:plugin/query@0.2.0`), on the Postgres side.
//!
//! Every statement a guest runs goes through [`guarded`]: an internal subtransaction (so that a
//! Postgres ERROR is caught, rolled back and handed to the guest as a value, never unwinding
//! across wasm frames), SPI in read-only mode, and the transaction marked read-only
//! (`XactReadOnly`) for its duration, so that neither a writing statement nor a function that
//! writes (`nextval`, a volatile SQL or PL/pgSQL function) can write. The subtransaction's end
//! restores `XactReadOnly` on both paths. Queries run as the current user, in the caller's
//! transaction and snapshot; a read-only subtransaction takes no transaction ID, so this works
//! on hot standbys. A cancel or `statement_timeout` is not handed to the guest: it ends the
//! guest call (see [`Interrupted`]).

use std::borrow::Cow;
use std::ffi::{CStr, CString};

use pgrx::pg_sys;
use pgrx::pg_sys::panic::CaughtError;
use pgrx::prelude::*;

use crate::convert::datum::utf8_database;
use crate::guc;

/// A SQL value as plugins send and receive it (the WIT `value`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    Int(i64),
    Float(f64),
    Numeric(String),
    Text(String),
    Bytes(Vec<u8>),
    Json(String),
}

/// A result column (the WIT `column`).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub type_name: String,
}

/// An error Postgres raised, as the guest sees it (the WIT `sql-error`).
#[derive(Debug, Clone, PartialEq)]
pub struct SqlError {
    pub sqlstate: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

impl SqlError {
    fn new(sqlstate: &str, message: impl Into<String>) -> SqlError {
        SqlError {
            sqlstate: sqlstate.into(),
            message: message.into(),
            detail: None,
            hint: None,
        }
    }
}

/// A cancel, `statement_timeout` or termination arrived during a guest's query: the guest call
/// ends with it (57014) instead of the guest seeing it.
#[derive(Debug, Clone)]
pub struct Interrupted(pub String);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted during a query: {}", self.0)
    }
}

impl std::error::Error for Interrupted {}

/// What a guest query returns: a value for the guest, or an interrupt for the host.
pub type QueryResult<T> = Result<Result<T, SqlError>, Interrupted>;

/// A planned statement, kept (`SPI_keepplan`) until [`Statement::drop`] frees it.
pub struct Statement {
    plan: pg_sys::SPIPlanPtr,
    /// The types of $1…$n, with their declared type modifiers (`varchar(3)`: 7; -1: none).
    params: Vec<(pg_sys::Oid, i32)>,
    /// The result columns (empty for a statement that returns none).
    pub columns: Vec<Column>,
}

impl Drop for Statement {
    fn drop(&mut self) {
        // While a panic unwinds, a second one would abort the backend: leave the plan to the
        // end of the session.
        if !self.plan.is_null() && !std::thread::panicking() {
            // SAFETY: the plan was kept by SPI_keepplan and is freed once; freeing needs no
            // SPI connection. An instance (and its statements) ends with its transaction.
            unsafe { pg_sys::SPI_freeplan(self.plan) };
        }
    }
}

// SAFETY: a backend is single-threaded; statements live in its instances' resource tables,
// which never leave the backend's main thread (wasmtime wants resources to be Send).
unsafe impl Send for Statement {}

/// An open cursor of a statement, closed when dropped.
pub struct Rows {
    portal: CString,
    pub columns: Vec<Column>,
}

impl Drop for Rows {
    fn drop(&mut self) {
        // SAFETY: only inside a transaction in progress (the end of a transaction closes its
        // portals itself); looks the portal up by name, so a closed one is not touched.
        unsafe {
            if !pg_sys::IsTransactionState() || std::thread::panicking() {
                return;
            }
            let portal = pg_sys::SPI_cursor_find(self.portal.as_ptr());
            if !portal.is_null() {
                pg_sys::SPI_cursor_close(portal);
            }
        }
    }
}

/// Run `f` (which may use SPI) in a read-only subtransaction; a Postgres ERROR becomes a
/// [`SqlError`], except an interrupt, which becomes [`Interrupted`].
///
/// The subtransaction is begun and ended here on every path, restoring the memory context and
/// resource owner, as PL/Python's plpy.execute does; `f` runs inside it.
fn guarded<T>(f: impl FnOnce() -> Result<T, SqlError>) -> QueryResult<T> {
    // SAFETY: reads the backend's parallel-mode state.
    if unsafe { pg_sys::IsInParallelMode() } {
        return Ok(Err(SqlError::new(
            "0A000",
            "a plugin cannot query the database in a parallel operation",
        )));
    }
    // SAFETY: reads the backend's current memory context and resource owner, restored below.
    let (context, owner) = unsafe { (pg_sys::CurrentMemoryContext, pg_sys::CurrentResourceOwner) };
    // SAFETY: begins the subtransaction that every path below ends; back in the caller's memory
    // context. XactReadOnly is restored by the subtransaction's commit or abort
    // (prevXactReadOnly).
    unsafe {
        pg_sys::BeginInternalSubTransaction(std::ptr::null());
        pg_sys::MemoryContextSwitchTo(context);
        pg_sys::XactReadOnly = true;
    }
    match try_catch(f) {
        Ok(Ok(value)) => {
            // SAFETY: the subtransaction begun above is current; `context` and `owner` were
            // current before it.
            unsafe { release_subtransaction(context, owner) };
            Ok(Ok(value))
        }
        Ok(Err(error)) => {
            // An error of ours (too many rows, a wrong count): nothing of it is kept either.
            // SAFETY: as above.
            unsafe { rollback_subtransaction(context, owner) };
            Ok(Err(error))
        }
        Err(caught) => {
            // SAFETY: back in the caller's memory context before the rollback (from whichever
            // one the caught ERROR left current); then as above.
            unsafe {
                pg_sys::MemoryContextSwitchTo(context);
                rollback_subtransaction(context, owner);
            }
            let error = caught_error(*caught);
            // A cancel or statement_timeout (termination is FATAL and never gets here).
            if error.sqlstate == "57014" {
                Err(Interrupted(error.message))
            } else {
                Ok(Err(error))
            }
        }
    }
}

/// Run `f`, catching a Postgres ERROR (or a panic) it raises.
fn try_catch<T>(
    f: impl FnOnce() -> Result<T, SqlError>,
) -> Result<Result<T, SqlError>, Box<CaughtError>> {
    // Unwind safety: on an ERROR, nothing `f` touched is used again but through the
    // subtransaction's rollback.
    let f = std::panic::AssertUnwindSafe(f);
    PgTryBuilder::new(move || {
        let f = f;
        Ok((f.0)())
    })
    .catch_others(|caught| Err(Box::new(caught)))
    .execute()
}

/// Commit the current (internal) subtransaction and restore the caller's memory context and
/// resource owner.
///
/// # Safety
/// A subtransaction `guarded` began must be current; `context` and `owner` those current before
/// it began.
unsafe fn release_subtransaction(context: pg_sys::MemoryContext, owner: pg_sys::ResourceOwner) {
    // SAFETY: the caller's contract.
    unsafe {
        pg_sys::ReleaseCurrentSubTransaction();
        pg_sys::MemoryContextSwitchTo(context);
        pg_sys::CurrentResourceOwner = owner;
    }
}

/// Roll back the current (internal) subtransaction and restore the caller's memory context and
/// resource owner.
///
/// # Safety
/// As for [`release_subtransaction`].
unsafe fn rollback_subtransaction(context: pg_sys::MemoryContext, owner: pg_sys::ResourceOwner) {
    // SAFETY: the caller's contract.
    unsafe {
        pg_sys::RollbackAndReleaseCurrentSubTransaction();
        pg_sys::MemoryContextSwitchTo(context);
        pg_sys::CurrentResourceOwner = owner;
    }
}

/// The error a caught ERROR reports, as the guest sees it.
fn caught_error(caught: CaughtError) -> SqlError {
    match caught {
        CaughtError::PostgresError(report)
        | CaughtError::ErrorReport(report)
        | CaughtError::RustPanic {
            ereport: report, ..
        } => SqlError {
            sqlstate: sqlstate(report.sql_error_code()),
            message: report.message().to_string(),
            detail: report.detail().map(str::to_string),
            hint: report.hint().map(str::to_string),
        },
    }
}

/// The five-character SQLSTATE of an error code (Postgres packs it in six bits a character).
fn sqlstate(code: pgrx::PgSqlErrorCode) -> String {
    let packed = code as i32;
    (0..5)
        .map(|i| char::from(b'0' + ((packed >> (6 * i)) & 0x3F) as u8))
        .collect()
}

/// Run `f` inside an SPI connection.
fn with_spi<T>(f: impl FnOnce() -> Result<T, SqlError>) -> Result<T, SqlError> {
    // SAFETY: connect and finish pair up; an ERROR in between aborts the subtransaction
    // `guarded` runs us in, which cleans the connection up.
    unsafe {
        if pg_sys::SPI_connect() < 0 {
            return Err(SqlError::new("XX000", "SPI_connect failed"));
        }
        let out = f();
        pg_sys::SPI_finish();
        out
    }
}

/// A guest's UTF-8 string as a NUL-terminated string in the database's encoding. A character
/// the database's encoding lacks raises `22P05` (caught by `guarded`); a NUL is `22021`.
fn to_server(s: &str, what: &str) -> Result<CString, SqlError> {
    let nul = || nul_in(what);
    if utf8_database() {
        return CString::new(s).map_err(|_| nul());
    }
    // SAFETY: converts `len` bytes of UTF-8; returns them or a palloc'd NUL-terminated copy
    // in the server's encoding; raises on a character it cannot convert.
    let converted = unsafe {
        let out = pg_sys::pg_any_to_server(
            s.as_ptr().cast(),
            s.len() as i32,
            pg_sys::pg_enc::PG_UTF8 as i32,
        );
        if out.cast_const() == s.as_ptr().cast() {
            s.as_bytes().to_vec()
        } else {
            CStr::from_ptr(out).to_bytes().to_vec()
        }
    };
    CString::new(converted).map_err(|_| nul())
}

fn nul_in(what: &str) -> SqlError {
    SqlError::new("22021", format!("{what} contains a NUL character"))
}

/// `len` bytes of text in the database's encoding, as a guest's UTF-8 string.
///
/// # Safety
/// `ptr` must point to `len` readable bytes.
unsafe fn from_server(ptr: *const std::ffi::c_char, len: usize) -> String {
    // SAFETY: the caller's contract; the conversion returns `ptr` itself or a palloc'd
    // NUL-terminated string in UTF-8.
    unsafe {
        let bytes = std::slice::from_raw_parts(ptr.cast::<u8>(), len);
        if utf8_database() || bytes.is_ascii() {
            return String::from_utf8_lossy(bytes).into_owned();
        }
        let out = pg_sys::pg_server_to_any(ptr, len as i32, pg_sys::pg_enc::PG_UTF8 as i32);
        if out.cast_const() == ptr {
            String::from_utf8_lossy(bytes).into_owned()
        } else {
            CStr::from_ptr(out).to_string_lossy().into_owned()
        }
    }
}

/// A NUL-terminated string in the database's encoding, as a guest's UTF-8 string.
///
/// # Safety
/// `ptr` must be a valid NUL-terminated string.
unsafe fn cstr_from_server(ptr: *const std::ffi::c_char) -> String {
    // SAFETY: the caller's contract.
    unsafe { from_server(ptr, CStr::from_ptr(ptr).to_bytes().len()) }
}

fn type_name(oid: pg_sys::Oid) -> String {
    // SAFETY: format_type_be accepts any OID and returns a palloc'd string.
    unsafe { CStr::from_ptr(pg_sys::format_type_be(oid)) }
        .to_string_lossy()
        .into_owned()
}

fn columns_of(desc: pg_sys::TupleDesc) -> Vec<Column> {
    if desc.is_null() {
        return Vec::new();
    }
    // SAFETY: a valid descriptor with natts attributes.
    unsafe {
        (0..(*desc).natts as usize)
            .map(|i| &*(*desc).attrs.as_ptr().add(i))
            .filter(|a| !a.attisdropped)
            .map(|a| Column {
                name: cstr_from_server(a.attname.data.as_ptr()),
                type_name: type_name(a.atttypid),
            })
            .collect()
    }
}

/// The result columns of a prepared plan, from its last statement's plan source.
fn plan_columns(plan: pg_sys::SPIPlanPtr) -> Vec<Column> {
    // SAFETY: the plan sources of a valid plan; the last one's result descriptor (null for a
    // statement that returns no rows).
    unsafe {
        let sources = pg_sys::SPI_plan_get_plan_sources(plan);
        if sources.is_null() || (*sources).length == 0 {
            return Vec::new();
        }
        let last = (*(*sources).elements.add((*sources).length as usize - 1)).ptr_value
            as *mut pg_sys::CachedPlanSource;
        columns_of((*last).resultDesc)
    }
}

/// The parse-time state of a statement whose parameter types are inferred.
#[repr(C)]
struct InferredParams {
    types: *mut pg_sys::Oid,
    count: std::ffi::c_int,
}

#[pg_guard]
unsafe extern "C-unwind" fn infer_params(
    pstate: *mut pg_sys::ParseState,
    arg: *mut std::ffi::c_void,
) {
    let state = arg as *mut InferredParams;
    // SAFETY: `arg` is the InferredParams `prepare_plan` passes, alive for the parse.
    unsafe {
        pg_sys::setup_parse_variable_parameters(pstate, &mut (*state).types, &mut (*state).count)
    };
}

fn spi_error(what: &str, code: i32) -> SqlError {
    // SAFETY: SPI_result_code_string returns a static string for any code.
    let text = unsafe { CStr::from_ptr(pg_sys::SPI_result_code_string(code)) }.to_string_lossy();
    SqlError::new("XX000", format!("{what} failed: {text}"))
}

/// Parse and plan `sql`, with `param_types` (SQL type names) for $1…$n, or inferred.
fn prepare_plan(sql: &str, param_types: &[String]) -> Result<Statement, SqlError> {
    let csql = to_server(sql, "the query")?;
    let (mut types, typmods) = parse_types(param_types)?;
    if types.is_empty() {
        types = infer_types(&csql)?;
    }
    plan_statement(&csql, types, &typmods)
}

/// The types and type modifiers of SQL type names. Type names resolve as in SQL (regtype
/// input); an unknown one raises, and is caught. The type modifier (`varchar(3)`,
/// `numeric(5,2)`) is kept: parameters are coerced to it.
fn parse_types(param_types: &[String]) -> Result<(Vec<pg_sys::Oid>, Vec<i32>), SqlError> {
    let mut types: Vec<pg_sys::Oid> = Vec::with_capacity(param_types.len());
    let mut typmods: Vec<i32> = Vec::with_capacity(param_types.len());
    for name in param_types {
        let cname = to_server(name, "a type name")?;
        let mut oid = pg_sys::Oid::INVALID;
        let mut typmod = -1;
        // SAFETY: parses a type name; raises (caught by `guarded`) if there is no such type.
        unsafe { pg_sys::parseTypeString(cname.as_ptr(), &mut oid, &mut typmod, false) };
        types.push(oid);
        typmods.push(typmod);
    }
    Ok((types, typmods))
}

/// The parameter types of `csql`, learned from the query (each must be determined). The plan
/// is then made again with them fixed: a kept plan re-parses with its parser hook after
/// invalidations, and the hook's state would not outlive this call.
fn infer_types(csql: &CStr) -> Result<Vec<pg_sys::Oid>, SqlError> {
    // Allocated here, in SPI's procedure context (current inside `with_spi`): the parse only
    // repallocs it, so it outlives SPI_prepare_params' own scratch memory.
    // SAFETY: a zeroed allocation in the current memory context.
    let types = unsafe { pg_sys::palloc0(std::mem::size_of::<pg_sys::Oid>()) };
    let mut state = InferredParams {
        types: types.cast(),
        count: 0,
    };
    // SAFETY: SPI is connected (`with_spi`); `infer_params` gets `state`, alive for the parse.
    let probe = unsafe {
        pg_sys::SPI_prepare_params(
            csql.as_ptr(),
            Some(infer_params),
            (&raw mut state).cast(),
            0,
        )
    };
    if probe.is_null() {
        // SAFETY: SPI's result code of the failed prepare.
        let code = unsafe { pg_sys::SPI_result };
        return Err(spi_error("prepare", code));
    }
    // The parse wrote the types it inferred into `state` (the plan itself records none for a
    // parser-hook statement).
    // SAFETY: `state.types` holds the `state.count` types the parse wrote; the probe plan is
    // ours, freed once.
    let types: Vec<pg_sys::Oid> = unsafe {
        let types = (0..state.count.max(0) as usize)
            .map(|i| *state.types.add(i))
            .collect();
        pg_sys::SPI_freeplan(probe);
        types
    };
    if let Some(n) = types
        .iter()
        .position(|&t| t == pg_sys::Oid::INVALID || t == pg_sys::UNKNOWNOID)
    {
        return Err(SqlError::new(
            "42P18",
            format!(
                "could not determine data type of parameter ${}: cast it, or pass param-types",
                n + 1
            ),
        ));
    }
    Ok(types)
}

/// Plan `csql` with parameters of `types` (and `typmods`, by position), kept past SPI_finish.
fn plan_statement(
    csql: &CStr,
    mut types: Vec<pg_sys::Oid>,
    typmods: &[i32],
) -> Result<Statement, SqlError> {
    // SAFETY: SPI is connected (`with_spi`); `types` holds the `types.len()` parameter types.
    let plan =
        unsafe { pg_sys::SPI_prepare(csql.as_ptr(), types.len() as i32, types.as_mut_ptr()) };
    if plan.is_null() {
        // SAFETY: SPI's result code of the failed prepare.
        let code = unsafe { pg_sys::SPI_result };
        return Err(spi_error("prepare", code));
    }
    // SAFETY: a valid plan: its argument count, and each argument's type.
    let params = unsafe {
        (0..pg_sys::SPI_getargcount(plan))
            .map(|i| {
                let typmod = typmods.get(i as usize).copied().unwrap_or(-1);
                (pg_sys::SPI_getargtypeid(plan, i), typmod)
            })
            .collect()
    };
    let columns = plan_columns(plan);
    // SAFETY: the plan is kept past SPI_finish and owned by the returned Statement, which
    // frees it.
    unsafe { pg_sys::SPI_keepplan(plan) };
    Ok(Statement {
        plan,
        params,
        columns,
    })
}

/// The datum of a value for a parameter of a built-in type it fits as it is (`int` for the
/// integers, `float` for the floats, `boolean`, `bytes` for `bytea`, `text` for an unmodified
/// `text`), with no text in between; `None` for every other pair, which goes through text.
fn direct_datum(
    ty: pg_sys::Oid,
    typmod: i32,
    value: &Value,
) -> Option<Result<pg_sys::Datum, SqlError>> {
    let range = |name: &str, i: i64| {
        SqlError::new(
            "22003",
            format!("value {i} is out of range for type {name}"),
        )
    };
    let datum = match (ty, value) {
        (pg_sys::INT8OID, Value::Int(i)) => Ok((*i).into_datum()),
        (pg_sys::INT4OID, Value::Int(i)) => i32::try_from(*i)
            .map(IntoDatum::into_datum)
            .map_err(|_| range("integer", *i)),
        (pg_sys::INT2OID, Value::Int(i)) => i16::try_from(*i)
            .map(IntoDatum::into_datum)
            .map_err(|_| range("smallint", *i)),
        (pg_sys::FLOAT8OID, Value::Float(f)) => Ok((*f).into_datum()),
        (pg_sys::BOOLOID, Value::Boolean(b)) => Ok((*b).into_datum()),
        (pg_sys::BYTEAOID, Value::Bytes(b)) => Ok(b.as_slice().into_datum()),
        // In a UTF-8 database the guest's bytes are the text's: copied once, into the datum.
        // (Past 256 MB through Postgres' own allocation, whose limit raises a proper error.)
        (pg_sys::TEXTOID, Value::Text(t)) if typmod < 0 && utf8_database() && t.len() < 1 << 28 => {
            if t.contains('\0') {
                return Some(Err(nul_in("a parameter")));
            }
            Ok(t.as_str().into_datum())
        }
        (pg_sys::TEXTOID, Value::Text(t)) if typmod < 0 => {
            return Some(to_server(t, "a parameter").map(|c| {
                // SAFETY: copies the bytes into a palloc'd text in the current context.
                let text = unsafe {
                    pg_sys::cstring_to_text_with_len(c.as_ptr(), c.as_bytes().len() as i32)
                };
                pg_sys::Datum::from(text)
            }));
        }
        _ => return None,
    };
    Some(datum.map(|d| d.unwrap_or(pg_sys::Datum::from(0))))
}

/// The datum of a value for a parameter through its type's input function, with the declared
/// type modifier: `int(7)` fits an `int4`, `text("7")` too, `text("abcd")` does not fit a
/// `varchar(3)` (22001), `boolean(true)` does not fit an `int4` (22P02), and a domain's
/// constraints are checked.
fn input_datum(ty: pg_sys::Oid, typmod: i32, value: &Value) -> Result<pg_sys::Datum, SqlError> {
    let text: Cow<'_, str> = match value {
        Value::Null => return Ok(pg_sys::Datum::from(0)),
        Value::Boolean(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Value::Int(i) => Cow::Owned(i.to_string()),
        Value::Float(f) => Cow::Owned(f.to_string()),
        Value::Numeric(s) | Value::Text(s) | Value::Json(s) => Cow::Borrowed(s),
        Value::Bytes(b) => Cow::Owned(format!("\\x{}", hex::encode(b))),
    };
    let mut ctext = to_server(&text, "a parameter")?.into_bytes_with_nul();
    let (mut input, mut ioparam) = (pg_sys::Oid::INVALID, pg_sys::Oid::INVALID);
    // SAFETY: the type exists (the plan has it); the input function gets a NUL-terminated
    // buffer of ours and raises on a bad value, which `guarded` catches.
    Ok(unsafe {
        pg_sys::getTypeInputInfo(ty, &mut input, &mut ioparam);
        pg_sys::OidInputFunctionCall(input, ctext.as_mut_ptr().cast(), ioparam, typmod)
    })
}

/// The datums and null flags of `params` for the statement's parameters.
fn param_datums(
    types: &[(pg_sys::Oid, i32)],
    params: &[Value],
) -> Result<(Vec<pg_sys::Datum>, Vec<std::ffi::c_char>), SqlError> {
    if types.len() != params.len() {
        return Err(SqlError::new(
            "42P02",
            format!(
                "the statement takes {} parameters, {} given",
                types.len(),
                params.len()
            ),
        ));
    }
    let mut datums = Vec::with_capacity(params.len());
    let mut nulls = Vec::with_capacity(params.len());
    for (&(ty, typmod), value) in types.iter().zip(params) {
        let datum = match direct_datum(ty, typmod, value) {
            Some(datum) => datum?,
            None => input_datum(ty, typmod, value)?,
        };
        datums.push(datum);
        nulls.push(if matches!(value, Value::Null) {
            b'n'
        } else {
            b' '
        } as std::ffi::c_char);
    }
    Ok((datums, nulls))
}

/// The value of one attribute, by its base type (a domain's values are its base type's).
///
/// # Safety
/// `datum` must be a non-null datum of base type `ty`.
unsafe fn to_value(datum: pg_sys::Datum, ty: pg_sys::Oid) -> Value {
    // SAFETY: the caller's contract; each arm reads the datum as its type.
    unsafe {
        match ty {
            pg_sys::BOOLOID => Value::Boolean(bool::from_datum(datum, false).unwrap_or(false)),
            pg_sys::INT2OID => Value::Int(i16::from_datum(datum, false).unwrap_or(0).into()),
            pg_sys::INT4OID => Value::Int(i32::from_datum(datum, false).unwrap_or(0).into()),
            pg_sys::INT8OID => Value::Int(i64::from_datum(datum, false).unwrap_or(0)),
            pg_sys::OIDOID => Value::Int(i64::from(datum.value() as u32)),
            pg_sys::FLOAT4OID => Value::Float(f32::from_datum(datum, false).unwrap_or(0.0).into()),
            pg_sys::FLOAT8OID => Value::Float(f64::from_datum(datum, false).unwrap_or(0.0)),
            pg_sys::BYTEAOID => {
                Value::Bytes(Vec::<u8>::from_datum(datum, false).unwrap_or_default())
            }
            // Their output function prints the stored bytes as they are: read them in place.
            pg_sys::TEXTOID | pg_sys::VARCHAROID | pg_sys::BPCHAROID => {
                let text = pg_sys::pg_detoast_datum_packed(datum.cast_mut_ptr());
                let value = Value::Text(from_server(
                    pgrx::varlena::vardata_any(text),
                    pgrx::varlena::varsize_any_exhdr(text),
                ));
                if text != datum.cast_mut_ptr() {
                    pg_sys::pfree(text.cast());
                }
                value
            }
            _ => output_value(datum, ty),
        }
    }
}

/// A value through its type's output function: a `numeric`'s as `numeric`, a `json` or `jsonb`
/// as `json`, any other as `text`.
///
/// # Safety
/// `datum` must be a non-null datum of type `ty`.
unsafe fn output_value(datum: pg_sys::Datum, ty: pg_sys::Oid) -> Value {
    let (mut output, mut varlena) = (pg_sys::Oid::INVALID, false);
    // SAFETY: the type exists (the caller's contract); its output function takes the datum and
    // returns a palloc'd NUL-terminated string in the database's encoding.
    let text = unsafe {
        pg_sys::getTypeOutputInfo(ty, &mut output, &mut varlena);
        cstr_from_server(pg_sys::OidOutputFunctionCall(output, datum))
    };
    match ty {
        pg_sys::NUMERICOID => Value::Numeric(text),
        pg_sys::JSONOID | pg_sys::JSONBOID => Value::Json(text),
        _ => Value::Text(text),
    }
}

/// The `count` rows of the current `SPI_tuptable`, copied out.
fn tuptable_rows(count: u64) -> Vec<Vec<Value>> {
    // SAFETY: reads SPI's result table of the last execution or fetch.
    let table = unsafe { pg_sys::SPI_tuptable };
    if table.is_null() {
        return Vec::new();
    }
    // SAFETY: a non-null SPI_tuptable holds `count` tuples of its descriptor after a successful
    // execution or fetch.
    let (desc, tuples) = unsafe { ((*table).tupdesc, (*table).vals) };
    if count == 0 {
        return Vec::new();
    }
    // SAFETY: a valid descriptor of `natts` attributes; each one's base type, looked up once
    // for all the rows.
    let columns: Vec<(i32, pg_sys::Oid)> = unsafe {
        (1..=(*desc).natts)
            .filter_map(|i| {
                let attr = &*(*desc).attrs.as_ptr().add(i as usize - 1);
                (!attr.attisdropped).then(|| (i, base_type(attr.atttypid)))
            })
            .collect()
    };
    (0..count as usize)
        .map(|r| {
            // SAFETY: `tuples` holds `count` tuples, and r < count; the row's values are copied
            // out before SPI_finish frees them.
            unsafe { row_values(*tuples.add(r), desc, &columns) }
        })
        .collect()
}

/// The base type of a type (a domain's values are its base type's). The types Postgres itself
/// defines with fixed OIDs (below `FirstGenbkiObjectId`, from `pg_type.dat`) include no
/// domain and are their own base types: no catalog lookup for them, per query.
fn base_type(ty: pg_sys::Oid) -> pg_sys::Oid {
    if ty.to_u32() < pg_sys::FirstGenbkiObjectId {
        return ty;
    }
    // SAFETY: looks a type up in the syscache; any OID is accepted.
    unsafe { pg_sys::getBaseType(ty) }
}

/// The values of a tuple's `columns` (attribute numbers with their base types), copied out.
///
/// # Safety
/// `tuple` must be a valid tuple of `desc`, and `columns` attributes of `desc`.
unsafe fn row_values(
    tuple: pg_sys::HeapTuple,
    desc: pg_sys::TupleDesc,
    columns: &[(i32, pg_sys::Oid)],
) -> Vec<Value> {
    columns
        .iter()
        .map(|&(i, ty)| {
            let mut isnull = false;
            // SAFETY: attribute i of a valid tuple of `desc` (the caller's contract).
            let datum = unsafe { pg_sys::heap_getattr(tuple, i, desc, &mut isnull) };
            if isnull {
                Value::Null
            } else {
                // SAFETY: a non-null datum of attribute i, whose base type is `ty`.
                unsafe { to_value(datum, ty) }
            }
        })
        .collect()
}

fn too_many_rows(cap: usize) -> SqlError {
    SqlError {
        sqlstate: "54000".into(),
        message: format!("the query returns more than wasm.max_query_rows ({cap}) rows"),
        detail: None,
        hint: Some("read it in batches with statement.open and rows.fetch".into()),
    }
}

/// Execute a prepared statement for at most `limit` rows (the executor stops there), left in
/// `SPI_tuptable`; returns how many there are.
fn execute_plan(statement: &Statement, params: &[Value], limit: u64) -> Result<u64, SqlError> {
    let (mut datums, nulls) = param_datums(&statement.params, params)?;
    // SAFETY: SPI is connected; the plan is valid; datums and nulls have one entry per
    // parameter. read_only = true: SPI refuses anything but a plain query.
    let rc = unsafe {
        pg_sys::SPI_execute_plan(
            statement.plan,
            datums.as_mut_ptr(),
            nulls.as_ptr(),
            true,
            std::ffi::c_long::try_from(limit).unwrap_or(std::ffi::c_long::MAX),
        )
    };
    if rc < 0 {
        return Err(spi_error("query", rc));
    }
    // SAFETY: the number of rows of the execution above.
    Ok(unsafe { pg_sys::SPI_processed })
}

fn run_plan(statement: &Statement, params: &[Value]) -> Result<Vec<Vec<Value>>, SqlError> {
    let cap = guc::max_query_rows();
    let count = execute_plan(statement, params, cap as u64 + 1)?;
    if count as usize > cap {
        return Err(too_many_rows(cap));
    }
    Ok(tuptable_rows(count))
}

/// Parse and plan a statement (the WIT `prepare`).
pub fn prepare(sql: &str, param_types: &[String]) -> QueryResult<Statement> {
    guarded(|| with_spi(|| prepare_plan(sql, param_types)))
}

/// Prepare, run and return every row (the WIT `query`).
pub fn query(sql: &str, params: &[Value]) -> QueryResult<Vec<Vec<Value>>> {
    guarded(|| {
        with_spi(|| {
            let statement = prepare_plan(sql, &[])?;
            run_plan(&statement, params)
        })
    })
}

/// Run a prepared statement (the WIT `statement.query`).
pub fn run(statement: &Statement, params: &[Value]) -> QueryResult<Vec<Vec<Value>>> {
    guarded(|| with_spi(|| run_plan(statement, params)))
}

/// Run a prepared statement for its first row only (the WIT `statement.query-row`).
pub fn run_row(statement: &Statement, params: &[Value]) -> QueryResult<Option<Vec<Value>>> {
    guarded(|| with_spi(|| Ok(tuptable_rows(execute_plan(statement, params, 1)?).pop())))
}

/// Open a cursor on a prepared statement (the WIT `statement.open`).
pub fn open(statement: &Statement, params: &[Value]) -> QueryResult<Rows> {
    guarded(|| {
        with_spi(|| {
            let (mut datums, nulls) = param_datums(&statement.params, params)?;
            // SAFETY: SPI is connected; the plan is valid; datums and nulls have one entry per
            // parameter. The portal outlives the connection and the subtransaction (it moves to
            // the parent on release) until closed or the end of the transaction.
            let portal = unsafe {
                pg_sys::SPI_cursor_open(
                    std::ptr::null(),
                    statement.plan,
                    datums.as_mut_ptr(),
                    nulls.as_ptr(),
                    true,
                )
            };
            if portal.is_null() {
                // SAFETY: SPI's result code of the failed open.
                let code = unsafe { pg_sys::SPI_result };
                return Err(spi_error("open", code));
            }
            // SAFETY: the portal just opened: its NUL-terminated name and its descriptor.
            let (name, desc) = unsafe { (CStr::from_ptr((*portal).name), (*portal).tupDesc) };
            Ok(Rows {
                portal: name.to_owned(),
                columns: columns_of(desc),
            })
        })
    })
}

/// Up to `count` more rows of a cursor (the WIT `rows.fetch`).
pub fn fetch(rows: &Rows, count: u32) -> QueryResult<Vec<Vec<Value>>> {
    if count == 0 {
        // Postgres reads a count of 0 as "the current row again".
        return Ok(Ok(Vec::new()));
    }
    guarded(|| {
        with_spi(|| {
            // SAFETY: SPI is connected; a portal closed by the end of its transaction is not
            // found.
            let portal = unsafe { pg_sys::SPI_cursor_find(rows.portal.as_ptr()) };
            if portal.is_null() {
                return Err(SqlError::new(
                    "34000",
                    "the cursor is closed: cursors last until the end of their transaction",
                ));
            }
            let count = (count as usize).min(guc::max_query_rows());
            // SAFETY: the open portal found above; the rows go to SPI_tuptable, their number to
            // SPI_processed.
            let fetched = unsafe {
                pg_sys::SPI_cursor_fetch(portal, true, count as std::ffi::c_long);
                pg_sys::SPI_processed
            };
            Ok(tuptable_rows(fetched))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::sqlstate;
    use pgrx::PgSqlErrorCode;

    #[test]
    fn sqlstates_unpack_to_their_five_characters() {
        assert_eq!(sqlstate(PgSqlErrorCode::ERRCODE_QUERY_CANCELED), "57014");
        assert_eq!(sqlstate(PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE), "42P01");
        assert_eq!(
            sqlstate(PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED),
            "0A000"
        );
    }
}
