//! `pg-component`: install, list, show and uninstall pg_component plugins from a client.
//!
//! The component's bytes travel to the server as a binary query parameter, so nothing needs
//! to be on the server's disk and no superuser file access is involved: the caller needs only
//! what `wasm.install` needs (superuser or `wasm_admin`). Connection settings are libpq's:
//! `--db` (a `postgresql://` URL or `key=value` string), else `PGHOST`, `PGPORT`, `PGUSER`,
//! `PGDATABASE`, `PGPASSWORD`, `PGAPPNAME`, `PGCONNECT_TIMEOUT` (or the flags of the same
//! meaning).
//!
//! Exit codes: 0 done; 1 the server refused (its SQLSTATE, message, detail and hint are
//! printed); 2 bad usage; 3 the file cannot be read; 4 no connection.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use postgres::{Client, Config, NoTls};

#[derive(Parser)]
#[command(
    name = "pg-component",
    version,
    about = "Manage pg_component plugins from a client"
)]
struct Cli {
    /// Connection string or URL (postgresql://user@host:port/db); overrides the other settings.
    #[arg(long, global = true)]
    db: Option<String>,
    /// Server host or Unix socket directory.
    #[arg(long, global = true, env = "PGHOST")]
    host: Option<String>,
    /// Server port.
    #[arg(long, global = true, env = "PGPORT")]
    port: Option<u16>,
    /// User name.
    #[arg(long, global = true, env = "PGUSER")]
    user: Option<String>,
    /// Database name.
    #[arg(long, global = true, env = "PGDATABASE")]
    dbname: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install (or with --replace, upgrade) a plugin from a local .wasm file.
    Install {
        /// The plugin's name (lower-case letters, digits and underscores).
        name: String,
        /// The component file.
        file: std::path::PathBuf,
        /// Replace an installed plugin of this name.
        #[arg(long)]
        replace: bool,
        /// Promise that the exports depend only on their arguments (IMMUTABLE, PARALLEL SAFE).
        #[arg(long)]
        deterministic: bool,
        /// Schema for the generated objects (default: the plugin's name).
        #[arg(long)]
        schema: Option<String>,
        /// Refuse the install unless the file's sha256 is this (hex).
        #[arg(long)]
        sha256: Option<String>,
        /// Grant a capability (repeatable): query.
        #[arg(long = "capability", value_name = "CAPABILITY")]
        capabilities: Vec<String>,
        /// The planner's COST of the generated functions (kept by later replaces).
        #[arg(long)]
        cost: Option<f64>,
        /// The planner's ROWS of the generated set-returning functions.
        #[arg(long)]
        rows: Option<f64>,
        /// Link an import of another plugin's interface to an installed plugin (repeatable):
        /// --link acme:geo/distance=geo. Imports not named go to the one plugin exporting them.
        #[arg(long = "link", value_name = "IMPORT=PLUGIN")]
        links: Vec<String>,
    },
    /// List the installed plugins.
    List,
    /// Show a plugin: its WIT world and the SQL functions of its exports.
    Show {
        /// The plugin's name.
        name: String,
    },
    /// Uninstall a plugin and drop the functions and types it generated.
    Uninstall {
        /// The plugin's name.
        name: String,
    },
}

/// Why the command failed, and its exit code.
enum Failure {
    Refused(postgres::Error),
    /// No such plugin (the server's SQLSTATE for it, 42704).
    NotInstalled(String),
    File(std::path::PathBuf, std::io::Error),
    Connect(String),
    /// A malformed option value.
    Usage(String),
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Failure {
    fn report(&self) -> ExitCode {
        match self {
            Failure::Refused(e) => {
                match e.as_db_error() {
                    Some(db) => {
                        eprintln!(
                            "pg-component: {} {}: {}",
                            db.severity(),
                            db.code().code(),
                            db.message()
                        );
                        if let Some(detail) = db.detail() {
                            eprintln!("DETAIL:  {detail}");
                        }
                        if let Some(hint) = db.hint() {
                            eprintln!("HINT:  {hint}");
                        }
                    }
                    None => eprintln!("pg-component: {e}"),
                }
                ExitCode::from(1)
            }
            Failure::NotInstalled(name) => {
                eprintln!("pg-component: ERROR 42704: plugin \"{name}\" is not installed");
                eprintln!("HINT:  pg-component list shows the installed plugins");
                ExitCode::from(1)
            }
            Failure::File(path, e) => {
                eprintln!("pg-component: cannot read {}: {e}", path.display());
                ExitCode::from(3)
            }
            Failure::Connect(message) => {
                eprintln!("pg-component: cannot connect: {message}");
                ExitCode::from(4)
            }
            Failure::Usage(message) => {
                eprintln!("pg-component: {message}");
                ExitCode::from(2)
            }
        }
    }
}

impl From<postgres::Error> for Failure {
    fn from(e: postgres::Error) -> Self {
        Failure::Refused(e)
    }
}

/// libpq's defaults for what neither `--db` nor a flag or variable gave.
fn config(cli: &Cli) -> Result<Config, Failure> {
    let mut config = match &cli.db {
        Some(db) => db
            .parse::<Config>()
            .map_err(|e| Failure::Connect(format!("invalid --db: {e}")))?,
        None => Config::new(),
    };
    if config.get_hosts().is_empty() {
        match &cli.host {
            Some(hosts) => hosts.split(',').for_each(|h| {
                config.host(h);
            }),
            // libpq's default on Debian: the Unix socket directory.
            None if std::path::Path::new("/var/run/postgresql").is_dir() => {
                config.host("/var/run/postgresql");
            }
            None => {
                config.host("localhost");
            }
        }
    }
    if config.get_ports().is_empty()
        && let Some(port) = cli.port
    {
        config.port(port);
    }
    let os_user = std::env::var("USER").unwrap_or_else(|_| "postgres".into());
    if config.get_user().is_none() {
        config.user(cli.user.as_deref().unwrap_or(&os_user));
    }
    if config.get_dbname().is_none() {
        let user = config.get_user().unwrap_or(&os_user).to_string();
        config.dbname(cli.dbname.as_deref().unwrap_or(&user));
    }
    if config.get_password().is_none()
        && let Ok(password) = std::env::var("PGPASSWORD")
    {
        config.password(password);
    }
    if config.get_application_name().is_none() {
        let name = std::env::var("PGAPPNAME").unwrap_or_else(|_| "pg-component".into());
        config.application_name(&name);
    }
    if config.get_connect_timeout().is_none()
        && let Some(secs) = std::env::var("PGCONNECT_TIMEOUT")
            .ok()
            .and_then(|s| s.parse().ok())
    {
        config.connect_timeout(Duration::from_secs(secs));
    }
    if let Ok(mode) = std::env::var("PGSSLMODE")
        && matches!(mode.as_str(), "require" | "verify-ca" | "verify-full")
    {
        return Err(Failure::Connect(format!(
            "PGSSLMODE={mode}: this build of pg-component connects without TLS"
        )));
    }
    Ok(config)
}

fn install(client: &mut Client, cmd: &Command) -> Result<(), Failure> {
    let Command::Install {
        name,
        file,
        replace,
        deterministic,
        schema,
        sha256,
        capabilities,
        cost,
        rows,
        links,
    } = cmd
    else {
        return Ok(());
    };
    let bytes = std::fs::read(file).map_err(|e| Failure::File(file.clone(), e))?;
    // Named arguments, so that a server without `capabilities` (0.1.0) still takes the rest.
    let mut sql = "SELECT function, export, sha256 FROM wasm.install($1, $2, replace => $3, \
                   schema => $4, deterministic => $5, sha256 => $6"
        .to_string();
    let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> =
        vec![name, &bytes, replace, schema, deterministic, sha256];
    if !capabilities.is_empty() {
        params.push(capabilities);
        sql.push_str(&format!(", capabilities => ${}", params.len()));
    }
    // Named only when given: a server before 0.4.0 has no cost and rows.
    for (option, value) in [("cost", cost), ("rows", rows)] {
        if let Some(v) = value {
            params.push(v);
            sql.push_str(&format!(", {option} => ${}", params.len()));
        }
    }
    // Named only when given: a server before 0.5.0 has no links.
    let links_json;
    if !links.is_empty() {
        let mut entries = Vec::new();
        for l in links {
            let Some((import, plugin)) = l.split_once('=') else {
                return Err(Failure::Usage(format!(
                    "--link {l}: expected IMPORT=PLUGIN, e.g. --link acme:geo/distance=geo"
                )));
            };
            entries.push(format!("{}: {}", json_string(import), json_string(plugin)));
        }
        links_json = format!("{{{}}}", entries.join(", "));
        params.push(&links_json);
        sql.push_str(&format!(", links => (${}::text)::jsonb", params.len()));
    }
    sql.push(')');
    let rows = client.query(&sql, &params)?;
    for row in &rows {
        println!("{}", row.get::<_, String>(0));
    }
    let sha = rows
        .first()
        .map(|r| r.get::<_, String>(2))
        .unwrap_or_default();
    eprintln!(
        "installed plugin {name}: {} function{} (sha256 {sha})",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    Ok(())
}

fn list(client: &mut Client) -> Result<(), Failure> {
    // Columns of 0.3.0; an older catalog has no capabilities or deterministic column.
    let typed = "SELECT name, version, schema_name::text, size, sha256, \
                 array_to_string(capabilities, ','), deterministic FROM wasm.plugins ORDER BY name";
    let legacy = "SELECT name, version, schema_name::text, size, sha256, \
                  '', false FROM wasm.plugins ORDER BY name";
    let rows = match client.query(typed, &[]) {
        Err(e) if e.code() == Some(&postgres::error::SqlState::UNDEFINED_COLUMN) => {
            client.query(legacy, &[])?
        }
        other => other?,
    };
    println!("name\tversion\tschema\tsize\tsha256\tcapabilities\tdeterministic");
    for row in rows {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            row.get::<_, String>(0),
            row.get::<_, i32>(1),
            row.get::<_, String>(2),
            row.get::<_, i64>(3),
            row.get::<_, String>(4),
            row.get::<_, String>(5),
            row.get::<_, bool>(6)
        );
    }
    Ok(())
}

fn show(client: &mut Client, name: &str) -> Result<(), Failure> {
    let rows = client.query(
        "SELECT version, schema_name::text, size, sha256, wit, \
                (SELECT string_agg((e->>'function') || '    -- export ' || (e->>'export'), E'\\n' ORDER BY e->>'export') \
                 FROM jsonb_array_elements(exports) e) \
         FROM wasm.plugins WHERE name = $1",
        &[&name],
    )?;
    let Some(row) = rows.first() else {
        return Err(Failure::NotInstalled(name.to_string()));
    };
    println!(
        "plugin {name}: version {}, schema {}, {} bytes, sha256 {}",
        row.get::<_, i32>(0),
        row.get::<_, String>(1),
        row.get::<_, i64>(2),
        row.get::<_, String>(3)
    );
    println!("\n-- WIT\n{}", row.get::<_, String>(4).trim_end());
    println!(
        "\n-- SQL functions\n{}",
        row.get::<_, Option<String>>(5).unwrap_or_default()
    );
    Ok(())
}

fn run(cli: &Cli) -> Result<(), Failure> {
    let config = config(cli)?;
    let mut client = config.connect(NoTls).map_err(|e| {
        let cause = std::error::Error::source(&e).map(|c| format!(": {c}"));
        Failure::Connect(format!("{e}{}", cause.unwrap_or_default()))
    })?;
    match &cli.command {
        cmd @ Command::Install { .. } => install(&mut client, cmd),
        Command::List => list(&mut client),
        Command::Show { name } => show(&mut client, name),
        Command::Uninstall { name } => {
            client.execute("SELECT wasm.uninstall($1)", &[name])?;
            eprintln!("uninstalled plugin {name}");
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}
