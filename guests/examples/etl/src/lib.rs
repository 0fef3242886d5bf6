//! Example plugin: everyday ETL jobs (numbers out of text, e-mail normalization, CSV parsing,
//! hashing), benchmarked against SQL, PL/pgSQL and PL/Python in bench/.

use std::sync::OnceLock;

use regex::Regex;
use sha2::{Digest, Sha256};

wit_bindgen::generate!({ world: "etl", path: "wit" });

struct Etl;

fn numbers() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"-?[0-9]+").expect("valid regex"))
}

fn email() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$").expect("valid regex")
    })
}

impl Guest for Etl {
    fn extract_numbers(text: String) -> Vec<i64> {
        numbers()
            .find_iter(&text)
            .filter_map(|m| m.as_str().parse().ok())
            .collect()
    }

    fn normalize_email(email: String) -> Option<String> {
        let e = email.trim().to_lowercase();
        self::email().is_match(&e).then_some(e)
    }

    fn parse_csv(blob: String) -> Vec<OrderLine> {
        blob.lines()
            .enumerate()
            .filter_map(|(i, l)| {
                let mut f = l.split(',');
                let name = f.next()?.trim();
                let qty = f.next()?.trim().parse().ok()?;
                let price = f.next()?.trim().parse().ok()?;
                Some(OrderLine {
                    line: i as u32 + 1,
                    name: name.to_string(),
                    qty,
                    price,
                })
            })
            .collect()
    }

    fn sha256_hex(text: String) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let digest = Sha256::digest(text.as_bytes());
        let mut out = String::with_capacity(64);
        for b in digest {
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
        out
    }
}

export!(Etl);
