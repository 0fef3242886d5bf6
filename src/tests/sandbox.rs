//! `#[pg_test]`s of the sandbox and the limits.

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::helpers::*;

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
    fn guest_output_goes_to_the_log_not_the_client() {
        install("scalars", "scalars");
        assert_eq!(
            one::<String>("SELECT scalars.print('hello')::text").as_deref(),
            Some("")
        );
    }
}
