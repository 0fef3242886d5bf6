//! `#[pg_test]`s of instances, compiled-code caches and resource use.

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::runtime::plugin::{compilations, sha256_hex};
    use crate::tests::helpers::*;

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
        // A component of this test alone: other tests run at the same time in other backends
        // and use the shared cache (one installing the same component could rewrite the
        // entry this test damages).
        let text = start_function_component("(drop (i32.const 1301))");
        install_wat("diskcache", &text);
        let sha = sha256_hex(&wat::parse_str(&text).unwrap());
        let engine = &crate::runtime::runtime().unwrap().engine;
        let path = crate::runtime::cache::entry_path(engine, &sha).unwrap();
        assert!(path.exists(), "{}", path.display());
        let before = compilations();
        crate::runtime::plugin::forget_compiled();
        assert_eq!(one::<i64>("SELECT diskcache.f()"), Some(7));
        assert_eq!(compilations(), before, "loaded from disk, not compiled");
        // A damaged entry is discarded and recompiled from the table's bytes. (Replaced by a
        // rename, as the cache itself does: changing a mapped file in place would fault.)
        let garbage = path.with_extension("garbage");
        std::fs::write(&garbage, b"\x7fELF garbage").unwrap();
        std::fs::rename(&garbage, &path).unwrap();
        crate::runtime::plugin::forget_compiled();
        assert_eq!(one::<i64>("SELECT diskcache.f()"), Some(7));
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
        assert_eq!(one::<i64>("SELECT diskcache.f()"), Some(7));
        assert_eq!(compilations(), before + 2);
        assert!(sum_path.exists());
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
}
