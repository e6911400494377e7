//! The prepared statements of one connection, by SQL text, least recently
//! used first out when full, so a repeated statement costs one round trip
//! (Bind/Execute) instead of two (Parse/Describe, then Bind/Execute) and a
//! guest that builds SQL strings cannot grow the cache without bound.
//! Dropping a `Statement` closes it on the server.

use std::collections::HashMap;

use tokio_postgres::Statement;

pub struct StatementCache {
    capacity: usize,
    tick: u64,
    entries: HashMap<String, (Statement, u64)>,
}

impl StatementCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            tick: 0,
            entries: HashMap::new(),
        }
    }

    pub fn get(&mut self, sql: &str) -> Option<Statement> {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(sql).map(|(statement, used)| {
            *used = tick;
            statement.clone()
        })
    }

    pub fn insert(&mut self, sql: &str, statement: Statement) {
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() >= self.capacity && !self.entries.contains_key(sql) {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(sql, _)| sql.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.tick += 1;
        self.entries.insert(sql.to_owned(), (statement, self.tick));
    }

    pub fn remove(&mut self, sql: &str) {
        self.entries.remove(sql);
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}
