//! What a statement does to its session, read from its text, so a pooled
//! connection can be handed back clean without Spin's reset round trip on
//! every checkout: only a connection left inside a transaction is rolled
//! back, and only one whose session settings may have changed (`SET`,
//! `LISTEN`, temporary tables, advisory locks, ...) is reset with
//! `DISCARD ALL`. Each call carries one statement (the extended protocol
//! refuses more), so its first keyword says most of it.

/// The effect of one statement on its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Plain work (SELECT, INSERT, DDL, ...).
    None,
    /// Opens a transaction block (`BEGIN`, `START TRANSACTION`, `... AND CHAIN`).
    Begins,
    /// Closes the transaction block (`COMMIT`, `ROLLBACK`, `END`, `ABORT`).
    Ends,
    /// May leave state behind that outlives the transaction.
    Dirties,
}

/// The statement's words, lower-cased, after comments and whitespace.
fn words(sql: &str, limit: usize) -> Vec<String> {
    let bytes = sql.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while i < bytes.len() && words.len() < limit {
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                // Block comments nest in Postgres.
                let mut depth = 0;
                while i < bytes.len() {
                    if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                words.push(sql[start..i].to_ascii_lowercase());
            }
            b'(' | b';' => i += 1,
            b if b.is_ascii_whitespace() => i += 1,
            // Anything else (a literal, an operator) ends the statement's head.
            _ => break,
        }
    }
    words
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// True when the statement deallocates prepared statements (ours included).
pub fn drops_prepared_statements(sql: &str) -> bool {
    let words = words(sql, 2);
    matches!(
        words.first().map(String::as_str),
        Some("discard" | "deallocate")
    )
}

pub fn classify(sql: &str) -> Effect {
    // Functions that change the session from inside any statement.
    if ["set_config", "pg_advisory_lock", "pg_try_advisory_lock"]
        .iter()
        .any(|f| contains_ignore_case(sql, f))
    {
        return Effect::Dirties;
    }
    let words = words(sql, 3);
    let word = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let chains = || {
        let lower = sql.to_ascii_lowercase();
        lower.contains("chain") && !lower.contains("no chain")
    };
    match word(0) {
        "begin" | "start" => Effect::Begins,
        "commit" | "end" | "abort" | "rollback" if chains() => Effect::Begins,
        // ROLLBACK TO [SAVEPOINT] stays inside the transaction.
        "rollback" if word(1) == "to" => Effect::None,
        "commit" | "end" | "abort" | "rollback" => Effect::Ends,
        "prepare" if word(1) == "transaction" => Effect::Ends,
        // SET LOCAL and SET TRANSACTION end with the transaction.
        "set" if matches!(word(1), "local" | "transaction" | "constraints") => Effect::None,
        "set" | "reset" | "listen" | "declare" | "prepare" | "deallocate" | "load" | "discard" => {
            Effect::Dirties
        }
        "create"
            if matches!(word(1), "temp" | "temporary")
                || (word(1) == "local" && matches!(word(2), "temp" | "temporary"))
                || (word(1) == "global" && matches!(word(2), "temp" | "temporary")) =>
        {
            Effect::Dirties
        }
        _ => Effect::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transactions() {
        assert_eq!(classify("BEGIN"), Effect::Begins);
        assert_eq!(
            classify("  begin isolation level serializable"),
            Effect::Begins
        );
        assert_eq!(classify("START TRANSACTION"), Effect::Begins);
        assert_eq!(
            classify("/* a /* nested */ comment */ BEGIN"),
            Effect::Begins
        );
        assert_eq!(classify("-- note\nBEGIN;"), Effect::Begins);
        assert_eq!(classify("COMMIT"), Effect::Ends);
        assert_eq!(classify("end transaction"), Effect::Ends);
        assert_eq!(classify("ROLLBACK"), Effect::Ends);
        assert_eq!(classify("ROLLBACK TO SAVEPOINT a"), Effect::None);
        assert_eq!(classify("COMMIT AND CHAIN"), Effect::Begins);
        assert_eq!(classify("COMMIT AND NO CHAIN"), Effect::Ends);
        assert_eq!(classify("PREPARE TRANSACTION 'x'"), Effect::Ends);
    }

    #[test]
    fn session_state() {
        assert_eq!(classify("SET search_path = x"), Effect::Dirties);
        assert_eq!(classify("set role admin"), Effect::Dirties);
        assert_eq!(classify("SET LOCAL statement_timeout = 5"), Effect::None);
        assert_eq!(classify("RESET ALL"), Effect::Dirties);
        assert_eq!(classify("LISTEN ch"), Effect::Dirties);
        assert_eq!(classify("CREATE TEMP TABLE t (a int)"), Effect::Dirties);
        assert_eq!(
            classify("create local temporary table t (a int)"),
            Effect::Dirties
        );
        assert_eq!(classify("SELECT pg_advisory_lock(1)"), Effect::Dirties);
        assert_eq!(
            classify("select set_config('a.b', 'c', false)"),
            Effect::Dirties
        );
        assert_eq!(classify("PREPARE q AS SELECT 1"), Effect::Dirties);
    }

    #[test]
    fn plain_work() {
        assert_eq!(classify("SELECT 1"), Effect::None);
        assert_eq!(classify("(SELECT 1)"), Effect::None);
        assert_eq!(classify("INSERT INTO t VALUES ('BEGIN')"), Effect::None);
        assert_eq!(classify("CREATE TABLE settings (a int)"), Effect::None);
        assert_eq!(
            classify("WITH x AS (SELECT 1) SELECT * FROM x"),
            Effect::None
        );
        assert_eq!(classify(""), Effect::None);
    }
}
