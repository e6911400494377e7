//! `spinstack bench-instantiate` (hidden): how long instantiating one
//! component takes, measured in-process so no HTTP or scheduling noise is in
//! the figure. The benchmark scripts report its p50 and p99.

use std::time::{Duration, Instant};

use std::sync::Arc;

use spinstack::App;
use spinstack::capabilities::outbound_http::ServiceChaining;
use wasmtime::Store;

use crate::cli::UpArgs;

pub async fn run(args: &UpArgs, component: &str, iterations: usize) -> anyhow::Result<()> {
    let app = App::load(&super::up::host_config(args))?.app;
    let chaining: Arc<dyn ServiceChaining> = app.clone();
    let runtime = app
        .components
        .get(component)
        .ok_or_else(|| anyhow::anyhow!("no component {component:?} with an HTTP trigger"))?
        .clone();
    let mut samples = Vec::with_capacity(iterations);
    // Warm the pool's slots and the caches first.
    for round in 0..iterations + 1000 {
        let state = runtime.new_state(
            &app.runtime,
            &chaining,
            Instant::now() + Duration::from_secs(60),
        )?;
        let mut store = Store::new(&app.runtime.engine, state);
        // No epoch ticker runs here: any deadline ahead of now never fires.
        store.set_epoch_deadline(1);
        let started = Instant::now();
        runtime.pre.instantiate_async(&mut store).await?;
        let elapsed = started.elapsed();
        // Dropping the store returns the instance's slot to the pool.
        drop(store);
        if round >= 1000 {
            samples.push(elapsed);
        }
    }
    samples.sort();
    let percentile = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize];
    println!(
        "instantiate {component}: n={} p50={:.1}us p99={:.1}us",
        samples.len(),
        percentile(0.50).as_secs_f64() * 1e6,
        percentile(0.99).as_secs_f64() * 1e6
    );
    Ok(())
}
