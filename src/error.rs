//! The one error type of the extension, and its mapping to SQLSTATEs.
//!
//! Every fallible path that SQL can reach returns [`PluginError`]; the SQL-facing entry points
//! turn it into an `ERROR` with a specific SQLSTATE, a lower-case message, and detail or hint
//! where they help the user act on it.

use pgrx::PgSqlErrorCode;
use pgrx::pg_sys::panic::ErrorReport;

/// Everything that can go wrong between SQL and a component.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The bytes handed to `wasm.install` are not a WebAssembly component.
    #[error("{0}")]
    InvalidComponent(String, Option<String>),
    /// The bytes are a core WebAssembly module: the hint says how to make a component of it.
    #[error("the bytes are a core WebAssembly module, not a component")]
    CoreModule,
    /// The component needs an import that the host does not provide.
    #[error("{0}")]
    UnsatisfiedImport(String, Option<String>),
    /// A WIT type that has no SQL mapping (yet).
    #[error("{0}")]
    UnsupportedType(String),
    /// A plugin name, schema name or option is malformed.
    #[error("{0}")]
    InvalidArgument(String),
    /// The plugin name is taken and `replace` was not asked for.
    #[error("{0}")]
    DuplicatePlugin(String),
    /// No plugin by that name, or no such export in it.
    #[error("{0}")]
    UndefinedPlugin(String, Option<String>),
    /// No export of that name in the plugin.
    #[error("{0}")]
    UndefinedExport(String, Option<String>),
    /// A `LANGUAGE wasm` function whose SQL signature does not fit its export.
    #[error("{0}")]
    SignatureMismatch(String, Option<String>),
    /// The caller lacks a privilege.
    #[error("{0}")]
    PermissionDenied(String),
    /// An import of another plugin's interface that install cannot link (see `catalog::link`).
    #[error("{1}")]
    Link(crate::catalog::link::LinkFault, String, Option<String>),
    /// A value that cannot cross between SQL, JSON and the guest (NULL where WIT has no option,
    /// a number out of the WIT type's range, a malformed JSON argument, ...).
    #[error("{message}")]
    BadValue {
        /// What went wrong, naming the parameter.
        message: String,
        /// What kind of fault: it decides the SQLSTATE.
        fault: ValueFault,
    },
    /// The guest trapped or a limit stopped it; the instance has been discarded.
    #[error("{message}")]
    GuestTrap {
        /// "plugin p export e trapped: ..."
        message: String,
        /// The whole cause chain, with the wasm backtrace.
        detail: String,
        /// Why it stopped: it decides the SQLSTATE.
        stop: TrapKind,
    },
    /// `wasm.install` of a component larger than `wasm.max_component_size`.
    #[error("{0}")]
    ComponentTooLarge(String),
    /// A function install would create exists and is not the plugin's.
    #[error("{0}")]
    FunctionTaken(String),
    /// A type install would create exists and is not the plugin's.
    #[error("{0}")]
    TypeTaken(String),
    /// A use of a feature pg_component does not have, such as a statement-level trigger.
    #[error("{0}")]
    NotSupported(String, Option<String>),
    /// A set-returning function called where no set is allowed.
    #[error("{0}")]
    SetNotAllowed(String),
    /// The guest returned `result::err`.
    #[error("{message}")]
    GuestError {
        /// "plugin p export e returned an error: <E>"
        message: String,
        /// The error value rendered as JSON, when it is not a plain string.
        detail: Option<String>,
    },
    /// Objects outside the plugin depend on what replacing or uninstalling it would drop;
    /// the detail has one line per dependency.
    #[error("{0}")]
    Dependents(String, String),
    /// Install, replace or uninstall where nothing may be written: a hot standby or a
    /// read-only transaction.
    #[error("{0}")]
    ReadOnly(String),
    /// The integrity check of stored bytes failed.
    #[error("{0}")]
    Corrupted(String),
    /// A failure inside the runtime that the user cannot cause by input.
    #[error("{0}")]
    Internal(String),
}

/// What is wrong with a value; each kind is one SQLSTATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueFault {
    /// Beyond the range of its type (22003).
    OutOfRange,
    /// NULL where the WIT type has no option (22004).
    Null,
    /// Text that does not parse as its type (22P02).
    Malformed,
    /// The wrong kind of value, a wrong count or an unknown name (22023).
    Invalid,
    /// A string or char that is not valid Unicode (22021).
    NotUnicode,
    /// A character the target cannot hold, such as NUL in text or jsonb (22P05).
    Untranslatable,
    /// An array that is not one-dimensional, or has NULL elements where none may be (2202E).
    ArrayElement,
    /// Too large for its target (54000).
    TooLarge,
    /// A JSON form the mapping does not have (0A000).
    Unsupported,
}

/// Why a guest call stopped; each kind is one SQLSTATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrapKind {
    /// A cancel, `statement_timeout`, termination or `wasm.max_call_time` (57014).
    Interrupted,
    /// `wasm.max_memory` (54000).
    Limit,
    /// A trap of the guest's own: panic, `unreachable`, bad access, `exit` (38000).
    Trap,
    /// A result the guest's own signature forbids, such as a string that is not UTF-8 (22021).
    BadResult,
}

/// Results of this crate.
pub type PluginResult<T> = Result<T, PluginError>;

impl PluginError {
    /// A `BadValue` of the given kind.
    pub fn bad_value(fault: ValueFault, message: impl Into<String>) -> Self {
        PluginError::BadValue {
            message: message.into(),
            fault,
        }
    }

    /// The SQLSTATE that this error is reported with.
    pub fn sqlstate(&self) -> PgSqlErrorCode {
        use PgSqlErrorCode::*;
        match self {
            PluginError::InvalidComponent(..) | PluginError::CoreModule => {
                ERRCODE_INVALID_BINARY_REPRESENTATION
            }
            PluginError::UnsatisfiedImport(..) => ERRCODE_FEATURE_NOT_SUPPORTED,
            PluginError::UnsupportedType(..) => ERRCODE_FEATURE_NOT_SUPPORTED,
            PluginError::InvalidArgument(..) => ERRCODE_INVALID_PARAMETER_VALUE,
            PluginError::DuplicatePlugin(..) => ERRCODE_DUPLICATE_OBJECT,
            PluginError::UndefinedPlugin(..) => ERRCODE_UNDEFINED_OBJECT,
            PluginError::UndefinedExport(..) => ERRCODE_UNDEFINED_FUNCTION,
            PluginError::SignatureMismatch(..) => ERRCODE_INVALID_FUNCTION_DEFINITION,
            PluginError::PermissionDenied(..) => ERRCODE_INSUFFICIENT_PRIVILEGE,
            PluginError::Link(fault, ..) => {
                use crate::catalog::link::LinkFault;
                match fault {
                    LinkFault::NoProvider => ERRCODE_FEATURE_NOT_SUPPORTED,
                    LinkFault::Ambiguous => ERRCODE_AMBIGUOUS_FUNCTION,
                    LinkFault::Mismatch => ERRCODE_DATATYPE_MISMATCH,
                    LinkFault::Cycle => ERRCODE_INVALID_RECURSION,
                }
            }
            PluginError::BadValue { fault, .. } => match fault {
                ValueFault::OutOfRange => ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                ValueFault::Null => ERRCODE_NULL_VALUE_NOT_ALLOWED,
                ValueFault::Malformed => ERRCODE_INVALID_TEXT_REPRESENTATION,
                ValueFault::Invalid => ERRCODE_INVALID_PARAMETER_VALUE,
                ValueFault::NotUnicode => ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
                ValueFault::Untranslatable => ERRCODE_UNTRANSLATABLE_CHARACTER,
                ValueFault::ArrayElement => ERRCODE_ARRAY_ELEMENT_ERROR,
                ValueFault::TooLarge => ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                ValueFault::Unsupported => ERRCODE_FEATURE_NOT_SUPPORTED,
            },
            PluginError::GuestTrap { stop, .. } => match stop {
                TrapKind::Interrupted => ERRCODE_QUERY_CANCELED,
                TrapKind::Limit => ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                TrapKind::Trap => ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
                TrapKind::BadResult => ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
            },
            PluginError::ComponentTooLarge(..) => ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            PluginError::FunctionTaken(..) => ERRCODE_DUPLICATE_FUNCTION,
            PluginError::TypeTaken(..) => ERRCODE_DUPLICATE_OBJECT,
            PluginError::SetNotAllowed(..) | PluginError::NotSupported(..) => {
                ERRCODE_FEATURE_NOT_SUPPORTED
            }
            PluginError::GuestError { .. } => ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
            PluginError::Dependents(..) => ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST,
            PluginError::ReadOnly(..) => ERRCODE_READ_ONLY_SQL_TRANSACTION,
            PluginError::Corrupted(..) => ERRCODE_DATA_CORRUPTED,
            PluginError::Internal(..) => ERRCODE_INTERNAL_ERROR,
        }
    }

    fn detail(&self) -> Option<&str> {
        match self {
            PluginError::InvalidComponent(_, d)
            | PluginError::UnsatisfiedImport(_, d)
            | PluginError::UndefinedPlugin(_, d)
            | PluginError::UndefinedExport(_, d)
            | PluginError::SignatureMismatch(_, d)
            | PluginError::NotSupported(_, d)
            | PluginError::Link(_, _, d) => d.as_deref(),
            PluginError::GuestTrap { detail, .. } => {
                Some(detail.as_str()).filter(|d| !d.is_empty())
            }
            PluginError::GuestError { detail, .. } => detail.as_deref(),
            PluginError::Dependents(_, detail) => Some(detail),
            _ => None,
        }
    }

    fn hint(&self) -> Option<&'static str> {
        match self {
            PluginError::CoreModule => Some(
                "make a component of it first, e.g. `wasm-tools component new module.wasm -o component.wasm`",
            ),
            PluginError::DuplicatePlugin(_) => Some("pass replace => true to upgrade it"),
            PluginError::ReadOnly(m) if m.contains("recovery") => Some(
                "manage plugins on the primary: standbys replay its installs, replaces and uninstalls",
            ),
            PluginError::Dependents(..) => {
                Some("drop or change those objects first; nothing was changed")
            }
            _ => None,
        }
    }

    /// Raise this error as a Postgres `ERROR`. Does not return.
    pub fn report(self) -> ! {
        let mut report = ErrorReport::new(self.sqlstate(), self.to_string(), "pg_component");
        if let Some(detail) = self.detail() {
            report = report.set_detail(detail);
        }
        if let Some(hint) = self.hint() {
            report = report.set_hint(hint);
        }
        drop(self);
        report.report(pgrx::PgLogLevel::ERROR);
        unreachable!("ERROR does not return")
    }
}

/// Unwrap a result or raise its error as a Postgres `ERROR`.
pub trait OrReport<T> {
    /// The value, or an `ERROR` with the error's SQLSTATE.
    fn or_report(self) -> T;
}

impl<T> OrReport<T> for PluginResult<T> {
    fn or_report(self) -> T {
        match self {
            Ok(v) => v,
            Err(e) => {
                // Counted against the export of the call in progress, if any.
                crate::stats::note_error(&e);
                e.report()
            }
        }
    }
}

/// Render a wasmtime error with its whole cause chain: the outer context alone
/// ("error while executing at wasm backtrace") hides the reason.
pub fn render_chain(err: &wasmtime::Error) -> (String, String) {
    let mut causes: Vec<String> = err.chain().map(|c| c.to_string()).collect();
    causes.dedup();
    // The innermost cause is the reason ("integer divide by zero", "unreachable", ...);
    // the outer ones carry the wasm backtrace.
    let reason = causes
        .last()
        .map(|s| s.lines().next().unwrap_or("").to_string())
        .unwrap_or_default();
    (reason, causes.join("\n"))
}
