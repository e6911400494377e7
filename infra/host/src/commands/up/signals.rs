//! SIGTERM and SIGINT for `spinstack up`: the first begins the drain, the
//! second cuts what is left (an operator who presses Ctrl-C twice, or an
//! orchestrator that gives up, must not wait for the timeout).

use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use spinstack::server::Shutdown;

pub fn shutdown(timeout: Duration) -> anyhow::Result<Shutdown> {
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let (count, signals) = watch::channel(0u32);
    tokio::spawn(async move {
        loop {
            let name = tokio::select! {
                Some(()) = term.recv() => "SIGTERM",
                Some(()) = interrupt.recv() => "SIGINT",
                else => std::future::pending::<&str>().await,
            };
            count.send_modify(|n| *n += 1);
            tracing::info!("{name} received");
        }
    });
    let nth = |n: u32| {
        let mut signals = signals.clone();
        async move {
            // The sender lives as long as the process.
            let _ = signals.wait_for(|&count| count >= n).await;
        }
    };
    Ok(Shutdown {
        begin: Box::pin(nth(1)),
        now: Box::pin(nth(2)),
        timeout,
    })
}
