//! The native baseline of `benches/auth.sh`: argon2id password checks per
//! second with the parameters the auth component uses (m = 19 MiB, t = 2,
//! p = 1), on `THREADS` threads for `SECONDS` seconds. A login through the
//! component costs one such check plus its database work, so the ratio of
//! logins/s to these checks/s is the wasm (and platform) tax.
//!
//!   cargo run --release --example native_argon2 -- [THREADS] [SECONDS]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

fn main() {
    let mut args = std::env::args().skip(1);
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let argon = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).expect("valid parameters"),
    );
    let salt = SaltString::encode_b64(b"native-baseline!").expect("valid salt");
    let phc = argon
        .hash_password(b"password123", &salt)
        .expect("hash")
        .to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let checks = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (stop, checks, phc) = (stop.clone(), checks.clone(), phc.clone());
            std::thread::spawn(move || {
                let parsed = PasswordHash::new(&phc).expect("parse");
                while !stop.load(Ordering::Relaxed) {
                    Argon2::default()
                        .verify_password(b"password123", &parsed)
                        .expect("the password verifies");
                    checks.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().expect("worker");
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!("{:.1}", checks.load(Ordering::Relaxed) as f64 / elapsed);
}
