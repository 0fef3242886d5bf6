//! Privilege checks: who may manage plugins, and who may call or bind a plugin's exports.
//!
//! Managing (install, replace, uninstall) is for superusers and members of `wasm_admin`.
//! Calling or binding an export needs USAGE on the plugin's schema, the same privilege that
//! calling its generated functions needs; admins always may.

use pgrx::pg_sys;

use crate::catalog::ResolvedPlugin;
use crate::error::{PluginError, PluginResult};

/// Whether the current user is a superuser or has the privileges of `wasm_admin`.
pub fn is_admin() -> bool {
    // SAFETY: superuser(), get_role_oid and has_privs_of_role read backend-local and catalog
    // state; missing_ok avoids an ERROR if the role was dropped.
    unsafe {
        if pg_sys::superuser() {
            return true;
        }
        let admin = pg_sys::get_role_oid(c"wasm_admin".as_ptr(), true);
        admin != pg_sys::Oid::INVALID && pg_sys::has_privs_of_role(pg_sys::GetUserId(), admin)
    }
}

/// Superusers and members of `wasm_admin` manage plugins.
pub fn require_admin(action: &str) -> PluginResult<()> {
    if is_admin() {
        Ok(())
    } else {
        Err(PluginError::PermissionDenied(format!(
            "permission denied to {action}: only superusers and members of wasm_admin manage plugins"
        )))
    }
}

/// Install, replace and uninstall write the catalog and run DDL: refuse them up front, with
/// 25006, on a hot standby and in a read-only transaction (Postgres would refuse the first
/// write anyway, but only after the component was compiled).
pub fn require_writable(action: &str) -> PluginResult<()> {
    // SAFETY: both read backend-local state.
    let (recovery, read_only) = unsafe { (pg_sys::RecoveryInProgress(), pg_sys::XactReadOnly) };
    if recovery {
        Err(PluginError::ReadOnly(format!(
            "cannot {action} during recovery: this server is a hot standby"
        )))
    } else if read_only {
        Err(PluginError::ReadOnly(format!(
            "cannot {action} in a read-only transaction"
        )))
    } else {
        Ok(())
    }
}

/// Whether the current user has USAGE on the plugin's schema. A missing schema grants nothing.
fn has_schema_usage(schema: &str) -> bool {
    let Ok(cschema) = std::ffi::CString::new(schema) else {
        return false;
    };
    // SAFETY: catalog lookups with a valid C string; missing_ok avoids an ERROR.
    unsafe {
        let nsp = pg_sys::get_namespace_oid(cschema.as_ptr(), true);
        nsp != pg_sys::Oid::INVALID
            && pg_sys::pg_namespace_aclcheck(nsp, pg_sys::GetUserId(), pg_sys::ACL_USAGE as _)
                == pg_sys::AclResult::ACLCHECK_OK
    }
}

/// [`require_plugin_usage`], remembered on the resolved plugin for the current role until the
/// catalog changes: `wasm_transform` asks on every row.
#[inline(always)]
pub fn require_plugin_usage_cached(plugin: &ResolvedPlugin) -> PluginResult<()> {
    let key = (current_role(), crate::cache::generation());
    if plugin.checked.get() == key {
        return Ok(());
    }
    require_plugin_usage(plugin)?;
    plugin.checked.set(key);
    Ok(())
}

/// Calling or binding the plugin's exports: admins, or USAGE on the plugin's schema.
fn require_plugin_usage(plugin: &ResolvedPlugin) -> PluginResult<()> {
    if is_admin() || has_schema_usage(&plugin.schema) {
        Ok(())
    } else {
        Err(PluginError::PermissionDenied(format!(
            "permission denied for plugin \"{}\": USAGE on schema \"{}\" is required",
            plugin.name, plugin.schema
        )))
    }
}

unsafe extern "C-unwind" {
    /// Postgres' `GetUserId`, called directly rather than through pgrx's error-catching
    /// wrapper (a `sigsetjmp` per call): it only returns a backend-local variable and cannot
    /// raise an error, and the call path asks for it on every row.
    #[link_name = "GetUserId"]
    fn get_user_id_direct() -> pg_sys::Oid;
}

/// The current role (`GetUserId()`), cheaply enough for every row.
pub fn current_role() -> pg_sys::Oid {
    // SAFETY: GetUserId takes no arguments, reads backend-local state and never raises.
    unsafe { get_user_id_direct() }
}

/// The current role's name.
pub fn current_role_name() -> String {
    // SAFETY: a lookup of the current role, which exists; the name is a palloc'd C string.
    unsafe {
        let name = pg_sys::GetUserNameFromId(current_role(), false);
        std::ffi::CStr::from_ptr(name)
            .to_string_lossy()
            .into_owned()
    }
}
