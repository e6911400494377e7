//! Syntax rules for the names that appear in a manifest.
//!
//! Spin's rules, restated:
//! - a component id is kebab-case: words of ASCII letters and digits joined
//!   by `-`; the first word starts with a letter; a word is all lower-case or
//!   all upper-case (`api-v2`, `API-gateway`);
//! - a variable name (application or component) is lower snake case: starts
//!   with a lower-case letter, then lower-case letters, digits and single
//!   underscores, not ending with an underscore (`api_key`, `db_2`);
//! - a key-value store label is either kebab-case or snake_case.
//!
//! (Spin also lets `:` appear inside id words, for component dependencies;
//! spinstack has no dependencies, so it does not.)

/// Checks a component id; the error is the reason, for a message.
pub fn check_component_id(id: &str) -> Result<(), String> {
    check_words(id, '-', false)
}

/// Checks an application or component variable name.
pub fn check_variable_name(name: &str) -> Result<(), String> {
    check_words(name, '_', true).map_err(|reason| {
        format!(
            "{reason} (variable names may contain only lower-case letters, digits and \
             single underscores, and must start with a letter)"
        )
    })
}

/// Checks a key-value store label: kebab-case or snake_case.
pub fn check_store_label(label: &str) -> Result<(), String> {
    if check_words(label, '-', false).is_ok() || check_words(label, '_', false).is_ok() {
        Ok(())
    } else {
        Err(
            "labels must be kebab-case or snake_case (e.g. \"default\", \"my-store\", \
             \"my_store\")"
                .to_owned(),
        )
    }
}

fn check_words(id: &str, delimiter: char, lower_only: bool) -> Result<(), String> {
    if id.is_empty() {
        return Err("must not be empty".to_owned());
    }
    let other = if delimiter == '-' { '_' } else { '-' };
    if id.contains(other) {
        return Err(format!(
            "words must be separated by {delimiter:?}, not {other:?}"
        ));
    }
    for (position, word) in id.split(delimiter).enumerate() {
        let mut chars = word.chars();
        let Some(first) = chars.next() else {
            return Err(format!(
                "must not start or end with {delimiter:?} or contain it twice in a row"
            ));
        };
        let starts_ok = first.is_ascii_alphabetic() || (position > 0 && first.is_ascii_digit());
        if !starts_ok {
            return Err(if position == 0 {
                format!("must start with an ASCII letter, not {first:?}")
            } else {
                format!("each word must start with an ASCII letter or digit, not {first:?}")
            });
        }
        let upper = first.is_ascii_uppercase();
        if lower_only && upper {
            return Err("must be all lower-case".to_owned());
        }
        for c in chars {
            if c.is_ascii_digit() {
                continue;
            }
            if !c.is_ascii_alphabetic() {
                return Err(format!("invalid character {c:?}"));
            }
            if c.is_ascii_uppercase() != upper {
                return Err(if lower_only {
                    "must be all lower-case".to_owned()
                } else {
                    format!("word {word:?} must be all lower-case or all upper-case")
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_ids() {
        for good in ["a", "hello", "api-v2", "my-2nd-thing", "API-gateway", "x1"] {
            check_component_id(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        for bad in [
            "",
            "my_comp",
            "-a",
            "a-",
            "a--b",
            "2fast",
            "camelCase",
            "a.b",
            "a b",
            "é",
        ] {
            assert!(
                check_component_id(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
        assert_eq!(
            check_component_id("my_comp").unwrap_err(),
            "words must be separated by '-', not '_'"
        );
    }

    #[test]
    fn variable_names() {
        for good in ["a", "abc", "a1b2c3", "a_1", "a_1_b_3", "api_key"] {
            check_variable_name(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        for bad in ["", "aX", "1bc", "_x", "x.y", "x_", "a__b", "x-y", "API_KEY"] {
            assert!(
                check_variable_name(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn store_labels() {
        for good in ["default", "my-store", "my_store", "STORE", "cache2"] {
            check_store_label(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        for bad in ["", "b@dlabel", "a-b_c", "camelCase", "Store", "-x"] {
            assert!(
                check_store_label(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }
}
