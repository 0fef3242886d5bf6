//! `#[pg_test]`s of install, replace and uninstall.

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::runtime::plugin::sha256_hex;
    use crate::tests::helpers::*;

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
                "export \"open\" of plugin \"bad\" uses WIT type resource",
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
    fn stored_bytes_that_do_not_match_their_sha256_are_refused() {
        // A component of this test alone: other tests run at the same time in other backends
        // and use the shared cache, whose entry for it this test damages.
        let text = start_function_component("(drop (i32.const 1302))");
        install_wat("damaged", &text);
        // Damage the stored bytes behind install's back, and make this backend compile them
        // again (no compiled code in memory or on disk).
        Spi::run("UPDATE wasm.plugins SET bytes = bytes || '\\x00'::bytea WHERE name = 'damaged'")
            .unwrap();
        let sha = sha256_hex(&wat::parse_str(&text).unwrap());
        let engine = &crate::runtime::runtime().unwrap().engine;
        let path = crate::runtime::cache::entry_path(engine, &sha).unwrap();
        std::fs::remove_file(crate::runtime::cache::sum_path(&path)).unwrap();
        crate::runtime::plugin::forget_compiled();
        assert_error(
            "SELECT damaged.f()",
            "XX001",
            "component bytes do not match their recorded sha256",
        );
        assert_eq!(one::<i32>("SELECT 1"), Some(1));
    }
}
