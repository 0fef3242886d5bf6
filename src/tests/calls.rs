//! `#[pg_test]`s of calls: values both ways, errors, wasm_transform and the validator.

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::helpers::*;

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

    /// A component whose export `f(s: string) -> {result_type}` returns the return area at 16
    /// (`ret`) pointing into `bytes` at 64, its strings in `encoding`.
    fn text_component(encoding: &str, result_type: &str, ret: &str, bytes: &str) -> String {
        format!(
            r#"(component
                 (core module $m
                   (memory (export "mem") 1)
                   (data (i32.const 16) "{ret}")
                   (data (i32.const 64) "{bytes}")
                   (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)
                   (func (export "f") (param i32 i32) (result i32) i32.const 16))
                 (core instance $i (instantiate $m))
                 (func (export "f") (param "s" string) (result {result_type})
                   (canon lift (core func $i "f") (memory (core memory $i "mem"))
                     (realloc (core func $i "realloc")) string-encoding={encoding})))"#
        )
    }

    #[pg_test]
    fn typed_text_results_are_lifted_straight_into_text_and_checked() {
        // ptr 64, len 6: "héllo" in UTF-8.
        let at64 = |len: u8| format!("\\40\\00\\00\\00\\{len:02x}\\00\\00\\00");
        install_wat(
            "txt_ok",
            &text_component("utf8", "string", &at64(6), "h\\c3\\a9llo"),
        );
        assert_eq!(
            one::<String>("SELECT txt_ok.f('x')").as_deref(),
            Some("héllo")
        );
        // The same through wasm_transform (a Rust string there, not a text).
        assert_eq!(
            one::<String>("SELECT wasm_transform('txt_ok', 'f', '[\"x\"]')::text").as_deref(),
            Some("\"héllo\"")
        );
        install_wat(
            "txt_bad",
            &text_component("utf8", "string", &at64(2), "\\ff\\fe"),
        );
        assert_error(
            "SELECT txt_bad.f('x')",
            "22021",
            "plugin \"txt_bad\" export \"f\" returned a string that is not valid UTF-8",
        );
        install_wat(
            "txt_nul",
            &text_component("utf8", "string", &at64(3), "a\\00b"),
        );
        assert_error("SELECT txt_nul.f('x')", "22021", "NUL character");
        // ptr 0xfffffff0: outside the guest's memory.
        install_wat(
            "txt_far",
            &text_component("utf8", "string", "\\f0\\ff\\ff\\ff\\04\\00\\00\\00", ""),
        );
        assert_error("SELECT txt_far.f('x')", "38000", "out of bounds");
        // UTF-16 guests: wasmtime transcodes; len counts code units.
        install_wat(
            "txt_u16",
            &text_component("utf16", "string", &at64(2), "h\\00i\\00"),
        );
        assert_eq!(
            one::<String>("SELECT txt_u16.f('x')").as_deref(),
            Some("hi")
        );
        // option<string>: discriminant at 16, the pointer pair at 20.
        let some = format!("\\01\\00\\00\\00{}", at64(5));
        install_wat(
            "txt_some",
            &text_component("utf8", "(option string)", &some, "found"),
        );
        assert_eq!(
            one::<String>("SELECT txt_some.f('x')").as_deref(),
            Some("found")
        );
        install_wat(
            "txt_none",
            &text_component("utf8", "(option string)", "\\00", ""),
        );
        assert_eq!(one::<String>("SELECT txt_none.f('x')"), None);
        assert_eq!(
            one::<bool>("SELECT txt_none.f('x') IS NULL AND txt_ok.f('y') = 'héllo'"),
            Some(true)
        );
    }

    #[pg_test]
    fn integral_jsonb_numbers_are_read_as_their_text_would_parse() {
        use crate::convert::jsonb::{integral_numeric, number, numeric_text};
        // (literal, read without text?)
        let cases = [
            ("0", true),
            ("7", true),
            ("-7", true),
            ("9999", true),
            ("10000", true),
            ("-10000", true),
            ("120000000", true),
            ("100000000000000000", true),
            ("9223372036854775807", true),
            ("-9223372036854775808", true),
            ("9223372036854775808", true),
            ("18446744073709551615", true),
            ("-9223372036854775809", false),
            ("18446744073709551616", false),
            ("100000000000000000000", false),
            ("1e3", true),
            ("1.0", false),
            ("1.5", false),
            ("-0.25", false),
            ("0.0001", false),
            ("1e-3", false),
            ("NaN", false),
            ("Infinity", false),
        ];
        for (literal, integral) in cases {
            let text = std::ffi::CString::new(literal).unwrap();
            // SAFETY: numeric_in takes a NUL-terminated string, a type OID and a typmod.
            let num: pg_sys::Numeric = unsafe {
                pgrx::fcinfo::direct_function_call_as_datum(
                    pg_sys::numeric_in,
                    &[
                        Some(pg_sys::Datum::from(text.as_ptr())),
                        Some(pg_sys::Datum::from(pg_sys::InvalidOid)),
                        Some(pg_sys::Datum::from(-1i32)),
                    ],
                )
            }
            .unwrap()
            .cast_mut_ptr();
            // SAFETY: a valid numeric made above.
            let direct = unsafe { integral_numeric(num) };
            assert_eq!(direct.is_some(), integral, "{literal}: read without text");
            // SAFETY: as above.
            let through_text = number(unsafe { numeric_text(num) }).ok();
            if let Some(n) = &direct {
                assert_eq!(
                    Some(serde_json::Value::Number(n.clone())),
                    through_text,
                    "{literal}"
                );
            }
            // The same numeric with a 1-byte varlena header, as short values are stored.
            // SAFETY: a valid 4-byte-header numeric: its size in the header's upper 30 bits.
            let bytes = unsafe {
                let size = (num as *const u32).read_unaligned() as usize >> 2;
                std::slice::from_raw_parts(num as *const u8, size).to_vec()
            };
            if bytes.len() - 3 < 127 {
                let mut short = vec![(((bytes.len() - 3) as u8) << 1) | 1];
                short.extend_from_slice(&bytes[4..]);
                // SAFETY: a valid numeric with a 1-byte header.
                let again = unsafe { integral_numeric(short.as_mut_ptr().cast()) };
                assert_eq!(again, direct, "{literal} with a 1-byte header");
            }
        }
        // Through wasm_transform: integers both ways (beyond 2^53 they come back as strings,
        // as before), and a fraction refused as before.
        install("scalars", "scalars");
        for (call, result) in [
            ("echo_s64', '[-9007199254740991]", "-9007199254740991"),
            ("echo_s64', '[-42]", "-42"),
            (
                "echo_s64', '[-9223372036854775808]",
                "\"-9223372036854775808\"",
            ),
            (
                "echo_u64', '[18446744073709551615]",
                "\"18446744073709551615\"",
            ),
            ("echo_s32', '{\"v\": 7}", "7"),
        ] {
            assert_eq!(
                one::<String>(&format!("SELECT wasm_transform('scalars', '{call}')::text"))
                    .as_deref(),
                Some(result),
                "{call}"
            );
        }
        assert_error(
            "SELECT wasm_transform('scalars', 'echo_s64', '[1.5]')",
            "22023",
            "expected an integer",
        );
    }

    #[pg_test]
    fn scalar_jsonb_built_here_is_byte_for_byte_postgres_own() {
        use crate::convert::jsonb::{raw_scalar, raw_scalar_through_postgres};
        use serde_json::json;
        let bytes = |jb: *mut pg_sys::Jsonb| {
            // SAFETY: a jsonb with a 4-byte header: its size in the upper 30 bits.
            unsafe {
                let size = (jb as *const u32).read_unaligned() as usize >> 2;
                std::slice::from_raw_parts(jb as *const u8, size).to_vec()
            }
        };
        let mut values = vec![
            json!(null),
            json!(true),
            json!(false),
            json!(""),
            json!("héllo, wörld"),
            json!(0),
            json!(i64::MIN),
            json!(i64::MAX),
        ];
        for i in [
            1i64,
            9,
            9999,
            10_000,
            10_001,
            100_000_000,
            120_000_000_000_000_000,
        ] {
            values.push(json!(i));
            values.push(json!(-i));
            values.push(json!(i - 1));
        }
        for v in &values {
            let here = raw_scalar(v).unwrap().expect("built here");
            // SAFETY: builds the same value through Postgres.
            let there = unsafe { raw_scalar_through_postgres(v) }.unwrap();
            assert_eq!(bytes(here), bytes(there), "{v}");
        }
        // Postgres builds the others; a NUL is refused either way.
        assert!(raw_scalar(&json!(1.5)).unwrap().is_none());
        assert!(raw_scalar(&json!(u64::MAX)).unwrap().is_none());
        assert!(raw_scalar(&json!("a\0b")).is_err());
        // And what is built here reads back as the same value, and compares equal in SQL.
        install("scalars", "scalars");
        assert_eq!(
            one::<bool>(
                "SELECT wasm_transform('scalars', 'echo_s64', '[-120000000000]') = '-120000000000'::jsonb
                    AND wasm_transform('scalars', 'echo_s64', '[0]') = '0'::jsonb
                    AND wasm_transform('scalars', 'echo_bool', '[true]') = 'true'::jsonb
                    AND wasm_transform('scalars', 'greet', '[\"ann\"]') = '\"hello, ann\"'::jsonb
                    AND jsonb_typeof(wasm_transform('scalars', 'echo_s64', '[10000]')) = 'number'
                    AND wasm_transform('scalars', 'echo_s64', '[10000]')::text = '10000'"
            ),
            Some(true)
        );
        // One integer or string argument goes to a typed export straight from the jsonb;
        // what that path does not take goes the general way, with the same results and errors.
        for (call, result) in [
            ("'echo_s32', '[-5]'", "-5"),
            ("'echo_s64', '[\"42\"]'", "42"),
            ("'echo_s64', '[4.0]'", "4"),
            ("'shout', '[\"grüße\"]'", "\"GRÜSSE\""),
            ("'parse_int', '[\" 42 \"]'", "42"),
            ("'parse_int', '{\"text\": \"7\"}'", "7"),
        ] {
            assert_eq!(
                one::<String>(&format!("SELECT wasm_transform('scalars', {call})::text"))
                    .as_deref(),
                Some(result),
                "{call}"
            );
        }
        // From a table, where a short jsonb is stored with a 1-byte header and read in place.
        Spi::run(
            "CREATE TEMP TABLE args AS SELECT i, jsonb_build_array(i * 10007) AS n,
                jsonb_build_array('é' || i) AS s, to_jsonb(i) AS top FROM generate_series(-3, 3) i",
        )
        .unwrap();
        assert_eq!(
            one::<String>(
                "SELECT string_agg(wasm_transform('scalars', 'echo_s64', n)::text || ' '
                    || wasm_transform('scalars', 'shout', s)::text, ',' ORDER BY i) FROM args"
            )
            .as_deref(),
            Some(
                "-30021 \"É-3\",-20014 \"É-2\",-10007 \"É-1\",0 \"É0\",10007 \"É1\",\
                 20014 \"É2\",30021 \"É3\""
            )
        );
        // Those stored values are read without the general path.
        Spi::connect(|client| {
            use crate::convert::jsonb::{SingleScalar, single_scalar};
            let row = client
                .select("SELECT n, s, top FROM args WHERE i = 1", None, &[])
                .unwrap()
                .first();
            let datum = |k| row.get_datum_by_ordinal(k).unwrap().unwrap();
            // SAFETY: non-null jsonb datums of the row, alive in the connection.
            unsafe {
                assert_eq!(
                    single_scalar(datum(1), false),
                    Some(SingleScalar::Int(10007))
                );
                assert_eq!(
                    single_scalar(datum(2), false),
                    Some(SingleScalar::Str("é1"))
                );
                assert_eq!(single_scalar(datum(3), true), Some(SingleScalar::Int(1)));
                // A top-level scalar is not an array's one element, nor the other way round.
                assert_eq!(single_scalar(datum(3), false), None);
                assert_eq!(single_scalar(datum(1), true), None);
            }
        });
        assert_error(
            "SELECT wasm_transform('scalars', 'echo_s32', '[2147483648]')",
            "22003",
            "out of range",
        );
        assert_error(
            "SELECT wasm_transform('scalars', 'echo_s64', '[[1]]')",
            "22023",
            "",
        );
        assert_error(
            "SELECT wasm_transform('scalars', 'shout', '[1]')",
            "22023",
            "",
        );
    }
}
