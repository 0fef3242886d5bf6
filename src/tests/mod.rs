//! `#[pg_test]`s: behaviour inside a real Postgres backend, with real components built from
//! `guests/` (see `scripts/build-guests.sh`). Each test runs in a transaction that is rolled
//! back, so installs do not leak between tests.

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::runtime::plugin::{compilations, sha256_hex};

    fn fixture(name: &str) -> Vec<u8> {
        let dir =
            option_env!("PG_COMPONENT_WASM_DIR").unwrap_or("/var/tmp/pg_component/components");
        let path = format!("{dir}/{name}.wasm");
        std::fs::read(&path)
            .unwrap_or_else(|e| panic!("fixture {path}: {e}; run scripts/build-guests.sh"))
    }

    fn install(name: &str, component: &str) -> i64 {
        Spi::get_one_with_args::<i64>(
            "SELECT count(*) FROM wasm.install($1, $2)",
            &[name.into(), fixture(component).into()],
        )
        .unwrap()
        .unwrap()
    }

    fn one<T: IntoDatum + FromDatum>(sql: &str) -> Option<T> {
        Spi::get_one::<T>(sql).unwrap()
    }

    /// Run `sql` in a subtransaction; "ok" or "SQLSTATE: message [detail]".
    fn outcome(sql: &str) -> String {
        Spi::run(
            "CREATE OR REPLACE FUNCTION pg_temp.outcome(q text) RETURNS text LANGUAGE plpgsql AS $f$
             DECLARE d text;
             BEGIN EXECUTE q; RETURN 'ok';
             EXCEPTION WHEN query_canceled OR others THEN
                 GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
                 RETURN SQLSTATE || ': ' || SQLERRM || ' [' || d || ']';
             END $f$",
        )
        .unwrap();
        Spi::get_one_with_args::<String>("SELECT pg_temp.outcome($1)", &[sql.into()])
            .unwrap()
            .unwrap()
    }

    fn assert_error(sql: &str, sqlstate: &str, fragment: &str) {
        let got = outcome(sql);
        assert!(
            got.starts_with(&format!("{sqlstate}: ")) && got.contains(fragment),
            "{sql}\n  expected {sqlstate} containing {fragment:?}\n  got {got}"
        );
    }

    /// Keep component bytes in the setting `pgc.bytes` for SQL run through `outcome`.
    fn stash_bytes(bytes: Vec<u8>) {
        Spi::run_with_args(
            "SELECT set_config('pgc.bytes', encode($1, 'base64'), true)",
            &[bytes.into()],
        )
        .unwrap();
    }

    /// Run `f` as `role` (SET LOCAL ROLE), then go back to the test's superuser.
    fn as_role<T>(role: &str, f: impl FnOnce() -> T) -> T {
        Spi::run(&format!("SET LOCAL ROLE {role}")).unwrap();
        let out = f();
        Spi::run("RESET ROLE").unwrap();
        out
    }

    fn plugin_count() -> i64 {
        one::<i64>("SELECT count(*) FROM wasm.plugins").unwrap()
    }

    #[pg_test]
    fn records_become_composite_types_that_uninstall_drops() {
        install("slugify", "slugify");
        assert_eq!(
            one::<String>(
                "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) \
                 FROM pg_attribute WHERE attrelid = 'slugify.post'::regclass AND attnum > 0"
            )
            .unwrap(),
            "title text, max_len bigint"
        );
        assert_eq!(
            one::<String>("SELECT (slugify.slug_post(ROW('Hello, big World!', 9))).slug").unwrap(),
            "hello-big"
        );
        assert_eq!(
            one::<bool>("SELECT (slugify.slug_post(ROW('Hello, World!', NULL))).truncated"),
            Some(false)
        );
        assert_error(
            "SELECT slugify.slug_post(ROW('!!', NULL))",
            "38000",
            "reason: the title has no letter or digit, title: !!",
        );
        Spi::run("SELECT wasm.uninstall('slugify')").unwrap();
        assert_eq!(
            one::<i64>(
                "SELECT count(*) FROM pg_type WHERE typname IN ('post', 'slugged', 'slug_error')"
            ),
            Some(0)
        );
    }

    #[pg_test]
    fn install_stores_bytes_and_creates_functions() {
        assert_eq!(install("slugify", "slugify"), 3);
        let bytes = fixture("slugify");
        assert_eq!(
            one::<String>("SELECT sha256 FROM wasm.plugins WHERE name = 'slugify'").unwrap(),
            sha256_hex(&bytes)
        );
        assert_eq!(
            one::<i64>("SELECT size FROM wasm.plugins WHERE name = 'slugify'").unwrap(),
            bytes.len() as i64
        );
        assert!(
            one::<String>("SELECT wit FROM wasm.plugins")
                .unwrap()
                .contains("export slugify-max: func(input: string, max-len: u32) -> string;")
        );
        assert_eq!(
            one::<String>("SELECT slugify.slugify('Hello, World!')").unwrap(),
            "hello-world"
        );
        assert_eq!(
            one::<String>("SELECT slugify.slugify_max('Hello, big World!', 9)").unwrap(),
            "hello-big"
        );
        assert_eq!(
            one::<String>(
                "SELECT pg_get_function_result('slugify.slugify_max(text, int8)'::regprocedure)"
            )
            .unwrap(),
            "text"
        );
        // STRICT: NULL in, NULL out, no call.
        assert_eq!(one::<String>("SELECT slugify.slugify(NULL)"), None);
    }

    #[pg_test]
    fn scalar_types_round_trip_at_their_limits() {
        install("scalars", "scalars");
        let cases = [
            ("scalars.echo_bool(true)::text", "true"),
            ("scalars.echo_s8((-128)::int2)::text", "-128"),
            ("scalars.echo_u8(255::int2)::text", "255"),
            ("scalars.echo_s16((-32768)::int2)::text", "-32768"),
            ("scalars.echo_u16(65535)::text", "65535"),
            ("scalars.echo_s32(-2147483648)::text", "-2147483648"),
            ("scalars.echo_u32(4294967295)::text", "4294967295"),
            (
                "scalars.echo_s64(-9223372036854775808)::text",
                "-9223372036854775808",
            ),
            (
                "scalars.echo_u64(18446744073709551615)::text",
                "18446744073709551615",
            ),
            ("scalars.echo_f32(1.5)::text", "1.5"),
            ("scalars.echo_f64('-Infinity')::text", "-Infinity"),
            ("scalars.echo_f64('NaN')::text", "NaN"),
            ("scalars.echo_char('é')", "é"),
            ("scalars.next_char('a')", "b"),
            ("scalars.shout('grüße')", "GRÜSSE"),
            ("scalars.reverse_bytes('\\x00ff10')::text", "\\x10ff00"),
            ("scalars.reverse_bytes('')::text", "\\x"),
            ("scalars.greet('ann')", "hello, ann"),
            ("scalars.parse_int(' 42 ')::text", "42"),
            ("scalars.word_count('a b  c')::text", "3"),
            ("scalars.text_utils_shout('hi')", "HI!"),
            ("scalars.add_u32(1, 2)::text", "3"),
        ];
        for (expr, want) in cases {
            assert_eq!(
                one::<String>(&format!("SELECT {expr}")).as_deref(),
                Some(want),
                "{expr}"
            );
        }
        assert_eq!(one::<String>("SELECT scalars.greet(NULL)"), None);
        assert_eq!(
            one::<String>("SELECT scalars.check_positive(5)::text").as_deref(),
            Some("")
        );
        // greet takes an option: the function is not STRICT, the guest sees none.
        assert_eq!(
            one::<bool>(
                "SELECT proisstrict FROM pg_proc WHERE oid = 'scalars.greet(text)'::regprocedure"
            ),
            Some(false)
        );
    }

    #[pg_test]
    fn out_of_range_arguments_and_results_are_errors() {
        install("scalars", "scalars");
        assert_error(
            "SELECT scalars.echo_u8(256::int2)",
            "22003",
            "256 is out of range for WIT type u8",
        );
        assert_error(
            "SELECT scalars.echo_s8(200::int2)",
            "22003",
            "out of range for WIT type s8",
        );
        assert_error(
            "SELECT scalars.echo_u16(-1)",
            "22003",
            "out of range for WIT type u16",
        );
        assert_error(
            "SELECT scalars.echo_u32(4294967296)",
            "22003",
            "out of range for WIT type u32",
        );
        assert_error(
            "SELECT scalars.echo_u64(-1)",
            "22003",
            "out of range for WIT type u64",
        );
        assert_error(
            "SELECT scalars.echo_u64(18446744073709551616)",
            "22003",
            "out of range",
        );
        assert_error("SELECT scalars.echo_u64(1.5)", "22003", "out of range");
        assert_error(
            "SELECT scalars.echo_char('ab')",
            "22023",
            "exactly one character",
        );
        assert_error("SELECT scalars.nul_string()", "22021", "NUL");
        assert_eq!(
            one::<String>("SELECT scalars.echo_u8(7::int2)::text").as_deref(),
            Some("7")
        );
    }

    #[pg_test]
    fn guest_errors_and_traps_are_errors_and_the_next_call_works() {
        install("scalars", "scalars");
        assert_error(
            "SELECT scalars.parse_int('x')",
            "38000",
            "plugin \"scalars\" export \"parse-int\" returned an error: cannot parse \"x\"",
        );
        assert_error(
            "SELECT scalars.check_positive(-1)",
            "38000",
            "-1 is not positive",
        );
        assert_error(
            "SELECT scalars.divide(1, 0)",
            "38000",
            "plugin \"scalars\" export \"divide\" trapped",
        );
        assert_error(
            "SELECT scalars.add_u32(4294967295, 1)",
            "38000",
            "unreachable",
        );
        assert_eq!(one::<i32>("SELECT scalars.divide(7, 2)"), Some(3));
    }

    #[pg_test]
    fn an_instance_lives_for_a_transaction_and_a_trap_discards_it() {
        install("scalars", "scalars");
        assert_eq!(
            one::<i64>("SELECT sum(scalars.count())::int8 FROM generate_series(1, 3)"),
            Some(6)
        );
        assert_eq!(one::<i64>("SELECT scalars.count()"), Some(4));
        assert_error("SELECT scalars.divide(1, 0)", "38000", "trapped");
        assert_eq!(one::<i64>("SELECT scalars.count()"), Some(1));
    }

    #[pg_test]
    fn an_instance_is_never_shared_between_roles() {
        install("scalars", "scalars");
        Spi::run("CREATE ROLE pgc_other; GRANT USAGE ON SCHEMA scalars TO pgc_other").unwrap();
        Spi::run(
            "CREATE FUNCTION public.count_as_owner() RETURNS bigint LANGUAGE sql SECURITY DEFINER
             AS 'SELECT scalars.count()'",
        )
        .unwrap();
        assert_eq!(one::<i64>("SELECT scalars.count()"), Some(1));
        assert_eq!(one::<i64>("SELECT scalars.count()"), Some(2));
        Spi::run("SET LOCAL ROLE pgc_other").unwrap();
        // A new role sees a fresh instance, not the superuser's state...
        assert_eq!(one::<i64>("SELECT scalars.count()"), Some(1));
        // ...and a SECURITY DEFINER function runs in its owner's instance.
        assert_eq!(one::<i64>("SELECT public.count_as_owner()"), Some(3));
        assert_eq!(one::<i64>("SELECT scalars.count()"), Some(2));
        Spi::run("RESET ROLE").unwrap();
        assert_eq!(one::<i64>("SELECT scalars.count()"), Some(4));
    }

    #[pg_test]
    fn warm_calls_and_reinstalls_of_the_same_bytes_compile_nothing() {
        install("scalars", "scalars");
        let after_install = compilations();
        for _ in 0..3 {
            assert_eq!(
                one::<String>("SELECT scalars.shout('a')").as_deref(),
                Some("A")
            );
        }
        Spi::run("SELECT wasm.uninstall('scalars')").unwrap();
        install("scalars", "scalars");
        assert_eq!(
            one::<String>("SELECT scalars.shout('b')").as_deref(),
            Some("B")
        );
        assert_eq!(compilations(), after_install);
    }

    #[pg_test]
    fn a_new_backend_loads_compiled_code_from_the_disk_cache() {
        install("scalars", "scalars");
        let sha = sha256_hex(&fixture("scalars"));
        let engine = &crate::runtime::runtime().unwrap().engine;
        let path = crate::runtime::cache::entry_path(engine, &sha).unwrap();
        assert!(path.exists(), "{}", path.display());
        let before = compilations();
        crate::runtime::plugin::forget_compiled();
        assert_eq!(
            one::<String>("SELECT scalars.shout('disk')").as_deref(),
            Some("DISK")
        );
        assert_eq!(compilations(), before, "loaded from disk, not compiled");
        // A damaged entry is discarded and recompiled from the table's bytes. (Replaced by a
        // rename, as the cache itself does: changing a mapped file in place would fault.)
        let garbage = path.with_extension("garbage");
        std::fs::write(&garbage, b"\x7fELF garbage").unwrap();
        std::fs::rename(&garbage, &path).unwrap();
        crate::runtime::plugin::forget_compiled();
        assert_eq!(
            one::<String>("SELECT scalars.shout('again')").as_deref(),
            Some("AGAIN")
        );
        assert_eq!(compilations(), before + 1);
        let sum_path = crate::runtime::cache::sum_path(&path);
        assert!(crate::runtime::cache::verify_sum(
            &std::fs::read(&sum_path).unwrap(),
            &std::fs::read(&path).unwrap(),
            &sha
        ));
        // So is an entry whose checksum file is missing.
        std::fs::remove_file(&sum_path).unwrap();
        crate::runtime::plugin::forget_compiled();
        assert_eq!(
            one::<String>("SELECT scalars.shout('third')").as_deref(),
            Some("THIRD")
        );
        assert_eq!(compilations(), before + 2);
        assert!(sum_path.exists());
    }

    #[pg_test]
    fn bad_components_are_refused_and_nothing_is_written() {
        let before = plugin_count();
        let bad = [
            (
                "SELECT * FROM wasm.install('bad', ''::bytea)",
                "22P03",
                "empty",
            ),
            (
                "SELECT * FROM wasm.install('bad', decode(md5('x'), 'hex'))",
                "22P03",
                "not a WebAssembly component",
            ),
        ];
        for (sql, state, frag) in bad {
            assert_error(sql, state, frag);
        }
        let core = fixture("core-module");
        let truncated = fixture("slugify")[..2000].to_vec();
        for (bytes, state, frag) in [
            (core, "22P03", "core WebAssembly module"),
            (truncated, "22P03", "invalid WebAssembly component"),
            (
                fixture("needs-import"),
                "0A000",
                "fixture:needs-import/secret-service",
            ),
            (
                fixture("unsupported"),
                "0A000",
                "export \"[constructor]counter\" of plugin \"bad\" uses WIT type resource",
            ),
        ] {
            stash_bytes(bytes);
            assert_error(
                "SELECT * FROM wasm.install('bad', decode(current_setting('pgc.bytes'), 'base64'))",
                state,
                frag,
            );
        }
        assert_eq!(plugin_count(), before);
        assert_eq!(
            one::<bool>("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'bad')"),
            Some(false)
        );
        assert_error(
            "SELECT * FROM wasm.install('Bad-Name', ''::bytea)",
            "22023",
            "invalid plugin name",
        );
    }

    #[pg_test]
    fn a_taken_name_needs_replace_and_replace_upgrades() {
        install("p", "slugify");
        stash_bytes(fixture("scalars"));
        assert_error(
            "SELECT * FROM wasm.install('p', decode(current_setting('pgc.bytes'), 'base64'))",
            "42710",
            "plugin \"p\" is already installed",
        );
        assert_eq!(
            one::<String>("SELECT p.slugify('A B')").as_deref(),
            Some("a-b")
        );
        Spi::run("SELECT * FROM wasm.install('p', decode(current_setting('pgc.bytes'), 'base64'), replace => true)").unwrap();
        assert_eq!(one::<String>("SELECT p.shout('x')").as_deref(), Some("X"));
        assert_eq!(
            one::<i64>(
                "SELECT count(*) FROM pg_proc WHERE proname = 'slugify' AND pronamespace = 'p'::regnamespace"
            ),
            Some(0)
        );
        assert_eq!(
            one::<i32>("SELECT version FROM wasm.plugins WHERE name = 'p'"),
            Some(2)
        );
    }

    #[pg_test]
    fn uninstall_removes_everything_and_bound_functions_then_fail_cleanly() {
        install("slugify", "slugify");
        Spi::run(
            "CREATE FUNCTION public.my_slug(text) RETURNS text LANGUAGE wasm AS 'slugify/slugify'",
        )
        .unwrap();
        assert_eq!(
            one::<String>("SELECT public.my_slug('A b')").as_deref(),
            Some("a-b")
        );
        Spi::run("SELECT wasm.uninstall('slugify')").unwrap();
        assert_eq!(plugin_count(), 0);
        assert_eq!(
            one::<bool>("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'slugify')"),
            Some(false)
        );
        assert_error(
            "SELECT public.my_slug('A b')",
            "42704",
            "plugin \"slugify\" is not installed",
        );
        assert_error("SELECT wasm.uninstall('slugify')", "42704", "not installed");
    }

    #[pg_test]
    fn the_validator_checks_hand_written_functions() {
        install("scalars", "scalars");
        Spi::run("CREATE FUNCTION public.up(text) RETURNS text LANGUAGE wasm AS 'scalars/shout'")
            .unwrap();
        assert_eq!(one::<String>("SELECT public.up('q')").as_deref(), Some("Q"));
        // SQL spelling of an export name works too.
        Spi::run(
            "CREATE FUNCTION public.wc(text) RETURNS int8 LANGUAGE wasm AS 'scalars/word_count'",
        )
        .unwrap();
        assert_eq!(one::<i64>("SELECT public.wc('x y')"), Some(2));
        assert_error(
            "CREATE FUNCTION public.bad1(int4) RETURNS text LANGUAGE wasm AS 'scalars/shout'",
            "42P13",
            "does not match plugin \"scalars\" export \"shout\"",
        );
        let got = outcome(
            "CREATE FUNCTION public.bad1(int4) RETURNS text LANGUAGE wasm AS 'scalars/shout'",
        );
        assert!(got.contains("42P13"), "{got}");
        // The detail names both types.
        assert!(
            got.contains("argument 1 (integer) does not fit parameter text"),
            "{got}"
        );
        assert_error(
            "CREATE FUNCTION public.bad2(text) RETURNS int4 LANGUAGE wasm AS 'scalars/shout'",
            "42P13",
            "the function returns integer but the export returns string",
        );
        assert_error(
            "CREATE FUNCTION public.bad3(text) RETURNS text LANGUAGE wasm AS 'shout'",
            "42P13",
            "'plugin/export'",
        );
        assert_error(
            "CREATE FUNCTION public.bad4(text) RETURNS text LANGUAGE wasm AS 'scalars/nope'",
            "42883",
            "has no export \"nope\"",
        );
        assert_error(
            "CREATE FUNCTION public.bad5(text) RETURNS text LANGUAGE wasm AS 'nope/x'",
            "42704",
            "not installed",
        );
        // pg_restore sets check_function_bodies = off: accept, check at call time.
        Spi::run("SET LOCAL check_function_bodies = off").unwrap();
        Spi::run(
            "CREATE FUNCTION public.later(int4) RETURNS text LANGUAGE wasm AS 'scalars/shout'",
        )
        .unwrap();
        Spi::run("SET LOCAL check_function_bodies = on").unwrap();
        assert_error(
            "SELECT public.later(1)",
            "42P13",
            "argument 1 (integer) does not fit parameter text: integer does not fit WIT type string, which needs text",
        );
    }

    #[pg_test]
    fn wasm_transform_calls_exports_with_json() {
        install("scalars", "scalars");
        install("slugify", "slugify");
        let cases = [
            ("wasm_transform('scalars', '\"abc\"')", "\"cba\""),
            ("wasm_transform('scalars', 'shout', '[\"abc\"]')", "\"ABC\""),
            (
                "wasm_transform('scalars', 'add-u32', '{\"a\": 1, \"b\": 2}')",
                "3",
            ),
            (
                "wasm_transform('scalars', 'add_u32', '[4000000000, 1]')",
                "4000000001",
            ),
            (
                "wasm_transform('scalars', 'echo-u64', '[\"18446744073709551615\"]')",
                "\"18446744073709551615\"",
            ),
            ("wasm_transform('scalars', 'echo-s64', '[42]')", "42"),
            ("wasm_transform('scalars', 'greet', '[null]')", "null"),
            ("wasm_transform('scalars', 'greet', '{}')", "null"),
            (
                "wasm_transform('scalars', 'reverse-bytes', '[\"\\\\x0102\"]')",
                "\"\\\\x0201\"",
            ),
            (
                "wasm_transform('scalars', 'text-utils#shout', '[\"a\"]')",
                "\"A!\"",
            ),
            (
                "wasm_transform('slugify', 'slugify-max', '{\"input\": \"A b c\", \"max-len\": 3}')",
                "\"a-b\"",
            ),
        ];
        for (expr, want) in cases {
            assert_eq!(
                one::<String>(&format!("SELECT ({expr})::text")).as_deref(),
                Some(want),
                "{expr}"
            );
        }
        assert_eq!(
            one::<String>("SELECT wasm_transform('scalars', 'noop', '[]')::text"),
            None
        );
        assert_error(
            "SELECT wasm_transform('slugify', '\"x\"')",
            "42883",
            "no export named \"transform\"",
        );
        assert_error(
            "SELECT wasm_transform('scalars', 'add-u32', '[1]')",
            "22023",
            "takes 2 arguments, 1 given",
        );
        assert_error(
            "SELECT wasm_transform('scalars', 'add-u32', '{\"a\": 1, \"c\": 2}')",
            "22023",
            "no parameter \"c\"",
        );
        assert_error(
            "SELECT wasm_transform('scalars', 'add-u32', '[1, \"x\"]')",
            "22P02",
            "argument b",
        );
        assert_error(
            "SELECT wasm_transform('scalars', 'add-u32', '[1, -1]')",
            "22003",
            "-1 is out of range for u32",
        );
        assert_error(
            "SELECT wasm_transform('scalars', 'shout', '[3]')",
            "22023",
            "expected string, found the number 3",
        );
        assert_error(
            "SELECT wasm_transform('scalars', 'parse-int', '[\"z\"]')",
            "38000",
            "returned an error",
        );
        assert_error(
            "SELECT wasm_transform('scalars', 'divide', '[1, 0]')",
            "38000",
            "trapped",
        );
        assert_error(
            "SELECT wasm_transform('scalars', 'nope', '[]')",
            "42883",
            "no export \"nope\"",
        );
        assert_error(
            "SELECT wasm_transform('nope', '1')",
            "42704",
            "plugin \"nope\" is not installed",
        );
    }

    #[pg_test]
    fn only_admins_manage_plugins() {
        Spi::run("CREATE ROLE pgc_nobody").unwrap();
        Spi::run("CREATE ROLE pgc_admin IN ROLE wasm_admin").unwrap();
        Spi::run("GRANT CREATE ON DATABASE pgrx_tests TO pgc_admin").unwrap();
        Spi::run("SET LOCAL ROLE pgc_nobody").unwrap();
        assert_error(
            "SELECT * FROM wasm.install('x', ''::bytea)",
            "42501",
            "permission denied",
        );
        assert_error("SELECT wasm.uninstall('x')", "42501", "permission denied");
        assert_error(
            "SELECT bytes FROM wasm.plugins",
            "42501",
            "permission denied",
        );
        assert_eq!(one::<i64>("SELECT count(*) FROM wasm.plugins"), Some(0));
        Spi::run("RESET ROLE").unwrap();
        assert_eq!(
            one::<bool>(
                "SELECT has_function_privilege('public', 'wasm.install(text, bytea, boolean, text, boolean, text)', 'EXECUTE')"
            ),
            Some(false)
        );
        assert_eq!(
            one::<bool>(
                "SELECT has_function_privilege('pgc_admin', 'wasm.install(text, bytea, boolean, text, boolean, text)', 'EXECUTE')"
            ),
            Some(true)
        );
        // EXECUTE alone is not enough: install checks membership in wasm_admin itself.
        Spi::run(
            "GRANT EXECUTE ON FUNCTION wasm.install(text, bytea, boolean, text, boolean, text), \
             wasm.uninstall(text) TO pgc_nobody",
        )
        .unwrap();
        stash_bytes(fixture("slugify"));
        Spi::run("SET LOCAL ROLE pgc_nobody").unwrap();
        assert_error(
            "SELECT * FROM wasm.install('x', decode(current_setting('pgc.bytes'), 'base64'))",
            "42501",
            "only superusers and members of wasm_admin manage plugins",
        );
        assert_error(
            "SELECT wasm.uninstall('x')",
            "42501",
            "only superusers and members of wasm_admin manage plugins",
        );
        // A member of wasm_admin that is not a superuser installs, calls and uninstalls.
        Spi::run("RESET ROLE").unwrap();
        Spi::run("SET LOCAL ROLE pgc_admin").unwrap();
        assert_eq!(
            one::<i64>(
                "SELECT count(*) FROM wasm.install('byadmin', decode(current_setting('pgc.bytes'), 'base64'))"
            ),
            Some(3)
        );
        assert_eq!(
            one::<String>("SELECT byadmin.slugify('By Admin')").as_deref(),
            Some("by-admin")
        );
        Spi::run("SELECT wasm.uninstall('byadmin')").unwrap();
        assert_eq!(one::<i64>("SELECT count(*) FROM wasm.plugins"), Some(0));
        Spi::run("RESET ROLE").unwrap();
    }

    #[pg_test]
    fn calling_through_wasm_transform_needs_usage_on_the_plugin_schema() {
        install("scalars", "scalars");
        Spi::run("CREATE ROLE pgc_reader").unwrap();
        let usage = "USAGE on schema \"scalars\"";
        as_role("pgc_reader", || {
            assert_error("SELECT wasm_transform('scalars', '\"a\"')", "42501", usage)
        });
        Spi::run("GRANT USAGE ON SCHEMA scalars TO pgc_reader").unwrap();
        Spi::run(
            "CREATE FUNCTION public.loud_r(text) RETURNS text LANGUAGE wasm AS 'scalars/shout'",
        )
        .unwrap();
        as_role("pgc_reader", || {
            assert_eq!(
                one::<String>("SELECT wasm_transform('scalars', '\"ab\"')::text").as_deref(),
                Some("\"ba\"")
            );
            assert_eq!(
                one::<String>("SELECT scalars.shout('a')").as_deref(),
                Some("A")
            );
            assert_eq!(
                one::<String>("SELECT public.loud_r('b')").as_deref(),
                Some("B")
            );
        });
        // The answer is remembered per role, but a REVOKE ends it at once: through
        // wasm_transform and through a hand-written function outside the plugin's schema.
        Spi::run("REVOKE USAGE ON SCHEMA scalars FROM pgc_reader").unwrap();
        as_role("pgc_reader", || {
            assert_error("SELECT wasm_transform('scalars', '\"ab\"')", "42501", usage);
            assert_error("SELECT public.loud_r('a')", "42501", usage);
        });
        // So does losing membership in wasm_admin, which grants every plugin.
        Spi::run("GRANT wasm_admin TO pgc_reader").unwrap();
        as_role("pgc_reader", || {
            assert_eq!(
                one::<String>("SELECT wasm_transform('scalars', '\"cd\"')::text").as_deref(),
                Some("\"dc\"")
            );
        });
        Spi::run("REVOKE wasm_admin FROM pgc_reader").unwrap();
        as_role("pgc_reader", || {
            assert_error("SELECT wasm_transform('scalars', '\"ef\"')", "42501", usage)
        });
    }

    #[pg_test]
    fn max_call_time_stops_a_spinning_guest() {
        install("scalars", "scalars");
        Spi::run("SET LOCAL wasm.max_call_time = '100ms'").unwrap();
        let start = std::time::Instant::now();
        assert_error(
            "SELECT scalars.spin(0)",
            "57014",
            "stopped: it ran longer than wasm.max_call_time (100 ms)",
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(
            one::<String>("SELECT scalars.shout('ok')").as_deref(),
            Some("OK")
        );
    }

    #[pg_test]
    fn max_memory_caps_linear_memory() {
        install("scalars", "scalars");
        assert_eq!(one::<i64>("SELECT scalars.grow(8)"), Some(8));
        Spi::run("SET LOCAL wasm.max_memory = '32MB'").unwrap();
        assert_error(
            "SELECT scalars.grow(64)",
            "54000",
            "would exceed wasm.max_memory (32 MB)",
        );
        assert_eq!(one::<i64>("SELECT scalars.grow(4)"), Some(4));
    }

    #[pg_test]
    fn guests_can_log_through_the_host_interface() {
        install("scalars", "scalars");
        assert!(
            one::<String>("SELECT wit FROM wasm.plugins")
                .unwrap()
                .contains("import pg-component:plugin/log@0.1.0;")
        );
        assert_eq!(one::<i64>("SELECT scalars.log_levels('hi')"), Some(4));
        // Logging from a guest turns into warnings that an error handler can see.
        Spi::run("SET LOCAL client_min_messages = warning").unwrap();
        assert_eq!(one::<i64>("SELECT scalars.log_levels('again')"), Some(4));
    }

    #[pg_test]
    fn the_sandbox_denies_files_env_args_network_and_exit() {
        install("hostile", "hostile");
        assert_error(
            "SELECT hostile.read_file('/etc/passwd')",
            "38000",
            "No such file or directory",
        );
        assert_error(
            "SELECT hostile.read_file('PG_VERSION')",
            "38000",
            "No such file or directory",
        );
        assert_error(
            "SELECT hostile.write_file('/tmp/pg_component_owned')",
            "38000",
            "returned an error",
        );
        assert!(!std::path::Path::new("/tmp/pg_component_owned").exists());
        assert_eq!(one::<i64>("SELECT hostile.env_count()"), Some(0));
        assert_eq!(one::<String>("SELECT hostile.get_env('PATH')"), None);
        assert_eq!(one::<i64>("SELECT hostile.arg_count()"), Some(0));
        assert_error(
            "SELECT hostile.connect('127.0.0.1:5432')",
            "38000",
            "Permission denied",
        );
        assert_error(
            "SELECT hostile.udp_send('127.0.0.1:9')",
            "38000",
            "Permission denied",
        );
        assert_error(
            "SELECT hostile.resolve('localhost')",
            "38000",
            "returned an error",
        );
        assert_error(
            "SELECT hostile.quit(3)",
            "38000",
            "called exit(1): a plugin cannot end the process",
        );
        assert_error("SELECT hostile.quit(0)", "38000", "called exit(0)");
        assert_eq!(one::<bool>("SELECT hostile.now_ms() > 0"), Some(true));
        assert_eq!(one::<i32>("SELECT 1"), Some(1));
    }

    #[pg_test]
    fn traps_name_plugin_export_and_cause() {
        install("hostile", "hostile");
        assert_error(
            "SELECT hostile.div(1, 0)",
            "38000",
            "plugin \"hostile\" export \"div\" trapped: wasm trap: integer divide by zero",
        );
        assert_error(
            "SELECT hostile.peek(4294967295)",
            "38000",
            "out of bounds memory access",
        );
        assert_error("SELECT hostile.recurse(100000000)", "38000", "trapped");
        assert_error("SELECT hostile.panic('boom')", "38000", "unreachable");
        // The guest's panic message is in the DETAIL.
        assert!(outcome("SELECT hostile.panic('boom')").contains("boom"));
        assert_eq!(one::<i64>("SELECT hostile.recurse(1000)::int8"), Some(1000));
        assert_eq!(one::<i32>("SELECT hostile.div(7, 2)"), Some(3));
    }

    #[pg_test]
    fn deep_sql_recursion_around_a_guest_is_still_an_error() {
        install("hostile", "hostile");
        Spi::run(
            "CREATE FUNCTION pg_temp.nest(n int) RETURNS bigint LANGUAGE plpgsql AS $f$
             BEGIN IF n = 0 THEN RETURN hostile.recurse(100000000); END IF; RETURN pg_temp.nest(n - 1); END $f$",
        )
        .unwrap();
        assert_error("SELECT pg_temp.nest(200)", "38000", "trapped");
        assert_eq!(one::<i32>("SELECT 1"), Some(1));
    }

    #[pg_test]
    fn deterministic_plugins_refuse_clocks_and_may_be_immutable() {
        stash_bytes(fixture("hostile"));
        assert_error(
            "SELECT * FROM wasm.install('h', decode(current_setting('pgc.bytes'), 'base64'), deterministic => true)",
            "0A000",
            "may not import the wall clock or random numbers (its monotonic clock is frozen), but this component imports wasi:clocks/wall-clock",
        );
        Spi::run_with_args(
            "SELECT * FROM wasm.install('slug', $1, deterministic => true)",
            &[fixture("slugify").into()],
        )
        .unwrap();
        assert_eq!(
            one::<String>("SELECT provolatile::text || proparallel::text FROM pg_proc WHERE oid = 'slug.slugify(text)'::regprocedure").as_deref(),
            Some("is")
        );
        // An expression index and a generated column need IMMUTABLE functions.
        Spi::run("CREATE TABLE public.posts (title text, slug text GENERATED ALWAYS AS (slug.slugify(title)) STORED)").unwrap();
        Spi::run("CREATE INDEX ON public.posts (slug.slugify_max(title, 10))").unwrap();
        Spi::run("INSERT INTO public.posts (title) VALUES ('Hello World'), ('Second Post')")
            .unwrap();
        assert_eq!(
            one::<String>("SELECT string_agg(slug, ',' ORDER BY slug) FROM public.posts")
                .as_deref(),
            Some("hello-world,second-post")
        );
        // A non-deterministic plugin's functions may not claim IMMUTABLE or PARALLEL SAFE.
        install("scalars", "scalars");
        assert_error(
            "CREATE FUNCTION public.imm(text) RETURNS text LANGUAGE wasm IMMUTABLE AS 'scalars/shout'",
            "42P13",
            "not deterministic",
        );
        assert_error(
            "CREATE FUNCTION public.par(text) RETURNS text LANGUAGE wasm PARALLEL SAFE AS 'scalars/shout'",
            "42P13",
            "not deterministic",
        );
    }

    #[pg_test]
    fn an_expected_sha256_must_match() {
        let bytes = fixture("slugify");
        let good = sha256_hex(&bytes);
        Spi::run_with_args(
            "SELECT * FROM wasm.install('a', $1, sha256 => $2)",
            &[bytes.clone().into(), good.as_str().into()],
        )
        .unwrap();
        stash_bytes(bytes);
        assert_error(
            &format!(
                "SELECT * FROM wasm.install('b', decode(current_setting('pgc.bytes'), 'base64'), sha256 => '{}')",
                "0".repeat(64)
            ),
            "22023",
            &format!("the component's sha256 is {good}, not the expected"),
        );
        assert_eq!(plugin_count(), 1);
    }

    #[pg_test]
    fn binding_an_export_needs_usage_on_the_plugin() {
        install("scalars", "scalars");
        Spi::run("CREATE ROLE pgc_binder").unwrap();
        Spi::run("GRANT CREATE ON SCHEMA public TO pgc_binder").unwrap();
        as_role("pgc_binder", || {
            assert_error(
                "CREATE FUNCTION public.steal(text) RETURNS text LANGUAGE wasm AS 'scalars/shout'",
                "42501",
                "USAGE on schema \"scalars\" is required",
            )
        });
        // A function bound by an admin is checked again at call time, per role.
        Spi::run(
            "CREATE FUNCTION public.shared(text) RETURNS text LANGUAGE wasm AS 'scalars/shout'",
        )
        .unwrap();
        assert_eq!(
            one::<String>("SELECT public.shared('a')").as_deref(),
            Some("A")
        );
        as_role("pgc_binder", || {
            assert_error(
                "SELECT public.shared('a')",
                "42501",
                "USAGE on schema \"scalars\"",
            )
        });
        Spi::run("GRANT USAGE ON SCHEMA scalars TO pgc_binder").unwrap();
        as_role("pgc_binder", || {
            assert_eq!(
                one::<String>("SELECT public.shared('b')").as_deref(),
                Some("B")
            );
            Spi::run(
                "CREATE FUNCTION public.mine(text) RETURNS text LANGUAGE wasm AS 'scalars/shout'",
            )
            .unwrap();
        });
    }

    #[pg_test]
    fn a_hostile_search_path_changes_nothing() {
        install("slugify", "slugify");
        Spi::run(
            "CREATE SCHEMA evil;
             CREATE FUNCTION evil.split_part(text, text, int) RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$;
             CREATE FUNCTION evil.wasm_transform(text, jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT '\"evil\"'::jsonb $$;
             CREATE TABLE evil.plugins (name text);
             SET LOCAL search_path = evil, public",
        )
        .unwrap();
        assert_eq!(
            one::<String>("SELECT slugify.slugify('A B')").as_deref(),
            Some("a-b")
        );
        assert_eq!(
            one::<String>("SELECT wasm_transform('slugify', 'slugify', '[\"C D\"]')::text")
                .as_deref(),
            Some("\"c-d\"")
        );
        Spi::run("SELECT wasm.uninstall('slugify')").unwrap();
        assert_eq!(plugin_count(), 0);
    }

    /// Install a component written in WAT text.
    fn install_wat(name: &str, text: &str) {
        let bytes = wat::parse_str(text).expect("fixture WAT parses");
        Spi::run_with_args(
            "SELECT count(*) FROM wasm.install($1, $2)",
            &[name.into(), bytes.into()],
        )
        .unwrap();
    }

    /// A component whose core module runs `start_body` as its start function and exports
    /// `f: func() -> u32`.
    fn start_function_component(start_body: &str) -> String {
        format!(
            r#"(component
                 (core module $m
                   (func $start {start_body})
                   (func (export "f") (result i32) i32.const 7)
                   (start $start))
                 (core instance $i (instantiate $m))
                 (func (export "f") (result u32) (canon lift (core func $i "f"))))"#
        )
    }

    /// A component that imports `wasi:clocks/monotonic-clock` and exports `now: func() -> u64`.
    const MONOTONIC_NOW: &str = r#"(component
        (import "wasi:clocks/monotonic-clock@0.2.0" (instance $clock
            (export "now" (func (result u64)))))
        (core func $now (canon lower (func $clock "now")))
        (core module $m
            (import "clock" "now" (func $now (result i64)))
            (func (export "now") (result i64) call $now))
        (core instance $i (instantiate $m (with "clock" (instance (export "now" (func $now))))))
        (func (export "now") (result u64) (canon lift (core func $i "now"))))"#;

    #[pg_test]
    fn a_deterministic_plugin_may_import_the_monotonic_clock_and_sees_it_frozen() {
        // The same bytes twice: one deterministic, one not. They share compiled code, never
        // an instance.
        let bytes = wat::parse_str(MONOTONIC_NOW).unwrap();
        Spi::run_with_args(
            "SELECT count(*) FROM wasm.install('frozen', $1, deterministic => true)",
            &[bytes.clone().into()],
        )
        .unwrap();
        install_wat("ticking", MONOTONIC_NOW);
        assert_eq!(
            one::<String>("SELECT frozen.now()::text || ',' || frozen.now()::text").as_deref(),
            Some("0,0")
        );
        assert_eq!(one::<bool>("SELECT ticking.now() > 0"), Some(true));
        assert_eq!(
            one::<String>("SELECT frozen.now()::text").as_deref(),
            Some("0")
        );
        assert_eq!(
            one::<String>(
                "SELECT provolatile::text FROM pg_proc WHERE oid = 'frozen.now()'::regprocedure"
            )
            .as_deref(),
            Some("i")
        );
    }

    #[pg_test]
    fn a_start_function_that_loops_is_interruptible() {
        install_wat("spinner", &start_function_component("(loop $l (br $l))"));
        Spi::run("SET LOCAL wasm.max_call_time = '100ms'").unwrap();
        assert_error(
            "SELECT spinner.f()",
            "57014",
            "was stopped: it ran longer than wasm.max_call_time",
        );
        install_wat("quick", &start_function_component("nop"));
        assert_eq!(one::<i64>("SELECT quick.f()"), Some(7));
    }

    #[pg_test]
    fn integer_overflow_in_division_traps_cleanly() {
        install_wat(
            "raw",
            r#"(component
                 (core module $m
                   (func (export "div") (param i32 i32) (result i32)
                     local.get 0 local.get 1 i32.div_s))
                 (core instance $i (instantiate $m))
                 (func (export "div") (param "a" s32) (param "b" s32) (result s32)
                   (canon lift (core func $i "div"))))"#,
        );
        assert_error(
            "SELECT raw.div(-2147483648, -1)",
            "38000",
            "integer overflow",
        );
        assert_error("SELECT raw.div(1, 0)", "38000", "integer divide by zero");
        assert_eq!(one::<i32>("SELECT raw.div(-9, 3)"), Some(-3));
        // Its only export takes two parameters: the one-input form of wasm_transform says so.
        assert_error(
            "SELECT wasm_transform('raw', '5')",
            "22023",
            "takes 2 parameters, not one: use wasm_transform(plugin, export, args)",
        );
        assert_eq!(
            one::<String>("SELECT wasm_transform('raw', 'div', '[-9, 3]')::text").as_deref(),
            Some("-3")
        );
    }

    #[pg_test]
    fn a_sweep_removes_unused_entries_and_a_mapped_entry_keeps_working() {
        use crate::runtime::cache;
        // Components of this test alone: other tests run at the same time in other backends
        // and use the shared cache.
        let keep_bytes =
            wat::parse_str(start_function_component("(drop (i32.const 1201))")).unwrap();
        let gone_bytes =
            wat::parse_str(start_function_component("(drop (i32.const 1202))")).unwrap();
        install_wat("keep", &start_function_component("(drop (i32.const 1201))"));
        install_wat("gone", &start_function_component("(drop (i32.const 1202))"));
        let engine = &crate::runtime::runtime().unwrap().engine;
        let keep_sha = sha256_hex(&keep_bytes);
        let keep = cache::entry_path(engine, &keep_sha).unwrap();
        let gone = cache::entry_path(engine, &sha256_hex(&gone_bytes)).unwrap();
        assert!(keep.exists() && gone.exists());

        // The sweep, on a copy of the layout: this database's entries, another engine
        // configuration's entry, a stray temporary file, the directory of a database that does
        // not exist, and the old layout's directory.
        let data = std::env::temp_dir().join(format!("pgc-sweep-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        let ours = data.join(
            gone.parent()
                .unwrap()
                .strip_prefix(cache::data_dir().unwrap())
                .unwrap(),
        );
        std::fs::create_dir_all(&ours).unwrap();
        for path in [&keep, &gone] {
            for file in [path.clone(), cache::sum_path(path)] {
                std::fs::copy(&file, ours.join(file.file_name().unwrap())).unwrap();
            }
        }
        let foreign = ours.join("00000000000000000000000000000000-ffffffffffffffff.cwasm");
        let temporary = ours.join("00000000000000000000000000000000-ffffffffffffffff.tmp1");
        std::fs::write(&foreign, b"x").unwrap();
        std::fs::write(&temporary, b"x").unwrap();
        let dropped = ours.parent().unwrap().join("4294967000");
        std::fs::create_dir_all(&dropped).unwrap();
        std::fs::write(dropped.join("entry.cwasm"), b"x").unwrap();
        let legacy = data.join("pg_component_cache");
        std::fs::create_dir_all(&legacy).unwrap();
        let in_ours = |p: &std::path::Path| ours.join(p.file_name().unwrap()).exists();
        let live: std::collections::HashSet<String> = [keep_sha].into_iter().collect();

        // Within the grace period nothing of this database goes: an install not yet committed
        // may own it.
        cache::sweep_data_dir(&data, engine, &live, cache::SWEEP_GRACE);
        assert!(in_ours(&gone) && foreign.exists() && temporary.exists());
        assert!(!dropped.exists() && !legacy.exists());
        let removed = cache::sweep_data_dir(&data, engine, &live, std::time::Duration::ZERO);
        assert_eq!(
            removed, 4,
            "gone's .cwasm and .sum, the foreign entry, the temporary"
        );
        assert!(!in_ours(&gone) && !in_ours(&cache::sum_path(&gone)));
        assert!(!foreign.exists() && !temporary.exists());
        assert!(in_ours(&keep) && in_ours(&cache::sum_path(&keep)));
        std::fs::remove_dir_all(&data).unwrap();

        // Removal while mapped: this backend mapped gone's code before its entry went, and it
        // keeps running it, in a new instance too, without compiling.
        assert_eq!(one::<i64>("SELECT gone.f()"), Some(7));
        std::fs::remove_file(&gone).unwrap();
        std::fs::remove_file(cache::sum_path(&gone)).unwrap();
        let before = compilations();
        crate::runtime::call::discard_instances();
        assert_eq!(one::<i64>("SELECT gone.f()"), Some(7));
        assert_eq!(compilations(), before);
        // A backend that had not mapped it compiles it again, and the entry is back.
        crate::runtime::plugin::forget_compiled();
        assert_eq!(one::<i64>("SELECT gone.f()"), Some(7));
        assert_eq!(compilations(), before + 1);
        assert!(gone.exists());
    }

    #[pg_test]
    fn stored_bytes_that_do_not_match_their_sha256_are_refused() {
        install("scalars", "scalars");
        // Damage the stored bytes behind install's back, and make this backend compile them
        // again (no compiled code in memory or on disk).
        Spi::run("UPDATE wasm.plugins SET bytes = bytes || '\\x00'::bytea WHERE name = 'scalars'")
            .unwrap();
        let sha = sha256_hex(&fixture("scalars"));
        let engine = &crate::runtime::runtime().unwrap().engine;
        let path = crate::runtime::cache::entry_path(engine, &sha).unwrap();
        std::fs::remove_file(crate::runtime::cache::sum_path(&path)).unwrap();
        crate::runtime::plugin::forget_compiled();
        assert_error(
            "SELECT scalars.shout('x')",
            "XX001",
            "component bytes do not match their recorded sha256",
        );
        assert_eq!(one::<i32>("SELECT 1"), Some(1));
    }

    /// A component exporting `bad: func() -> T` whose core function returns the flat value
    /// `value` (for strings: a pointer to (ptr, len) in its memory, which holds `data`).
    fn bad_value_component(result_type: &str, core_result: &str, body: &str, data: &str) -> String {
        format!(
            r#"(component
                 (core module $m
                   (memory (export "mem") 1)
                   (data (i32.const 16) "{data}")
                   (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 256)
                   (func (export "bad") (result {core_result}) {body}))
                 (core instance $i (instantiate $m))
                 (func (export "bad") (result {result_type})
                   (canon lift (core func $i "bad") (memory (core memory $i "mem")) (realloc (core func $i "realloc")))))"#
        )
    }

    #[pg_test]
    fn values_a_guest_cannot_legally_return_are_errors() {
        // A string that is not UTF-8: ptr 32, len 2 at offset 16; bytes ff fe at 32.
        install_wat(
            "badstr",
            &bad_value_component(
                "string",
                "i32",
                "i32.const 16",
                "\\20\\00\\00\\00\\02\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\ff\\fe",
            ),
        );
        assert_error(
            "SELECT badstr.bad()",
            "22021",
            "plugin \"badstr\" export \"bad\" returned a string that is not valid UTF-8",
        );
        // A char beyond U+10FFFF, and a surrogate.
        install_wat(
            "badchar",
            &bad_value_component("char", "i32", "i32.const 0x110000", ""),
        );
        assert_error(
            "SELECT badchar.bad()",
            "22021",
            "returned a char that is not a Unicode scalar value",
        );
        install_wat(
            "surrogate",
            &bad_value_component("char", "i32", "i32.const 0xD800", ""),
        );
        assert_error(
            "SELECT surrogate.bad()",
            "22021",
            "not a Unicode scalar value",
        );
        assert_eq!(one::<i32>("SELECT 1"), Some(1));
    }

    /// The backend's resident memory in KiB.
    fn backend_rss_kib() -> i64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    #[pg_test]
    fn backend_memory_stays_within_the_cap_plus_a_margin() {
        install("scalars", "scalars");
        assert_eq!(
            one::<String>("SELECT scalars.shout('warm')").as_deref(),
            Some("WARM")
        );
        let before = backend_rss_kib();
        Spi::run("SET LOCAL wasm.max_memory = '64MB'").unwrap();
        assert_eq!(one::<i64>("SELECT scalars.grow(40)"), Some(40));
        assert_error(
            "SELECT scalars.grow(200)",
            "54000",
            "wasm.max_memory (64 MB)",
        );
        assert_error(
            "SELECT scalars.grow(200)",
            "54000",
            "wasm.max_memory (64 MB)",
        );
        let grown = backend_rss_kib() - before;
        assert!(
            grown < (64 + 32) * 1024,
            "RSS grew by {grown} KiB with a 64 MB cap"
        );
    }

    #[pg_test]
    fn compile_bombs_are_refused_quickly_or_compiled_safely() {
        // More locals than any engine accepts: refused by validation, before compiling.
        let locals = "(local i32) ".repeat(60_000);
        let text = format!(
            r#"(component
                 (core module $m (func (export "f") (result i32) {locals} i32.const 0))
                 (core instance $i (instantiate $m))
                 (func (export "f") (result u32) (canon lift (core func $i "f"))))"#
        );
        let bytes = wat::parse_str(&text).unwrap();
        stash_bytes(bytes);
        let start = std::time::Instant::now();
        assert_error(
            "SELECT * FROM wasm.install('bomb', decode(current_setting('pgc.bytes'), 'base64'))",
            "22P03",
            "too many locals",
        );
        // Bounded: validation fails fast (a generous bound, not a speed assertion).
        assert!(start.elapsed() < std::time::Duration::from_secs(30));
        assert_eq!(plugin_count(), 0);
        // Blocks nested 100,000 deep.
        let depth = 100_000;
        let text = format!(
            r#"(component
                 (core module $m (func (export "f") (result i32) {}{} i32.const 0))
                 (core instance $i (instantiate $m))
                 (func (export "f") (result u32) (canon lift (core func $i "f"))))"#,
            "block ".repeat(depth),
            "end ".repeat(depth)
        );
        // Valid, so it installs: the point is that compiling it neither overflows the
        // backend's stack nor takes it down, and the function runs.
        stash_bytes(wat::parse_str(&text).unwrap());
        let got = outcome(
            "SELECT * FROM wasm.install('bomb', decode(current_setting('pgc.bytes'), 'base64'))",
        );
        assert_eq!(got, "ok");
        assert_eq!(one::<i64>("SELECT bomb.f()"), Some(0));
        assert_eq!(one::<i32>("SELECT 1"), Some(1));
    }

    #[pg_test]
    fn guest_output_goes_to_the_log_not_the_client() {
        install("scalars", "scalars");
        assert_eq!(
            one::<String>("SELECT scalars.print('hello')::text").as_deref(),
            Some("")
        );
    }
}
