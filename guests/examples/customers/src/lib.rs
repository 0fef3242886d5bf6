//! Example plugin: customer rows normalized and validated by a trigger.

wit_bindgen::generate!({ world: "customers", path: "wit" });

struct Customers;

/// The email trimmed and ASCII-lower-cased, if it is `local@domain` with a dot in the domain,
/// exactly one `@` and no whitespace.
fn email(raw: &str) -> Result<String, String> {
    let email = raw.trim().to_ascii_lowercase();
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(email)
    } else {
        Err(format!("invalid email \"{raw}\""))
    }
}

/// Each word capitalized (first letter upper-case, the rest lower-case), single-spaced.
fn name(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    for word in raw.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(&chars.as_str().to_lowercase());
        }
    }
    if out.is_empty() {
        Err("empty name".into())
    } else {
        Ok(out)
    }
}

/// Two ASCII letters, upper-cased; an empty code is none.
fn country(raw: Option<String>) -> Result<Option<String>, String> {
    let Some(raw) = raw else { return Ok(None) };
    let code = raw.trim().to_ascii_uppercase();
    match code.len() {
        0 => Ok(None),
        2 if code.bytes().all(|b| b.is_ascii_uppercase()) => Ok(Some(code)),
        _ => Err(format!("invalid country code \"{raw}\"")),
    }
}

fn normalized(c: Customer) -> Result<Customer, String> {
    Ok(Customer {
        email: email(&c.email)?,
        name: name(&c.name)?,
        country: country(c.country)?,
    })
}

impl Guest for Customers {
    fn normalize(new: Customer) -> Result<Customer, String> {
        normalized(new)
    }

    fn clean(new: Customer) -> Option<Customer> {
        normalized(new).ok()
    }
}

export!(Customers);
