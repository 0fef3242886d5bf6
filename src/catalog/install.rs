//! Install, replace and uninstall: check a component, plan the functions and types its exports
//! need, and apply the plan (catalog row, DDL, invalidation) in the caller's transaction.

use pgrx::JsonB;
use pgrx::prelude::*;
use serde_json::Value as Json;

use crate::cache::invalidate_local;
use crate::catalog::acl::{require_admin, require_writable};
use crate::catalog::broadcast_change;
use crate::catalog::link::{self, Link};
use crate::error::{PluginError, PluginResult};
use crate::guc;
use crate::mapping::{SqlReturn, TypePlan, WitType, quote_ident, quote_literal};
use crate::runtime::call::discard_instances;
use crate::runtime::plugin::{
    CompiledPlugin, WasmKind, classify_wasm, decode_wit, load_component, sha256_hex,
};

/// Whether `name` is a plugin or schema name we accept: a lower-case SQL identifier.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && name.len() <= 63
}

/// One generated function: its export, identity and SQL text.
struct Generated {
    export: String,
    identity: String,
    signature: String,
    /// The export's WIT signature.
    wit: String,
    /// What the function returns: SQL type text and whether it is a set.
    returns: (String, bool),
    /// The generated types its signature mentions (quoted, qualified).
    uses: Vec<String>,
    ddl: String,
    comment: String,
}

/// A generated type: its qualified name and `CREATE TYPE` text, as `wasm.plugins` keeps them.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct GeneratedType {
    name: String,
    ddl: String,
    /// The other generated types it uses, from the mapping (not stored: a kept type is also a
    /// planned one, whose uses the mapping gives afresh).
    #[serde(skip)]
    uses: Vec<String>,
}

/// Two generated types are the same when name and definition are: then a replace keeps it.
impl PartialEq for GeneratedType {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.ddl == other.ddl
    }
}

/// What install kept in `wasm.plugins.options` before the catalog had typed columns (0.1.0,
/// 0.2.0); read and written only while the extension's SQL is that old.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct LegacyOptions {
    created_schema: bool,
    deterministic: bool,
    types: Vec<GeneratedType>,
    capabilities: Vec<String>,
}

/// One entry of `wasm.plugins.exports`.
#[derive(serde::Serialize)]
struct ExportEntry<'a> {
    export: &'a str,
    function: &'a str,
    /// The export's WIT signature (`func(s: string) -> string`), for `wasm.functions`.
    wit: &'a str,
}

/// An aggregate install creates from an exported resource.
struct PlannedAggregate {
    /// The resource's name, as `wasm.plugins.exports` lists it.
    export: String,
    /// `schema.name(argtypes)`, as `to_regprocedure` reads it.
    identity: String,
    /// `schema.name(args) RETURNS type`, for the catalog.
    signature: String,
    ddl: String,
    /// What its comment says: the DDL it was made with, so a replace keeps it only when
    /// nothing changed.
    comment: String,
}

/// How many bytes the planner assumes a group's state takes (`SSPACE`): a handle here, the
/// state itself in the guest's memory, which `work_mem` does not count.
const STATE_SPACE: u32 = 1024;

/// One support function of an aggregate (`LANGUAGE wasm`, body `plugin/resource.method`),
/// revoked from PUBLIC: only its aggregate (which its owner's rights run) calls it.
fn support_function(
    plugin: &str,
    schema: &str,
    resource: &str,
    (method, args, ret): (&str, &[String], &str),
    attributes: &str,
    uses: &[String],
) -> Generated {
    let qualified = format!(
        "{}.{}",
        quote_ident(schema),
        quote_ident(&format!("{resource}${method}"))
    );
    let identity = format!("{qualified}({})", args.join(", "));
    let export = format!("{resource}.{method}");
    Generated {
        export: export.clone(),
        signature: format!(
            "{schema}.{resource}${method}({}) RETURNS {ret}",
            args.join(", ")
        ),
        wit: format!("aggregate support: resource {resource}, method {method}"),
        returns: (ret.to_string(), false),
        uses: uses.to_vec(),
        ddl: format!(
            "CREATE OR REPLACE FUNCTION {identity} RETURNS {ret} LANGUAGE wasm {attributes} AS {}; \
             REVOKE ALL ON FUNCTION {identity} FROM PUBLIC",
            quote_literal(&format!("{plugin}/{export}"))
        ),
        comment: format!(
            "COMMENT ON FUNCTION {identity} IS {}",
            quote_literal(&format!(
                "wasm plugin {plugin}, export {export}: aggregate support"
            ))
        ),
        identity,
    }
}

/// The support functions and the aggregate of each exported aggregate resource.
fn plan_aggregates(
    plugin: &str,
    schema: &str,
    compiled: &CompiledPlugin,
    volatility: &str,
    types: &mut TypePlan<'_>,
    out: &mut Vec<Generated>,
) -> PluginResult<Vec<PlannedAggregate>> {
    if let Some(why) = compiled.resource_errors.first() {
        return Err(PluginError::UnsupportedType(format!(
            "plugin \"{plugin}\": {why}"
        )));
    }
    let parallel = if volatility.contains("PARALLEL SAFE") {
        "SAFE"
    } else {
        "UNSAFE"
    };
    let volatility = volatility.split(" PARALLEL").next().unwrap_or(volatility);
    let mut planned = Vec::new();
    for a in &compiled.aggregates {
        let sig = crate::mapping::ExportSig {
            params: a.shape.args.clone(),
            result: Some(a.shape.result.clone()),
        };
        let sql = types.signature(&a.sql_name, &sig).map_err(|ty| {
            PluginError::UnsupportedType(format!(
                "aggregate resource \"{}\" of plugin \"{plugin}\" uses WIT type {ty}, which has no SQL mapping",
                a.name
            ))
        })?;
        let SqlReturn::Value(ret) = &sql.ret else {
            return Err(PluginError::UnsupportedType(format!(
                "aggregate resource \"{}\" of plugin \"{plugin}\": finish returns {}, but an aggregate returns one value, not a set",
                a.name, a.shape.result
            )));
        };
        let ret = ret.sql_name();
        let uses: Vec<String> = sql
            .generated_types()
            .into_iter()
            .map(str::to_string)
            .collect();
        let arg_types: Vec<String> = sql.params.iter().map(|(_, m)| m.sql_name()).collect();
        let with_state: Vec<String> = std::iter::once("internal".to_string())
            .chain(arg_types.iter().cloned())
            .collect();
        let r = &a.sql_name;
        let fname = |m: &str| {
            format!(
                "{}.{}",
                quote_ident(schema),
                quote_ident(&format!("{r}${m}"))
            )
        };
        let attrs = format!("{volatility} PARALLEL {parallel}");
        let mut support = |method: &str, args: &[String], ret: &str, strict: bool| {
            let attrs = if strict {
                format!("{attrs} STRICT")
            } else {
                attrs.clone()
            };
            out.push(support_function(
                plugin,
                schema,
                r,
                (method, args, ret),
                &attrs,
                &uses,
            ));
        };
        support("add", &with_state, "internal", false);
        support("finish", &["internal".to_string()], &ret, false);
        let mut options = vec![
            format!("SFUNC = {}", fname("add")),
            "STYPE = internal".into(),
            format!("SSPACE = {STATE_SPACE}"),
            format!("FINALFUNC = {}", fname("finish")),
            "FINALFUNC_MODIFY = READ_ONLY".into(),
        ];
        if a.merge.is_some() {
            support(
                "merge",
                &["internal".to_string(), "internal".to_string()],
                "internal",
                false,
            );
            options.push(format!("COMBINEFUNC = {}", fname("merge")));
            if a.serialize.is_some() {
                support("serialize", &["internal".to_string()], "bytea", true);
                support(
                    "deserialize",
                    &["bytea".to_string(), "internal".to_string()],
                    "internal",
                    true,
                );
                options.push(format!("SERIALFUNC = {}", fname("serialize")));
                options.push(format!("DESERIALFUNC = {}", fname("deserialize")));
            }
        }
        if a.remove.is_some() {
            support("remove", &with_state, "internal", false);
            options.extend([
                format!("MSFUNC = {}", fname("add")),
                format!("MINVFUNC = {}", fname("remove")),
                "MSTYPE = internal".into(),
                format!("MSSPACE = {STATE_SPACE}"),
                format!("MFINALFUNC = {}", fname("finish")),
                "MFINALFUNC_MODIFY = READ_ONLY".into(),
            ]);
        }
        options.push(format!("PARALLEL = {parallel}"));
        let qualified = format!("{}.{}", quote_ident(schema), quote_ident(r));
        let named_args: Vec<String> = sql
            .params
            .iter()
            .map(|(n, m)| format!("{} {}", quote_ident(n), m.sql_name()))
            .collect();
        let ddl = format!(
            "CREATE AGGREGATE {qualified}({}) ({})",
            named_args.join(", "),
            options.join(", ")
        );
        planned.push(PlannedAggregate {
            export: a.name.clone(),
            identity: format!("{qualified}({})", arg_types.join(", ")),
            signature: format!("{schema}.{r}({}) RETURNS {ret}", named_args.join(", ")),
            comment: format!("wasm plugin {plugin}, aggregate {}: {ddl}", a.name),
            ddl,
        });
    }
    Ok(planned)
}

/// What a plugin's exports need: functions (with aggregate support functions), types in
/// creation order, and aggregates.
type Plan = (Vec<Generated>, Vec<GeneratedType>, Vec<PlannedAggregate>);

/// The planner's estimates for a plugin's functions (install options `cost` and `rows`), kept
/// in `wasm.plugins.options` so that a replace keeps them.
#[derive(Debug, Default, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Tuning {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<f64>,
}

/// `COST` of a generated function when install is given none: a typed call costs about half
/// of a PL/pgSQL call (whose default is 100); a plugin that reads the database runs a query
/// per call, about five PL/pgSQL calls.
const DEFAULT_COST: f64 = 50.0;
const DEFAULT_COST_QUERY: f64 = 500.0;

impl Tuning {
    /// What install applies: the options given, else those the installed row kept.
    fn resolve(given: Tuning, kept: Option<Tuning>) -> PluginResult<Tuning> {
        for (what, v) in [("cost", given.cost), ("rows", given.rows)] {
            if v.is_some_and(|v| !(v > 0.0 && v.is_finite())) {
                return Err(PluginError::InvalidArgument(format!(
                    "{what} must be a positive number"
                )));
            }
        }
        let kept = kept.unwrap_or_default();
        Ok(Tuning {
            cost: given.cost.or(kept.cost),
            rows: given.rows.or(kept.rows),
        })
    }

    /// ` COST n` (and ` ROWS n` for a set-returning function).
    fn clauses(&self, reads_database: bool, set: bool) -> String {
        let default = if reads_database {
            DEFAULT_COST_QUERY
        } else {
            DEFAULT_COST
        };
        let mut out = format!(" COST {}", self.cost.unwrap_or(default));
        if let (true, Some(rows)) = (set, self.rows) {
            out.push_str(&format!(" ROWS {rows}"));
        }
        out
    }
}

/// The functions, types and aggregates a plugin's exports need.
fn plan_functions(
    plugin: &str,
    schema: &str,
    compiled: &CompiledPlugin,
    (volatility, tuning, reads_database): (&str, Tuning, bool),
    names: &std::collections::HashMap<WitType, String>,
) -> PluginResult<Plan> {
    let mut out = Vec::new();
    let mut types = TypePlan::new(Some(schema), names);
    for export in compiled.functions() {
        let sql = types.signature(&export.sql_name, &export.sig).map_err(|ty| {
            PluginError::UnsupportedType(format!(
                "export \"{}\" of plugin \"{plugin}\" uses WIT type {ty}, which has no SQL mapping",
                export.name
            ))
        })?;
        let qualified = format!("{}.{}", quote_ident(schema), quote_ident(&export.sql_name));
        let arg_types: Vec<String> = sql.params.iter().map(|(_, m)| m.sql_name()).collect();
        let strict = if sql.strict() { " STRICT" } else { "" };
        out.push(Generated {
            export: export.name.clone(),
            identity: format!("{qualified}({})", arg_types.join(", ")),
            signature: format!("{schema}.{}{}", export.sql_name, sql.sql_text()),
            wit: export.sig.wit(),
            uses: sql
                .generated_types()
                .into_iter()
                .map(str::to_string)
                .collect(),
            returns: match &sql.ret {
                SqlReturn::Void => ("void".into(), false),
                SqlReturn::Value(m) => (m.sql_name(), false),
                SqlReturn::Set(m) => (m.sql_name(), true),
            },
            ddl: format!(
                "CREATE OR REPLACE FUNCTION {qualified}{} LANGUAGE wasm {volatility}{strict}{} AS {}",
                sql.sql_text(),
                tuning.clauses(reads_database, matches!(sql.ret, SqlReturn::Set(_))),
                quote_literal(&format!("{plugin}/{}", export.name))
            ),
            comment: format!(
                "COMMENT ON FUNCTION {qualified}({}) IS {}",
                arg_types.join(", "),
                quote_literal(&format!(
                    "wasm plugin {plugin}, export {}: {}",
                    export.name,
                    export.sig.wit()
                ))
            ),
        });
    }
    let aggregates = plan_aggregates(plugin, schema, compiled, volatility, &mut types, &mut out)?;
    let generated = types
        .defs
        .iter()
        .map(|d| GeneratedType {
            name: format!("{}.{}", quote_ident(schema), quote_ident(&d.name)),
            ddl: d.ddl(schema),
            uses: d.uses.clone(),
        })
        .collect();
    Ok((out, generated, aggregates))
}

/// The aggregates in `schema` whose transition function is bound to `plugin`: regprocedure
/// text and comment.
fn generated_aggregates(plugin: &str, schema: &str) -> PluginResult<Vec<(String, String)>> {
    Spi::connect(|client| {
        let rows = client.select(
            "SELECT a.aggfnoid::pg_catalog.regprocedure::pg_catalog.text, \
                    COALESCE(pg_catalog.obj_description(a.aggfnoid, 'pg_proc'), '') \
             FROM pg_catalog.pg_aggregate a \
             JOIN pg_catalog.pg_proc t ON t.oid OPERATOR(pg_catalog.=) a.aggtransfn \
             JOIN pg_catalog.pg_language l ON l.oid OPERATOR(pg_catalog.=) t.prolang \
             JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) a.aggfnoid \
             JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace \
             WHERE l.lanname OPERATOR(pg_catalog.=) 'wasm' AND n.nspname OPERATOR(pg_catalog.=) $2 \
               AND pg_catalog.split_part(t.prosrc, '/', 1) OPERATOR(pg_catalog.=) $1",
            None,
            &[plugin.into(), schema.into()],
        )?;
        let mut out = Vec::new();
        for row in rows {
            out.push((
                row.get::<String>(1)?.unwrap_or_default(),
                row.get::<String>(2)?.unwrap_or_default(),
            ));
        }
        Ok(out)
    })
    .map_err(spi_err)
}

/// The regprocedure text of `identity` if such a function or aggregate exists.
fn existing_identity(identity: &str) -> PluginResult<Option<String>> {
    Spi::get_one_with_args::<String>(
        "SELECT pg_catalog.to_regprocedure($1)::pg_catalog.text",
        &[identity.into()],
    )
    .map_err(spi_err)
}

/// Create the planned aggregates that do not exist yet (a replace kept the unchanged ones),
/// with superuser rights (an `internal` state needs them), owned by the installing role.
fn create_aggregates(plugin: &str, schema: &str, planned: &[PlannedAggregate]) -> PluginResult<()> {
    let ours: Vec<String> = generated_aggregates(plugin, schema)?
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    for a in planned {
        if let Some(existing) = existing_identity(&a.identity)? {
            if ours.contains(&existing) {
                continue;
            }
            return Err(PluginError::FunctionTaken(format!(
                "function {existing} already exists and does not belong to plugin \"{plugin}\"; install it into another schema with schema => …"
            )));
        }
        let owner = crate::catalog::acl::current_role_name();
        as_superuser(|| run(&a.ddl))?;
        as_superuser(|| {
            run(&format!(
                "ALTER AGGREGATE {} OWNER TO {}",
                a.identity,
                quote_ident(&owner)
            ))
        })?;
        run(&format!(
            "COMMENT ON AGGREGATE {} IS {}",
            a.identity,
            quote_literal(&a.comment)
        ))?;
    }
    Ok(())
}

/// Run `f` with the bootstrap superuser's rights (as `SECURITY DEFINER` code does), then
/// switch back; an error rolls the switch back with the (sub)transaction.
fn as_superuser<T>(f: impl FnOnce() -> PluginResult<T>) -> PluginResult<T> {
    let (mut user, mut context) = (pg_sys::Oid::INVALID, 0);
    // SAFETY: saving and setting the current user id, as SECURITY DEFINER functions do; the
    // saved pair is restored below, and by the transaction's abort on an error.
    unsafe {
        pg_sys::GetUserIdAndSecContext(&mut user, &mut context);
        pg_sys::SetUserIdAndSecContext(
            pg_sys::Oid::from(pg_sys::BOOTSTRAP_SUPERUSERID),
            context | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32,
        );
    }
    let out = f();
    // SAFETY: restores the pair saved above.
    unsafe { pg_sys::SetUserIdAndSecContext(user, context) };
    out
}

fn spi_err(e: pgrx::spi::Error) -> PluginError {
    PluginError::Internal(format!("catalog access failed: {e}"))
}

/// Functions of `LANGUAGE wasm` in `schema` bound to `plugin`, as regprocedure text.
fn generated_functions(plugin: &str, schema: &str) -> PluginResult<Vec<String>> {
    Spi::connect(|client| {
        let rows = client.select(
            "SELECT p.oid::pg_catalog.regprocedure::pg_catalog.text \
             FROM pg_catalog.pg_proc p \
             JOIN pg_catalog.pg_language l ON l.oid OPERATOR(pg_catalog.=) p.prolang \
             JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace \
             WHERE l.lanname OPERATOR(pg_catalog.=) 'wasm' AND n.nspname OPERATOR(pg_catalog.=) $2 \
               AND pg_catalog.split_part(p.prosrc, '/', 1) OPERATOR(pg_catalog.=) $1",
            None,
            &[plugin.into(), schema.into()],
        )?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row.get::<String>(1)?.unwrap_or_default());
        }
        Ok(out)
    })
    .map_err(spi_err)
}

/// The planned function, if a function with its identity exists: its regprocedure text, and
/// whether it returns what the plan returns (type text, set). While a generated type its
/// signature uses does not exist, neither does the function.
fn regprocedure_text(g: &Generated) -> PluginResult<Option<(String, bool)>> {
    for t in &g.uses {
        if !type_exists(t)? {
            return Ok(None);
        }
    }
    let (identity, returns) = (&g.identity, &g.returns);
    Spi::connect(|client| {
        let rows = client.select(
            "SELECT p.oid::pg_catalog.regprocedure::pg_catalog.text, \
                    p.prorettype IS NOT DISTINCT FROM pg_catalog.to_regtype($2) \
                    AND p.proretset OPERATOR(pg_catalog.=) $3 \
             FROM pg_catalog.pg_proc p \
             WHERE p.oid OPERATOR(pg_catalog.=) pg_catalog.to_regprocedure($1)",
            None,
            &[
                identity.as_str().into(),
                returns.0.as_str().into(),
                returns.1.into(),
            ],
        )?;
        let mut out = None;
        for row in rows {
            let ident = row.get::<String>(1)?.unwrap_or_default();
            let same = row.get::<bool>(2)?.unwrap_or(false);
            out = Some((ident, same));
        }
        Ok(out)
    })
    .map_err(spi_err)
}

/// Refuse to drop `types` (qualified names) and `functions` (regprocedure texts) when objects
/// that are not among them depend on them: a view, a column, a user's function.
fn refuse_dependents(
    plugin: &str,
    action: &str,
    types: &[String],
    functions: &[String],
) -> PluginResult<()> {
    if types.is_empty() && functions.is_empty() {
        return Ok(());
    }
    let dependents: Vec<String> = Spi::connect(|client| {
        let rows = client.select(
            "WITH ty AS (SELECT t.oid, t.typarray, t.typrelid FROM pg_catalog.pg_type t \
                         WHERE t.oid OPERATOR(pg_catalog.=) ANY (SELECT pg_catalog.to_regtype(n) FROM pg_catalog.unnest($1::pg_catalog.text[]) n)), \
                  fn AS (SELECT pg_catalog.to_regprocedure(n)::pg_catalog.oid AS oid FROM pg_catalog.unnest($2::pg_catalog.text[]) n) \
             SELECT DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, 0) \
                    OPERATOR(pg_catalog.||) ' depends on ' OPERATOR(pg_catalog.||) \
                    pg_catalog.pg_describe_object(d.refclassid, d.refobjid, 0) \
             FROM pg_catalog.pg_depend d \
             WHERE d.deptype OPERATOR(pg_catalog.=) 'n' \
               AND ((d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass \
                     AND (d.refobjid IN (SELECT oid FROM ty) OR d.refobjid IN (SELECT typarray FROM ty))) \
                 OR (d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass \
                     AND d.refobjid IN (SELECT oid FROM fn))) \
               AND NOT (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid IN (SELECT oid FROM fn)) \
               AND NOT (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid IN (SELECT typrelid FROM ty)) \
               AND NOT (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass \
                        AND (d.objid IN (SELECT oid FROM ty) OR d.objid IN (SELECT typarray FROM ty))) \
             ORDER BY 1",
            None,
            &[types.to_vec().into(), functions.to_vec().into()],
        )?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row.get::<String>(1)?.unwrap_or_default());
        }
        Ok(out)
    })
    .map_err(spi_err)?;
    if dependents.is_empty() {
        return Ok(());
    }
    Err(PluginError::Dependents(
        format!(
            "cannot {action} plugin \"{plugin}\": other objects depend on types or functions it would drop"
        ),
        dependents.join("\n"),
    ))
}

fn run(sql: &str) -> PluginResult<()> {
    Spi::run(sql).map_err(spi_err)
}

fn schema_exists(schema: &str) -> PluginResult<bool> {
    Spi::get_one_with_args::<bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname OPERATOR(pg_catalog.=) $1)",
        &[schema.into()],
    )
    .map(|b| b.unwrap_or(false))
    .map_err(spi_err)
}

/// An installed plugin's row, as install and uninstall need it.
struct Existing {
    schema: String,
    /// Whether install created the schema.
    created_schema: bool,
    /// Types it generated, in creation order.
    types: Vec<GeneratedType>,
    /// The sha256 of what runs (its composition, if linked).
    sha256: String,
    /// The planner estimates it was installed with.
    tuning: Tuning,
}

/// The existing row of a plugin, locked.
fn lock_plugin(name: &str, typed: bool) -> PluginResult<Option<Existing>> {
    let sql = if super::linked_catalog()? {
        "SELECT schema_name::pg_catalog.text, created_schema, generated_types, \
                COALESCE(linked_sha256, sha256), options \
         FROM wasm.plugins WHERE name OPERATOR(pg_catalog.=) $1 FOR UPDATE"
    } else if typed {
        "SELECT schema_name::pg_catalog.text, created_schema, generated_types, sha256, options \
         FROM wasm.plugins WHERE name OPERATOR(pg_catalog.=) $1 FOR UPDATE"
    } else {
        "SELECT schema_name::pg_catalog.text, NULL::pg_catalog.bool, options, sha256, options \
         FROM wasm.plugins WHERE name OPERATOR(pg_catalog.=) $1 FOR UPDATE"
    };
    Spi::connect_mut(|client| {
        let rows = client.update(sql, None, &[name.into()])?;
        let mut out = None;
        for row in rows {
            let json = row.get::<JsonB>(3)?.map(|JsonB(j)| j);
            // Bookkeeping that does not parse (edited by hand) keeps nothing: uninstall then
            // drops only the functions, and no schema.
            let (created_schema, types) = if typed {
                let types = json.and_then(|j| serde_json::from_value(j).ok());
                (
                    row.get::<bool>(2)?.unwrap_or(false),
                    types.unwrap_or_default(),
                )
            } else {
                let legacy: LegacyOptions = json
                    .and_then(|j| serde_json::from_value(j).ok())
                    .unwrap_or_default();
                (legacy.created_schema, legacy.types)
            };
            out = Some(Existing {
                schema: row.get::<String>(1)?.unwrap_or_default(),
                created_schema,
                types,
                sha256: row.get::<String>(4)?.unwrap_or_default(),
                tuning: row
                    .get::<JsonB>(5)?
                    .and_then(|JsonB(j)| serde_json::from_value(j).ok())
                    .unwrap_or_default(),
            });
        }
        Ok(out)
    })
    .map_err(spi_err)
}

/// Whether a type with this (qualified) name exists.
fn type_exists(name: &str) -> PluginResult<bool> {
    Spi::get_one_with_args::<bool>(
        "SELECT pg_catalog.to_regtype($1) IS NOT NULL",
        &[name.into()],
    )
    .map(|b| b.unwrap_or(false))
    .map_err(spi_err)
}

/// The options of `wasm.install` besides name and bytes.
pub struct InstallOptions<'a> {
    /// The plugin's name (for messages).
    pub name: &'a str,
    pub replace: bool,
    pub schema: Option<&'a str>,
    pub deterministic: bool,
    pub sha256: Option<&'a str>,
    /// What the plugin may import beyond computing and logging: `query`.
    pub capabilities: &'a [String],
    /// `COST` and `ROWS` of the generated functions (unset: kept from the installed row).
    pub tuning: Tuning,
    /// Which installed plugin provides which import (`{"acme:geo/distance": "geo"}`); imports
    /// it does not name are linked to the one plugin that exports them.
    pub links: Option<&'a Json>,
}

/// The capabilities `wasm.install` grants, and the host interface each one lets a component
/// import.
const CAPABILITIES: &[(&str, &str)] = &[("query", super::QUERY_INTERFACE)];

/// Check the granted capabilities against the component's imports: every import of a
/// capability's interface needs its grant, and a deterministic plugin may not read the database.
/// Returns the granted capabilities, sorted, without repeats.
fn check_capabilities(
    imports: &[String],
    granted: &[String],
    deterministic: bool,
) -> PluginResult<Vec<String>> {
    for g in granted {
        if !CAPABILITIES.iter().any(|(name, _)| name == g) {
            return Err(PluginError::InvalidArgument(format!(
                "unknown capability \"{g}\": the capabilities are {}",
                CAPABILITIES
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    for (name, prefix) in CAPABILITIES {
        let Some(import) = imports.iter().find(|i| i.starts_with(prefix)) else {
            continue;
        };
        if !granted.iter().any(|g| g == name) {
            return Err(PluginError::UnsatisfiedImport(
                format!("the component imports {import}, which needs the capability \"{name}\""),
                Some(format!(
                    "grant it at install: wasm.install(…, capabilities => '{{{name}}}')"
                )),
            ));
        }
        if deterministic && *name == "query" {
            return Err(PluginError::UnsatisfiedImport(
                format!(
                    "a deterministic plugin may not read the database, but this component imports {import}"
                ),
                None,
            ));
        }
    }
    let mut out: Vec<String> = granted.to_vec();
    out.sort();
    out.dedup();
    Ok(out)
}

/// Check the plugin's name and its schema's; returns the schema.
fn check_names<'a>(name: &'a str, schema: Option<&'a str>) -> PluginResult<&'a str> {
    if !valid_name(name) {
        return Err(PluginError::InvalidArgument(format!(
            "invalid plugin name \"{name}\": use lower-case letters, digits and underscores, starting with a letter"
        )));
    }
    let schema = schema.unwrap_or(name);
    if !valid_name(schema) || schema.starts_with("pg_") || schema == "wasm" {
        return Err(PluginError::InvalidArgument(format!(
            "invalid schema name \"{schema}\" for a plugin"
        )));
    }
    Ok(schema)
}

/// A component that passed its checks: compiled, with its granted capabilities.
struct Checked {
    /// The sha256 of what runs: the composition if the plugin is linked, else its bytes.
    sha256: String,
    /// The sha256 of the plugin's own bytes.
    source_sha256: String,
    compiled: std::rc::Rc<CompiledPlugin>,
    capabilities: Vec<String>,
    /// Its links to the plugins that provide its imports, and the composition they make.
    links: Vec<Link>,
    composed: Option<Vec<u8>>,
}

impl Checked {
    /// The volatility and parallel safety of the plugin's generated functions.
    fn volatility(&self, deterministic: bool) -> &'static str {
        if deterministic {
            "IMMUTABLE PARALLEL SAFE"
        } else if self.capabilities.iter().any(|c| c == "query") {
            // Reads the database in the caller's snapshot; subtransactions (which catching a
            // query's errors needs) are not allowed in parallel mode.
            "STABLE PARALLEL UNSAFE"
        } else {
            "VOLATILE PARALLEL UNSAFE"
        }
    }
}

/// Check the bytes (size, sha256), link them to the plugins that provide their imports (if
/// they import any plugin's interface), compile what runs, and check the imports against
/// `deterministic` and the granted capabilities.
fn check_component(bytes: &[u8], opts: &InstallOptions<'_>) -> PluginResult<Checked> {
    if bytes.len() > guc::max_component_bytes() {
        return Err(PluginError::ComponentTooLarge(format!(
            "component of {} bytes exceeds wasm.max_component_size ({} MB)",
            bytes.len(),
            guc::max_component_bytes() >> 20
        )));
    }
    let source_sha256 = sha256_hex(bytes);
    if let Some(expected) = opts.sha256
        && !expected.eq_ignore_ascii_case(&source_sha256)
    {
        return Err(PluginError::InvalidArgument(format!(
            "the component's sha256 is {source_sha256}, not the expected {expected}"
        )));
    }
    // What it imports from other plugins (types only). Bytes that do not parse are left to
    // the compiler, whose errors say more.
    let parts = match classify_wasm(bytes) {
        WasmKind::Component => link::interfaces(bytes).ok(),
        _ => None,
    };
    let (links, composed) = match &parts {
        Some(p) if !p.plugin_imports.is_empty() || opts.links.is_some() => {
            let chosen = link::parse_links_option(opts.links)?;
            let links = choose_providers(opts.name, &p.plugin_imports, &chosen)?;
            if links.is_empty() {
                (links, None)
            } else {
                check_deterministic_links(opts.name, opts.deterministic, &links)?;
                let composed = compose_with(opts.name, bytes, &links)?;
                (links, Some(composed))
            }
        }
        _ => (Vec::new(), None),
    };
    let runs = composed.as_deref().unwrap_or(bytes);
    let sha256 = sha256_hex(runs);
    let (compiled, load) = load_component(&sha256, || Ok(runs.to_vec()))?;
    crate::stats::log_load(opts.name, &compiled, load);
    crate::stats::loaded_by_install(opts.name, load);
    if opts.deterministic {
        let varying = compiled.nondeterministic_imports();
        if !varying.is_empty() {
            return Err(PluginError::UnsatisfiedImport(
                format!(
                    "a deterministic plugin may not import the wall clock or random numbers (its monotonic clock is frozen), but this component imports {}",
                    varying.join(", ")
                ),
                None,
            ));
        }
    }
    // Capabilities are the plugin's own: checked against its own imports, not its providers'.
    let own_imports = match (&parts, composed.is_some()) {
        (Some(p), true) => &p.imports,
        _ => &compiled.imports,
    };
    let capabilities = check_capabilities(own_imports, opts.capabilities, opts.deterministic)?;
    Ok(Checked {
        sha256,
        source_sha256,
        compiled,
        capabilities,
        links,
        composed,
    })
}

/// Every other installed plugin: its name, whether it is deterministic and which plugins it
/// links to.
fn installed_plugins() -> PluginResult<Vec<(String, bool, Vec<String>)>> {
    let sql = if super::linked_catalog()? {
        "SELECT name, deterministic, \
                ARRAY(SELECT l.value FROM pg_catalog.jsonb_each_text(links) l) \
         FROM wasm.plugins ORDER BY name"
    } else if super::typed_catalog()? {
        "SELECT name, deterministic, '{}'::pg_catalog.text[] FROM wasm.plugins ORDER BY name"
    } else {
        "SELECT name, COALESCE((options OPERATOR(pg_catalog.->>) 'deterministic')::pg_catalog.bool, false), \
                '{}'::pg_catalog.text[] FROM wasm.plugins ORDER BY name"
    };
    super::select_rows(sql, &[], |row| {
        Ok((
            row.get::<String>(1)?.unwrap_or_default(),
            row.get::<bool>(2)?.unwrap_or(false),
            row.get::<Vec<String>>(3)?.unwrap_or_default(),
        ))
    })
}

/// Choose the provider of each of `name`'s plugin imports among the installed plugins.
fn choose_providers(
    name: &str,
    plugin_imports: &[String],
    chosen: &std::collections::BTreeMap<String, String>,
) -> PluginResult<Vec<Link>> {
    if !plugin_imports.is_empty() && !super::linked_catalog()? {
        return Err(PluginError::NotSupported(
            format!(
                "the component imports {}, another plugin's interface, and linking plugins needs the extension's SQL 0.5.0",
                plugin_imports.join(", ")
            ),
            Some("run ALTER EXTENSION pg_component UPDATE".into()),
        ));
    }
    // With every import chosen, only the chosen plugins' bytes are read.
    let all_chosen = plugin_imports
        .iter()
        .all(|i| chosen.contains_key(i) || chosen.contains_key(i.split('@').next().unwrap_or(i)));
    let mut candidates = Vec::new();
    for (plugin, _, providers) in installed_plugins()? {
        let wanted = plugin != name && (!all_chosen || chosen.values().any(|c| *c == plugin));
        let exports = if wanted {
            link::interfaces(&super::fetch_bytes(&plugin)?)
                .map(|i| i.exports)
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        candidates.push((
            link::Candidate {
                name: plugin,
                providers,
            },
            exports,
        ));
    }
    link::choose(name, plugin_imports, chosen, &candidates)
}

/// A deterministic plugin may link only to deterministic plugins.
fn check_deterministic_links(name: &str, deterministic: bool, links: &[Link]) -> PluginResult<()> {
    if !deterministic {
        return Ok(());
    }
    let plugins = installed_plugins()?;
    for l in links {
        if !plugins.iter().any(|(p, d, _)| *p == l.provider && *d) {
            return Err(PluginError::UnsatisfiedImport(
                format!(
                    "plugin \"{name}\" cannot be deterministic: it links to plugin \"{}\" (for {}), which is not",
                    l.provider, l.import
                ),
                Some("a composition is deterministic only if every part is; install the provider with deterministic => true, or this plugin without it".into()),
            ));
        }
    }
    Ok(())
}

/// Compose `bytes` with the current code of the providers `links` name.
fn compose_with(name: &str, bytes: &[u8], links: &[Link]) -> PluginResult<Vec<u8>> {
    let mut provider_bytes = std::collections::HashMap::new();
    for l in links {
        if !provider_bytes.contains_key(&l.provider) {
            provider_bytes.insert(l.provider.clone(), super::fetch_bytes(&l.provider)?);
        }
    }
    link::compose(name, bytes, links, &provider_bytes)
}

/// What a replace drops of the old generated types: those whose definition changes, and every
/// kept one that uses a dropped one, transitively. A kept type is also a planned one, so the
/// mapping (`planned`) says what it uses.
fn types_to_drop(old: &[GeneratedType], planned: &[GeneratedType]) -> Vec<GeneratedType> {
    let mut drop: Vec<GeneratedType> = old
        .iter()
        .filter(|t| !planned.contains(t))
        .cloned()
        .collect();
    loop {
        let uses_dropped = |t: &&GeneratedType| {
            t.uses
                .iter()
                .any(|used| drop.iter().any(|d| d.name == *used))
        };
        let more: Vec<GeneratedType> = planned
            .iter()
            .filter(|t| old.contains(t) && !drop.contains(t))
            .filter(uses_dropped)
            .cloned()
            .collect();
        if more.is_empty() {
            return drop;
        }
        drop.extend(more);
    }
}

/// For a replace: drop the old plugin's functions that do not stay as they are (same
/// identity and return, no dropped type in their signature), then `drop_types`, unless user
/// objects depend on any of them (`2BP01`).
fn drop_replaced(
    name: &str,
    old: &Existing,
    (planned, planned_aggs): (&[Generated], &[PlannedAggregate]),
    drop_types: &[GeneratedType],
    schema_present: bool,
) -> PluginResult<()> {
    let dropped_type = |used: &String| drop_types.iter().any(|d| d.name == *used);
    let mut keep = Vec::new();
    for g in planned.iter().filter(|_| schema_present) {
        if let Some((ident, true)) = regprocedure_text(g)?
            && !g.uses.iter().any(dropped_type)
        {
            keep.push(ident);
        }
    }
    let dropped: Vec<String> = generated_functions(name, &old.schema)?
        .into_iter()
        .filter(|i| !keep.contains(i))
        .collect();
    let dropped_aggs = aggregates_to_drop(name, &old.schema, planned_aggs, &dropped)?;
    let type_names: Vec<String> = drop_types.iter().map(|t| t.name.clone()).collect();
    refuse_dependents(
        name,
        "replace",
        &type_names,
        &[&dropped[..], &dropped_aggs[..]].concat(),
    )?;
    for ident in &dropped_aggs {
        run(&format!("DROP AGGREGATE {ident}"))?;
    }
    for ident in &dropped {
        run(&format!("DROP FUNCTION {ident}"))?;
    }
    for t in old.types.iter().rev().filter(|t| drop_types.contains(t)) {
        run(&format!("DROP TYPE {}", t.name))?;
    }
    Ok(())
}

/// What a replace drops of the plugin's aggregates: those not planned with the same identity
/// and definition, and those one of whose support functions is dropped (`dropped`).
fn aggregates_to_drop(
    name: &str,
    schema: &str,
    planned: &[PlannedAggregate],
    dropped: &[String],
) -> PluginResult<Vec<String>> {
    let mut out = Vec::new();
    for (ident, comment) in generated_aggregates(name, schema)? {
        let mut same = false;
        for a in planned.iter().filter(|a| a.comment == comment) {
            same |= existing_identity(&a.identity)?.as_deref() == Some(ident.as_str());
        }
        let support_dropped = Spi::get_one_with_args::<bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_aggregate a \
               WHERE a.aggfnoid OPERATOR(pg_catalog.=) pg_catalog.to_regprocedure($1) \
                 AND ARRAY[a.aggtransfn, a.aggfinalfn, a.aggcombinefn, a.aggserialfn, a.aggdeserialfn, \
                           a.aggmtransfn, a.aggminvtransfn, a.aggmfinalfn]::pg_catalog.oid[] \
                     OPERATOR(pg_catalog.&&) ARRAY(SELECT pg_catalog.to_regprocedure(f)::pg_catalog.oid \
                                                   FROM pg_catalog.unnest($2::pg_catalog.text[]) f))",
            &[ident.as_str().into(), dropped.to_vec().into()],
        )
        .map_err(spi_err)?
        .unwrap_or(true);
        if !same || support_dropped {
            out.push(ident);
        }
    }
    Ok(out)
}

/// Refuse to take over a function or type that is not this plugin's: another plugin's
/// export, or a user's object with the same name (and argument types) in the schema.
fn refuse_taken(
    name: &str,
    schema: &str,
    planned: &[Generated],
    new_types: &[&GeneratedType],
    schema_present: bool,
) -> PluginResult<()> {
    let ours: Vec<String> = generated_functions(name, schema)?;
    for g in planned.iter().filter(|_| schema_present) {
        if let Some((ident, _)) = regprocedure_text(g)?
            && !ours.contains(&ident)
        {
            return Err(PluginError::FunctionTaken(format!(
                "function {ident} already exists and does not belong to plugin \"{name}\"; install it into another schema with schema => …"
            )));
        }
    }
    for t in new_types {
        if type_exists(&t.name)? {
            return Err(PluginError::TypeTaken(format!(
                "type {} already exists and does not belong to plugin \"{name}\"; install it into another schema with schema => …",
                t.name
            )));
        }
    }
    Ok(())
}

/// The catalog row's new state.
struct Row<'a> {
    name: &'a str,
    schema: &'a str,
    bytes: &'a [u8],
    wit: &'a str,
    checked: &'a Checked,
    deterministic: bool,
    created_schema: bool,
    types: &'a [GeneratedType],
    planned: &'a [Generated],
    aggregates: &'a [PlannedAggregate],
    tuning: Tuning,
}

/// Insert or update the plugin's row, in the typed layout or, while the extension's SQL
/// predates it, the legacy one.
fn write_row(row: &Row<'_>, update: bool, typed: bool) -> PluginResult<()> {
    let exports: Vec<ExportEntry<'_>> = row
        .planned
        .iter()
        .map(|g| ExportEntry {
            export: &g.export,
            function: &g.signature,
            wit: &g.wit,
        })
        .chain(row.aggregates.iter().map(|a| ExportEntry {
            export: &a.export,
            function: &a.signature,
            wit: "aggregate",
        }))
        .collect();
    let to_json = |what: &str, v: Result<Json, serde_json::Error>| {
        v.map_err(|e| PluginError::Internal(format!("cannot record the plugin's {what}: {e}")))
    };
    let exports = to_json("exports", serde_json::to_value(exports))?;
    let mut args = vec![
        row.name.into(),
        row.schema.into(),
        row.bytes.into(),
        row.checked.source_sha256.as_str().into(),
        row.wit.into(),
        JsonB(exports).into(),
    ];
    let (update_sql, insert_sql) = if typed {
        let types = to_json("types", serde_json::to_value(row.types))?;
        let options = to_json("options", serde_json::to_value(row.tuning))?;
        args.extend([
            row.deterministic.into(),
            row.checked.capabilities.clone().into(),
            row.created_schema.into(),
            JsonB(types).into(),
            JsonB(options).into(),
        ]);
        (
            "UPDATE wasm.plugins SET version = version OPERATOR(pg_catalog.+) 1, schema_name = $2, bytes = $3, \
             sha256 = $4, wit = $5, exports = $6, deterministic = $7, capabilities = $8, created_schema = $9, \
             generated_types = $10, options = $11, owner = CURRENT_USER, installed_at = pg_catalog.now() \
             WHERE name OPERATOR(pg_catalog.=) $1",
            "INSERT INTO wasm.plugins (name, schema_name, bytes, sha256, wit, exports, deterministic, \
             capabilities, created_schema, generated_types, options) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
    } else {
        let legacy = LegacyOptions {
            created_schema: row.created_schema,
            deterministic: row.deterministic,
            types: row.types.to_vec(),
            capabilities: row.checked.capabilities.clone(),
        };
        args.push(JsonB(to_json("options", serde_json::to_value(legacy))?).into());
        (
            "UPDATE wasm.plugins SET version = version OPERATOR(pg_catalog.+) 1, schema_name = $2, bytes = $3, \
             sha256 = $4, wit = $5, exports = $6, options = $7, owner = CURRENT_USER, installed_at = pg_catalog.now() \
             WHERE name OPERATOR(pg_catalog.=) $1",
            "INSERT INTO wasm.plugins (name, schema_name, bytes, sha256, wit, exports, options) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
    };
    let sql = if update { update_sql } else { insert_sql };
    Spi::run_with_args(sql, &args).map_err(spi_err)?;
    if super::linked_catalog()? {
        let checked = row.checked;
        let composed = checked
            .composed
            .as_deref()
            .map(|c| (c, checked.sha256.as_str()));
        write_links(row.name, &checked.links, composed)?;
    }
    Ok(())
}

/// Record a plugin's links and the composition that runs, with its sha256 (none when it links
/// to nothing).
fn write_links(name: &str, links: &[Link], composed: Option<(&[u8], &str)>) -> PluginResult<()> {
    let links: serde_json::Map<String, Json> = links
        .iter()
        .map(|l| (l.import.clone(), Json::String(l.provider.clone())))
        .collect();
    Spi::run_with_args(
        "UPDATE wasm.plugins SET links = $2, linked_bytes = $3, linked_sha256 = $4 \
         WHERE name OPERATOR(pg_catalog.=) $1",
        &[
            name.into(),
            JsonB(Json::Object(links)).into(),
            composed.map(|(bytes, _)| bytes).into(),
            composed.map(|(_, sha)| sha).into(),
        ],
    )
    .map_err(spi_err)
}

/// The plugins that link to `provider`, directly or through others, ordered so that each comes
/// after every one of them it links to.
fn importers_of(provider: &str) -> PluginResult<Vec<(String, bool)>> {
    let plugins = installed_plugins()?;
    let mut affected: Vec<&(String, bool, Vec<String>)> = Vec::new();
    let mut changed = vec![provider.to_string()];
    loop {
        let more: Vec<&(String, bool, Vec<String>)> = plugins
            .iter()
            .filter(|(n, _, _)| !changed.contains(n))
            .filter(|(_, _, ps)| ps.iter().any(|p| changed.contains(p)))
            .collect();
        if more.is_empty() {
            break;
        }
        changed.extend(more.iter().map(|(n, _, _)| n.clone()));
        affected.extend(more);
    }
    // Topological order: one whose providers among the affected are all done goes next.
    let mut ordered: Vec<(String, bool)> = Vec::new();
    while ordered.len() < affected.len() {
        let next = affected.iter().find(|(n, _, ps)| {
            !ordered.iter().any(|(o, _)| o == n)
                && ps.iter().all(|p| {
                    !affected.iter().any(|(a, _, _)| a == p) || ordered.iter().any(|(o, _)| o == p)
                })
        });
        match next {
            Some((n, d, _)) => ordered.push((n.clone(), *d)),
            None => {
                return Err(PluginError::Internal(format!(
                    "the links of the importers of plugin \"{provider}\" form a cycle"
                )));
            }
        }
    }
    Ok(ordered)
}

/// After a replace of `provider`, compose each plugin that links to it (directly or not) again
/// with the new code, in the same transaction: they run it from their next call. Refused,
/// naming the importer, if the new provider no longer serves it. Returns the sha256s of the
/// compositions taken out of use.
fn relink_importers(provider: &str) -> PluginResult<Vec<String>> {
    let mut displaced = Vec::new();
    for (importer, deterministic) in importers_of(provider)? {
        let (bytes, links, old_sha) = super::select_rows(
            "SELECT bytes, links, linked_sha256 FROM wasm.plugins WHERE name OPERATOR(pg_catalog.=) $1",
            &[importer.as_str().into()],
            |row| {
                Ok((
                    row.get::<Vec<u8>>(1)?.unwrap_or_default(),
                    row.get::<JsonB>(2)?.map(|JsonB(j)| j),
                    row.get::<String>(3)?,
                ))
            },
        )?
        .into_iter()
        .next()
        .ok_or_else(|| PluginError::Internal(format!("plugin \"{importer}\" vanished")))?;
        let refused = |e: PluginError| match e {
            PluginError::Link(fault, message, detail) => PluginError::Link(
                fault,
                format!(
                    "cannot replace plugin \"{provider}\": plugin \"{importer}\" links to it, and {message}"
                ),
                detail,
            ),
            PluginError::UnsatisfiedImport(message, detail) => PluginError::UnsatisfiedImport(
                format!(
                    "cannot replace plugin \"{provider}\": plugin \"{importer}\" links to it, and {message}"
                ),
                detail,
            ),
            other => other,
        };
        let chosen = link::parse_links_option(links.as_ref())?;
        let imports: Vec<String> = chosen.keys().cloned().collect();
        let links = choose_providers(&importer, &imports, &chosen).map_err(refused)?;
        check_deterministic_links(&importer, deterministic, &links).map_err(refused)?;
        let composed = compose_with(&importer, &bytes, &links).map_err(refused)?;
        let sha256 = sha256_hex(&composed);
        let (_, load) = load_component(&sha256, || Ok(composed.clone())).map_err(refused)?;
        crate::stats::loaded_by_install(&importer, load);
        write_links(&importer, &links, Some((&composed, &sha256)))?;
        if let Some(old) = old_sha
            && old != sha256
        {
            displaced.push(old);
        }
    }
    Ok(displaced)
}

/// Refuse to uninstall a plugin other plugins link to (`2BP01`), naming them.
fn refuse_importers(name: &str) -> PluginResult<()> {
    let importers: Vec<String> = installed_plugins()?
        .into_iter()
        .filter(|(_, _, providers)| providers.iter().any(|p| p == name))
        .map(|(n, _, _)| n)
        .collect();
    if importers.is_empty() {
        return Ok(());
    }
    Err(PluginError::Dependents(
        format!(
            "cannot uninstall plugin \"{name}\": plugin{} {} link{} to it",
            if importers.len() == 1 { "" } else { "s" },
            importers
                .iter()
                .map(|i| format!("\"{i}\""))
                .collect::<Vec<_>>()
                .join(", "),
            if importers.len() == 1 { "s" } else { "" }
        ),
        format!("wasm.links lists them: {}", importers.join(", ")),
    ))
}

pub fn install_plugin(
    name: &str,
    bytes: &[u8],
    opts: InstallOptions<'_>,
) -> PluginResult<Vec<(String, String, String)>> {
    require_admin("install plugins")?;
    require_writable("install plugins")?;
    let schema = check_names(name, opts.schema)?;
    let checked = check_component(bytes, &opts)?;
    let wit = decode_wit(bytes);
    let volatility = checked.volatility(opts.deterministic);
    let typed = super::typed_catalog()?;
    let existing = lock_plugin(name, typed)?;
    if existing.is_some() && !opts.replace {
        return Err(PluginError::DuplicatePlugin(format!(
            "plugin \"{name}\" is already installed"
        )));
    }
    let tuning = Tuning::resolve(opts.tuning, existing.as_ref().map(|e| e.tuning))?;
    let reads = checked.capabilities.iter().any(|c| c == "query");
    let (planned, planned_types, planned_aggs) = plan_functions(
        name,
        schema,
        &checked.compiled,
        (volatility, tuning, reads),
        &wit.names,
    )?;
    let old_types = existing
        .as_ref()
        .map(|e| e.types.clone())
        .unwrap_or_default();
    let drop_types = types_to_drop(&old_types, &planned_types);
    // Functions can only exist in a schema that exists (and their lookup needs it to).
    let schema_present = schema_exists(schema)?;
    if let Some(old) = &existing {
        drop_replaced(
            name,
            old,
            (&planned, &planned_aggs),
            &drop_types,
            schema_present,
        )?;
    }
    let kept = |t: &&GeneratedType| old_types.contains(t) && !drop_types.contains(t);
    let new_types: Vec<&GeneratedType> = planned_types.iter().filter(|t| !kept(t)).collect();
    refuse_taken(name, schema, &planned, &new_types, schema_present)?;
    let mut created_schema = existing
        .as_ref()
        .is_some_and(|e| e.schema == schema && e.created_schema);
    if !schema_present {
        run(&format!("CREATE SCHEMA {}", quote_ident(schema)))?;
        created_schema = true;
    }
    for t in &new_types {
        run(&t.ddl)?;
        run(&format!(
            "COMMENT ON TYPE {} IS {}",
            t.name,
            quote_literal(&format!("generated by wasm plugin {name}"))
        ))?;
    }
    let row = Row {
        name,
        schema,
        bytes,
        wit: &wit.text,
        checked: &checked,
        deterministic: opts.deterministic,
        created_schema,
        types: &planned_types,
        planned: &planned,
        aggregates: &planned_aggs,
        tuning,
    };
    write_row(&row, existing.is_some(), typed)?;
    // Its importers run its new code from their next call, or the replace is refused.
    let relinked = if existing.is_some() && super::linked_catalog()? {
        relink_importers(name)?
    } else {
        Vec::new()
    };
    invalidate_local();
    discard_instances();
    broadcast_change(
        existing
            .as_ref()
            .map(|e| e.sha256.as_str())
            .filter(|old| *old != checked.sha256),
    )?;
    for old in &relinked {
        broadcast_change(Some(old))?;
    }
    let mut rows = Vec::new();
    for g in planned {
        run(&g.ddl)?;
        run(&g.comment)?;
        rows.push((g.signature, g.export, checked.source_sha256.clone()));
    }
    create_aggregates(name, schema, &planned_aggs)?;
    for a in planned_aggs {
        rows.push((a.signature, a.export, checked.source_sha256.clone()));
    }
    Ok(rows)
}

pub fn uninstall_plugin(name: &str) -> PluginResult<()> {
    require_admin("uninstall plugins")?;
    require_writable("uninstall plugins")?;
    let Some(Existing {
        schema,
        created_schema,
        types,
        sha256,
        ..
    }) = lock_plugin(name, super::typed_catalog()?)?
    else {
        return Err(PluginError::UndefinedPlugin(
            format!("plugin \"{name}\" is not installed"),
            None,
        ));
    };
    refuse_importers(name)?;
    let functions: Vec<String> = generated_functions(name, &schema)?;
    let aggregates: Vec<String> = generated_aggregates(name, &schema)?
        .into_iter()
        .map(|(ident, _)| ident)
        .collect();
    let type_names: Vec<String> = types.iter().map(|t| t.name.clone()).collect();
    refuse_dependents(
        name,
        "uninstall",
        &type_names,
        &[&functions[..], &aggregates[..]].concat(),
    )?;
    for ident in &aggregates {
        run(&format!("DROP AGGREGATE {ident}"))?;
    }
    for ident in &functions {
        run(&format!("DROP FUNCTION {ident}"))?;
    }
    for t in types.iter().rev() {
        if type_exists(&t.name)? {
            run(&format!("DROP TYPE {}", t.name))?;
        }
    }
    Spi::run_with_args(
        "DELETE FROM wasm.plugins WHERE name OPERATOR(pg_catalog.=) $1",
        &[name.into()],
    )
    .map_err(spi_err)?;
    if created_schema {
        let empty = Spi::get_one_with_args::<bool>(
            "SELECT NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_namespace n \
               ON d.refobjid OPERATOR(pg_catalog.=) n.oid \
             WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass \
               AND n.nspname OPERATOR(pg_catalog.=) $1)",
            &[schema.as_str().into()],
        )
        .map_err(spi_err)?
        .unwrap_or(false);
        if empty {
            run(&format!("DROP SCHEMA IF EXISTS {}", quote_ident(&schema)))?;
        } else {
            pgrx::notice!(
                "schema \"{schema}\" was kept: it holds objects that were not generated by the plugin"
            );
        }
    }
    crate::stats::reset(Some(name));
    invalidate_local();
    discard_instances();
    broadcast_change(Some(&sha256))
}

#[cfg(test)]
mod tests {
    use super::{GeneratedType, types_to_drop, valid_name};

    fn ty(name: &str, ddl: &str, uses: &[&str]) -> GeneratedType {
        GeneratedType {
            name: name.into(),
            ddl: ddl.into(),
            uses: uses.iter().map(|u| u.to_string()).collect(),
        }
    }

    fn names(types: &[GeneratedType]) -> Vec<&str> {
        types.iter().map(|t| t.name.as_str()).collect()
    }

    #[test]
    fn a_replace_drops_changed_types_and_what_uses_them() {
        let point = ty("p.point", "AS (x float8)", &[]);
        let line = ty("p.line", "AS (a p.point)", &["p.point"]);
        let path = ty("p.path", "AS (l p.line[])", &["p.line"]);
        let color = ty("p.color", "AS ENUM ('red')", &[]);
        let old = [point.clone(), line.clone(), path.clone(), color.clone()];
        // Nothing changes: nothing is dropped.
        assert!(types_to_drop(&old, &old).is_empty());
        // point changes: line and path, whose DDL text is unchanged, use it and go too.
        let point2 = ty("p.point", "AS (x float8, y float8)", &[]);
        let planned = [point2, line.clone(), path.clone(), color.clone()];
        assert_eq!(
            names(&types_to_drop(&old, &planned)),
            ["p.point", "p.line", "p.path"]
        );
        // A type that is no longer planned is dropped; an unrelated one stays.
        assert_eq!(
            names(&types_to_drop(&old, &[point, line, path])),
            ["p.color"]
        );
        // A name that merely contains a dropped one's is not a use.
        let pointy = ty("p.point_x", "AS (q p.pointy)", &[]);
        let old = [ty("p.point", "AS (x int)", &[]), pointy.clone()];
        assert_eq!(names(&types_to_drop(&old, &[pointy])), ["p.point"]);
    }

    #[test]
    fn plugin_names_are_lower_case_identifiers() {
        assert!(valid_name("slugify"));
        assert!(valid_name("_x1"));
        assert!(!valid_name(""));
        assert!(!valid_name("1x"));
        assert!(!valid_name("Slug"));
        assert!(!valid_name("a-b"));
        assert!(!valid_name("a;drop"));
        assert!(!valid_name(&"a".repeat(64)));
    }
}
