//! Spin variables the components read. A missing or invalid value is the
//! operator's mistake, not the client's: it is logged with its name and the
//! client gets a bare 500 that names nothing.

use crate::Problem;

/// The variable's value, which must not be empty.
pub fn required(name: &str) -> Result<String, Problem> {
    match spin_sdk::variables::get(name) {
        Ok(value) if !value.is_empty() => Ok(value),
        Ok(_) => Err(misconfigured(name, "is empty")),
        Err(e) => Err(misconfigured(name, &e.to_string())),
    }
}

/// The variable's value, or `default` when it is empty or not declared.
pub fn or_default(name: &str, default: &str) -> String {
    match spin_sdk::variables::get(name) {
        Ok(value) if !value.is_empty() => value,
        _ => default.to_owned(),
    }
}

/// A whole number of seconds (or anything `FromStr`), `default` when unset.
pub fn parsed<T: std::str::FromStr>(name: &str, default: T) -> Result<T, Problem> {
    match spin_sdk::variables::get(name) {
        Ok(value) if !value.is_empty() => value
            .trim()
            .parse()
            .map_err(|_| misconfigured(name, "is not a valid value")),
        _ => Ok(default),
    }
}

fn misconfigured(name: &str, reason: &str) -> Problem {
    eprintln!("configuration: variable {name} {reason}");
    Problem::internal()
}
