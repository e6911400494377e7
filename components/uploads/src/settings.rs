//! The uploads component's settings (Spin variables).

use std::time::Duration;

use spinstack_shared::{Problem, config};

/// 25 MiB: the gateway's body limit for `/api/uploads/` (infra/gateway.toml).
pub const DEFAULT_MAX_BYTES: u64 = 25 * 1024 * 1024;

/// Types accepted unless `upload_content_types` says otherwise.
pub const DEFAULT_CONTENT_TYPES: &str = "image/png,image/jpeg,image/gif,image/webp,\
     application/pdf,application/zip,application/json,text/plain,text/csv,\
     application/octet-stream";

/// Seconds a presigned upload or download URL stays valid.
pub const DEFAULT_URL_TTL_SECONDS: u64 = 300;

/// How long past its URL's expiry a `pending` upload may still turn
/// `ready`: a `PUT` that started in time may still be arriving, a direct
/// upload may still be streaming, the client may not have called
/// `complete` yet. After that it is stale (`Settings::pending_ttl`).
pub const PENDING_MARGIN: Duration = Duration::from_secs(3600);

pub struct Settings {
    pub max_bytes: u64,
    pub content_types: Vec<String>,
    pub url_ttl: Duration,
}

impl Settings {
    pub fn from_variables() -> Result<Settings, Problem> {
        let ttl = config::parsed("upload_url_ttl_seconds", DEFAULT_URL_TTL_SECONDS)?;
        // S3 allows presigned URLs of up to 7 days.
        if ttl == 0 || ttl > 7 * 24 * 3600 {
            eprintln!("configuration: variable upload_url_ttl_seconds is out of range");
            return Err(Problem::internal());
        }
        Ok(Settings {
            max_bytes: config::parsed("upload_max_bytes", DEFAULT_MAX_BYTES)?,
            content_types: parse_list(&config::or_default(
                "upload_content_types",
                DEFAULT_CONTENT_TYPES,
            )),
            url_ttl: Duration::from_secs(ttl),
        })
    }

    /// Age after which a `pending` upload is stale: hidden from every read
    /// and removed by the sweep (`crate::sweep`).
    pub fn pending_ttl(&self) -> Duration {
        pending_ttl(self.url_ttl)
    }

    pub fn allows(&self, essence: &str) -> bool {
        self.content_types.iter().any(|allowed| allowed == essence)
    }
}

fn pending_ttl(url_ttl: Duration) -> Duration {
    url_ttl + PENDING_MARGIN
}

/// A duration as a whole number of seconds for a `bigint` parameter.
pub fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// A comma- or whitespace-separated list of media types, lower-cased.
fn parse_list(value: &str) -> Vec<String> {
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|item| item.trim().to_ascii_lowercase())
        .filter(|item| !item.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_split_on_commas_and_spaces() {
        assert_eq!(
            parse_list(" Image/PNG, text/plain\n application/pdf,,"),
            ["image/png", "text/plain", "application/pdf"]
        );
        assert_eq!(parse_list(DEFAULT_CONTENT_TYPES).len(), 10);
    }

    #[test]
    fn pending_uploads_outlive_their_url_by_the_margin() {
        let default = Duration::from_secs(DEFAULT_URL_TTL_SECONDS);
        assert_eq!(seconds(pending_ttl(default)), 300 + 3600);
        // The longest URL S3 allows: still a margin past it.
        let week = Duration::from_secs(7 * 24 * 3600);
        assert!(pending_ttl(week) > week);
        assert_eq!(seconds(Duration::MAX), i64::MAX);
    }
}
