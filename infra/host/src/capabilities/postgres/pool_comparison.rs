//! Our pool against deadpool-postgres, the maintained pool for tokio-postgres
//! (issue 12 asks that ours stay only if a maintained one cannot do the same
//! at the same cost). Run by `benches/postgres_pool.sh`; an ignored test so
//! it can reach the pool's crate-private parts and needs no extra binary.
//!
//! What "the same" means for a host pool whose SQL comes from guests:
//! a connection handed to the next request carries no session state of the
//! previous one (SET, temporary tables, LISTEN, advisory locks), and a guest
//! that sends many distinct statements cannot grow a connection's memory
//! without bound. deadpool's `Fast` recycling does neither; its `Clean`
//! recycling resets every connection with a round trip on every checkout;
//! its statement cache has no bound. Ours resets only a connection whose
//! session a statement changed (`session.rs`) and keeps at most
//! `statement_cache` statements per connection.

use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, RecyclingMethod};

use super::pool::{PostgresPools, PostgresSettings};
use crate::postgres_tls;

const TASKS: usize = 16;
const ROUND: Duration = Duration::from_secs(3);
const ROUNDS: usize = 5;
const SQL: &str = "SELECT 1::int4 AS one";

/// The address, parsed once: the comparison is of the pools, so neither
/// side pays for parsing the connection string per checkout.
#[derive(Clone)]
struct Target {
    address: Arc<str>,
    config: tokio_postgres::Config,
    tls: postgres_tls::TlsSettings,
}

fn target() -> Target {
    let address = std::env::var("SPINSTACK_BENCH_POSTGRES")
        .unwrap_or_else(|_| "host=127.0.0.1 user=postgres dbname=postgres sslmode=disable".into());
    let prepared = postgres_tls::prepare(&address);
    Target {
        config: prepared.conn_str.parse().unwrap(),
        tls: prepared.tls,
        address: address.into(),
    }
}

async fn checkout(pools: &PostgresPools, target: &Target) -> super::pool::Checkout {
    let deadline = Instant::now() + Duration::from_secs(60);
    pools
        .open(
            &target.address,
            target.config.clone(),
            target.tls.clone(),
            deadline,
        )
        .await
        .unwrap()
}

/// Checkouts per second: `TASKS` tasks each checking out, running `SQL`
/// and giving back, for `ROUND`.
async fn rate<F, Fut>(op: F) -> f64
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let end = Instant::now() + ROUND;
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut done = 0u64;
                while Instant::now() < end {
                    op().await;
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    total as f64 / ROUND.as_secs_f64()
}

fn ours() -> Arc<PostgresPools> {
    Arc::new(PostgresPools::new(PostgresSettings::default()))
}

async fn ours_op(pools: Arc<PostgresPools>, target: Target) {
    let mut checkout = checkout(&pools, &target).await;
    let rows = checkout.conn().query(SQL, &[], 1 << 20).await.unwrap();
    assert_eq!(rows.rows.len(), 1);
}

fn deadpool(method: RecyclingMethod) -> deadpool_postgres::Pool {
    let manager = Manager::from_config(
        target().config,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: method,
        },
    );
    deadpool_postgres::Pool::builder(manager)
        .max_size(PostgresSettings::default().max_connections)
        .build()
        .unwrap()
}

async fn deadpool_op(pool: deadpool_postgres::Pool) {
    let client = pool.get().await.unwrap();
    let statement = client.prepare_cached(SQL).await.unwrap();
    let rows = client.query(&statement, &[]).await.unwrap();
    assert_eq!(rows[0].get::<_, i32>(0), 1);
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: benches/postgres_pool.sh runs it"]
async fn pool_comparison() {
    let pools = ours();
    let target = target();
    let fast = deadpool(RecyclingMethod::Fast);
    let clean = deadpool(RecyclingMethod::Clean);
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    // Alternating rounds after one warm-up of each, medians: the machine's
    // other load moves single rounds more than the differences measured.
    for round in 0..=ROUNDS {
        let (ours_pools, ours_target) = (pools.clone(), target.clone());
        let x = rate(move || ours_op(ours_pools.clone(), ours_target.clone())).await;
        let pool = fast.clone();
        let y = rate(move || deadpool_op(pool.clone())).await;
        let pool = clean.clone();
        let z = rate(move || deadpool_op(pool.clone())).await;
        if round > 0 {
            a.push(x);
            b.push(y);
            c.push(z);
        }
    }
    let (a, b, c) = (median(a), median(b), median(c));
    println!("median of {ROUNDS} alternating rounds of {ROUND:?}, {TASKS} tasks, `{SQL}`");
    println!("| pool | checkouts+queries/s | vs ours |");
    println!("|---|---|---|");
    println!("| ours (reset only after a session change) | {a:.0} | 100% |");
    println!(
        "| deadpool Fast (no reset) | {b:.0} | {:.1}% |",
        100.0 * b / a
    );
    println!(
        "| deadpool Clean (reset every checkout) | {c:.0} | {:.1}% |",
        100.0 * c / a
    );

    // Memory a guest controls: distinct statements on one connection.
    let distinct = 2_000;
    let pool = deadpool(RecyclingMethod::Fast);
    let client = pool.get().await.unwrap();
    for i in 0..distinct {
        client
            .prepare_cached(&format!("SELECT {i}::int4"))
            .await
            .unwrap();
    }
    let deadpool_cached = client.statement_cache.size();
    let mut checkout = checkout(&pools, &target).await;
    for i in 0..distinct {
        checkout
            .conn()
            .query(&format!("SELECT {i}::int4"), &[], 1 << 20)
            .await
            .unwrap();
    }
    let ours_cached = checkout.conn().cached_statements();
    println!(
        "after {distinct} distinct statements on one connection: deadpool caches {deadpool_cached}, ours {ours_cached} (bound {})",
        PostgresSettings::default().statement_cache
    );
    assert!(ours_cached <= PostgresSettings::default().statement_cache);
}
