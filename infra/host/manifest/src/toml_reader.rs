//! A small strict reader over `toml::Table`.
//!
//! Documents are parsed into a plain TOML tree and then walked by hand rather
//! than through serde: that way every field we read is ticked off, every key
//! left over is reported with its full dotted path, and type errors name the
//! field instead of a byte offset. All problems go into one [`Problems`]
//! collector so a single load reports everything.

use std::collections::BTreeSet;

use toml::{Table, Value};

use crate::error::Problem;

/// Collects problems while a document is walked.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<Problem>);

impl Problems {
    pub fn push(&mut self, problem: Problem) {
        self.0.push(problem);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<Problem> {
        self.0
    }
}

/// Joins a key onto a dotted path, quoting keys that are not bare TOML keys.
pub(crate) fn join(path: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    };
    if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    }
}

/// Path of an array element.
pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// Human name of a TOML value's type, with its article.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a datetime",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

pub(crate) fn as_str<'a>(value: &'a Value, path: &str, problems: &mut Problems) -> Option<&'a str> {
    match value {
        Value::String(s) => Some(s),
        other => {
            problems.push(Problem::wrong_type(path, "a string", type_name(other)));
            None
        }
    }
}

pub(crate) fn as_table<'a>(
    value: &'a Value,
    path: &str,
    problems: &mut Problems,
) -> Option<&'a Table> {
    match value {
        Value::Table(t) => Some(t),
        other => {
            problems.push(Problem::wrong_type(path, "a table", type_name(other)));
            None
        }
    }
}

/// Reads an array of strings. Elements of the wrong type are reported and
/// skipped; each returned item carries its own path for later validation.
pub(crate) fn as_str_list<'a>(
    value: &'a Value,
    path: &str,
    problems: &mut Problems,
) -> Option<Vec<(String, &'a str)>> {
    let Value::Array(items) = value else {
        problems.push(Problem::wrong_type(
            path,
            "an array of strings",
            type_name(value),
        ));
        return None;
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let item_path = index(path, i);
        if let Some(s) = as_str(item, &item_path, problems) {
            out.push((item_path, s));
        }
    }
    Some(out)
}

/// A table being read: remembers which keys were consumed so that
/// [`TableReader::finish`] can report the rest.
pub(crate) struct TableReader<'a> {
    path: String,
    table: &'a Table,
    used: BTreeSet<&'a str>,
}

impl<'a> TableReader<'a> {
    pub fn new(path: impl Into<String>, table: &'a Table) -> Self {
        Self {
            path: path.into(),
            table,
            used: BTreeSet::new(),
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn child(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// All entries, for tables whose keys are user-defined names (such a
    /// table is read whole, so [`TableReader::finish`] is not called on it).
    pub fn entries(&self) -> impl Iterator<Item = (&'a String, &'a Value)> + use<'a> {
        self.table.iter()
    }

    /// Takes a value if present, marking the key as consumed.
    pub fn take(&mut self, key: &str) -> Option<&'a Value> {
        let (k, v) = self.table.get_key_value(key)?;
        self.used.insert(k.as_str());
        Some(v)
    }

    pub fn string(&mut self, key: &str, problems: &mut Problems) -> Option<&'a str> {
        let path = self.child(key);
        self.take(key).and_then(|v| as_str(v, &path, problems))
    }

    pub fn required_string(&mut self, key: &str, problems: &mut Problems) -> Option<&'a str> {
        if !self.table.contains_key(key) {
            problems.push(Problem::missing(self.child(key)));
            return None;
        }
        self.string(key, problems)
    }

    pub fn boolean(&mut self, key: &str, problems: &mut Problems) -> Option<bool> {
        let path = self.child(key);
        match self.take(key)? {
            Value::Boolean(b) => Some(*b),
            other => {
                problems.push(Problem::wrong_type(path, "a boolean", type_name(other)));
                None
            }
        }
    }

    pub fn string_list(
        &mut self,
        key: &str,
        problems: &mut Problems,
    ) -> Option<Vec<(String, &'a str)>> {
        let path = self.child(key);
        self.take(key).and_then(|v| as_str_list(v, &path, problems))
    }

    pub fn table(&mut self, key: &str, problems: &mut Problems) -> Option<TableReader<'a>> {
        let path = self.child(key);
        let table = self.take(key).and_then(|v| as_table(v, &path, problems))?;
        Some(TableReader::new(path, table))
    }

    /// Reports every key that was not consumed. Keys listed in `known` are
    /// Spin features spinstack does not implement and get their own hint;
    /// anything else is an unknown field.
    pub fn finish(self, problems: &mut Problems, known: &[(&str, &str)]) {
        for key in self.table.keys() {
            if self.used.contains(key.as_str()) {
                continue;
            }
            let hint = known
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, hint)| *hint)
                .unwrap_or("unknown field");
            let hint = (!hint.is_empty()).then_some(hint);
            problems.push(Problem::unsupported(join(&self.path, key), hint));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(s: &str) -> Table {
        s.parse().unwrap()
    }

    #[test]
    fn join_quotes_non_bare_keys() {
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a", "b-c_d"), "a.b-c_d");
        assert_eq!(join("env", "A B"), "env.\"A B\"");
        assert_eq!(index("x", 3), "x[3]");
    }

    #[test]
    fn leftover_keys_are_reported_with_paths() {
        let t = table("a = 1\nb = 'x'\nc = true\n");
        let mut problems = Problems::default();
        let mut reader = TableReader::new("root", &t);
        assert_eq!(reader.string("b", &mut problems), Some("x"));
        reader.finish(&mut problems, &[("c", "use d instead")]);
        let messages: Vec<String> = problems.into_vec().iter().map(|p| p.to_string()).collect();
        assert_eq!(
            messages,
            [
                "root.a is not supported by spinstack (unknown field)",
                "root.c is not supported by spinstack (use d instead)",
            ]
        );
    }

    #[test]
    fn wrong_types_name_the_field() {
        let t = table("a = 1\nb = ['x', 2]\n");
        let mut problems = Problems::default();
        let mut reader = TableReader::new("", &t);
        assert_eq!(reader.string("a", &mut problems), None);
        let list = reader.string_list("b", &mut problems).unwrap();
        assert_eq!(list, vec![("b[0]".to_owned(), "x")]);
        assert_eq!(reader.required_string("z", &mut problems), None);
        let messages: Vec<String> = problems.into_vec().iter().map(|p| p.to_string()).collect();
        assert_eq!(
            messages,
            [
                "a must be a string, found an integer",
                "b[1] must be a string, found an integer",
                "z is required",
            ]
        );
    }
}
