//! Writing to `mail_outbox` inside the statement of the action that causes
//! the mail: a data-modifying CTE that inserts one row per row of another
//! CTE of that statement. No row there (an unknown address, a taken one), no
//! mail: the decision is the statement's, not a second round trip's.

use spin_sdk::pg4::ParameterValue;

use super::Message;
use crate::db::{str_param, uuid_param};

/// `mail AS (INSERT ... SELECT ... FROM {source} RETURNING id)`: one message
/// to the `email` column of each row of CTE `source`. Its four parameters
/// start at `$first` (see [`params`]).
pub fn insert_cte(source: &str, first: usize) -> String {
    let (id, subject, text, html) = (first, first + 1, first + 2, first + 3);
    format!(
        "mail AS (INSERT INTO mail_outbox (id, recipient, subject, text_body, html_body) \
         SELECT ${id}::uuid, email, ${subject}, ${text}, ${html} FROM {source} RETURNING id)"
    )
}

/// The parameters [`insert_cte`] refers to, in its order (a fresh id).
pub fn params(message: &Message) -> [ParameterValue; 4] {
    [
        uuid_param(uuid::Uuid::new_v4()),
        str_param(message.subject.as_str()),
        str_param(message.text.as_str()),
        str_param(message.html.as_str()),
    ]
}

#[cfg(test)]
mod tests {
    use super::insert_cte;

    #[test]
    fn parameters_are_numbered_from_first() {
        let sql = insert_cte("target", 5);
        assert!(
            sql.contains("$5::uuid, email, $6, $7, $8 FROM target"),
            "{sql}"
        );
    }
}
