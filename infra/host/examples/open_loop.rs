//! An open-loop load driver for the overload bench (benches/overload.sh):
//! requests leave at a fixed rate whether or not earlier ones were answered,
//! as real clients arrive, so "twice the capacity" is an arrival rate and
//! not, as with wrk's fixed connections, whatever the server lets through.
//! (wrk2 does this but is not packaged by Debian; oha would be a download.)
//!
//! `open_loop URL RATE SECONDS [INTERVAL_MS] [BEARER]` prints one line per
//! interval, then a total:
//! `<t_ms> sent ok r429 r503 no_retry_after other errors p50_ms p99_ms`
//! (latencies of the 2xx answers; `no_retry_after` counts 429/503 without
//! `Retry-After`; `errors` are requests with no answer, 10 s at most).

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

#[derive(Default, Clone)]
struct Tally {
    sent: u64,
    ok: u64,
    r429: u64,
    r503: u64,
    no_retry_after: u64,
    other: u64,
    errors: u64,
    ok_micros: Vec<u32>,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.sent += other.sent;
        self.ok += other.ok;
        self.r429 += other.r429;
        self.r503 += other.r503;
        self.no_retry_after += other.no_retry_after;
        self.other += other.other;
        self.errors += other.errors;
        self.ok_micros.extend_from_slice(&other.ok_micros);
    }

    fn line(&mut self, label: &str) -> String {
        self.ok_micros.sort_unstable();
        let quantile = |q: f64| -> f64 {
            if self.ok_micros.is_empty() {
                return 0.0;
            }
            let index = ((self.ok_micros.len() as f64 - 1.0) * q).round() as usize;
            f64::from(self.ok_micros[index]) / 1000.0
        };
        format!(
            "{label} {} {} {} {} {} {} {} {:.2} {:.2}",
            self.sent,
            self.ok,
            self.r429,
            self.r503,
            self.no_retry_after,
            self.other,
            self.errors,
            quantile(0.5),
            quantile(0.99)
        )
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: open_loop URL RATE SECONDS [INTERVAL_MS] [BEARER]");
        std::process::exit(2);
    }
    let url: reqwest::Url = args[0].parse().expect("URL");
    let rate: f64 = args[1].parse().expect("RATE (requests a second)");
    let seconds: f64 = args[2].parse().expect("SECONDS");
    let interval = Duration::from_millis(
        args.get(3)
            .map_or(1000, |s| s.parse().expect("INTERVAL_MS")),
    );
    let bearer = args.get(4).cloned();

    // OPEN_LOOP_H2=1: HTTP/2 with prior knowledge, every request a stream
    // of a few connections, so arrivals reach the server at once instead of
    // waiting for thousands of TCP handshakes (the client's own cost).
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(4096);
    if std::env::var("OPEN_LOOP_H2").as_deref() == Ok("1") {
        builder = builder.http2_prior_knowledge();
    }
    let client = builder.build().unwrap();
    let slots = ((seconds * 1000.0) / interval.as_millis() as f64).ceil() as usize + 1;
    let tallies: Arc<Vec<Mutex<Tally>>> =
        Arc::new((0..slots).map(|_| Mutex::new(Tally::default())).collect());
    let start = Instant::now();
    let end = Duration::from_secs_f64(seconds);
    let mut sent = 0u64;
    let mut in_flight = Vec::new();
    let mut ticks = tokio::time::interval(Duration::from_millis(1));
    loop {
        ticks.tick().await;
        let elapsed = start.elapsed();
        if elapsed >= end {
            break;
        }
        // As many as are due by now: the rate holds however late a tick is.
        let due = (elapsed.as_secs_f64() * rate) as u64;
        while sent < due {
            sent += 1;
            let slot = (elapsed.as_millis() / interval.as_millis()) as usize;
            tallies[slot].lock().sent += 1;
            let mut request = client.get(url.clone());
            if let Some(token) = &bearer {
                request = request.bearer_auth(token);
            }
            let tallies = tallies.clone();
            in_flight.push(tokio::spawn(async move {
                let began = Instant::now();
                let outcome = request.send().await;
                let mut tally = tallies[slot].lock();
                match outcome {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let retry_after = response.headers().contains_key("retry-after");
                        drop(tally);
                        let body = response.bytes().await;
                        let micros = began.elapsed().as_micros().min(u32::MAX as u128) as u32;
                        let mut tally = tallies[slot].lock();
                        match (status, body.is_ok()) {
                            (_, false) => tally.errors += 1,
                            (200..=299, true) => {
                                tally.ok += 1;
                                tally.ok_micros.push(micros);
                            }
                            (429 | 503, true) => {
                                if status == 429 {
                                    tally.r429 += 1;
                                } else {
                                    tally.r503 += 1;
                                }
                                if !retry_after {
                                    tally.no_retry_after += 1;
                                }
                            }
                            _ => tally.other += 1,
                        }
                    }
                    Err(_) => tally.errors += 1,
                }
            }));
        }
    }
    for task in in_flight {
        let _ = task.await;
    }
    let mut total = Tally::default();
    for (index, slot) in tallies.iter().enumerate() {
        let mut tally = slot.lock().clone();
        if tally.sent == 0 {
            continue;
        }
        total.add(&tally);
        println!(
            "{}",
            tally.line(&(index as u128 * interval.as_millis()).to_string())
        );
    }
    println!("{}", total.line("total"));
}
