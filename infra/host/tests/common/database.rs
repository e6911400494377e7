//! Databases for tests: a fresh database on the system Postgres
//! (127.0.0.1:5432, user `postgres`, trust auth; `.ci/run` starts it),
//! dropped when the guard goes, and a connect helper.

use std::time::Duration;

/// The maintenance connection (`SPINSTACK_TEST_POSTGRES_URL` overrides).
pub fn admin_url() -> String {
    std::env::var("SPINSTACK_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Connects, driving the connection on the current runtime.
pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// `CREATE DATABASE <prefix>_<random>` on the system Postgres; dropped (with
/// its sessions) on drop.
pub struct FreshDatabase {
    pub name: String,
    pub url: String,
}

impl FreshDatabase {
    pub async fn create(prefix: &str) -> Self {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let admin = connect(&admin_url()).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let base = admin_url();
        let server = base.rsplit_once('/').map_or(base.as_str(), |(s, _)| s);
        FreshDatabase {
            url: format!("{server}/{name}"),
            name,
        }
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Off the test's runtime, which may be the one being dropped.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let admin = connect(&admin_url()).await;
                let _ = tokio::time::timeout(
                    Duration::from_secs(30),
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")),
                )
                .await;
            });
        })
        .join();
    }
}
