//! `#[pg_test]`s of who may manage, call and bind plugins.

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::helpers::*;

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
                "SELECT has_function_privilege('public', 'wasm.install(text, bytea, boolean, text, boolean, text, text[], double precision, double precision, jsonb)', 'EXECUTE')"
            ),
            Some(false)
        );
        assert_eq!(
            one::<bool>(
                "SELECT has_function_privilege('pgc_admin', 'wasm.install(text, bytea, boolean, text, boolean, text, text[], double precision, double precision, jsonb)', 'EXECUTE')"
            ),
            Some(true)
        );
        // EXECUTE alone is not enough: install checks membership in wasm_admin itself.
        Spi::run(
            "GRANT EXECUTE ON FUNCTION wasm.install(text, bytea, boolean, text, boolean, text, text[], double precision, double precision, jsonb), \
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
}
