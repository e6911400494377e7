//! The cost of one rate-limit decision (`ZoneLimiter::check`), in the three
//! situations the gateway meets: a client it knows, many clients it knows
//! (the state no longer in CPU cache), and a flood of new clients that makes
//! every decision evict the least recently seen one.
//!
//! `cargo bench -p spinstack-gateway --bench limiter`

use std::hint::black_box;
use std::net::{IpAddr, Ipv6Addr};

use criterion::{Criterion, criterion_group, criterion_main};
use spinstack_gateway::{Rate, ZoneLimiter};

/// The committed `api` and `auth` zones: 10m of state is 163840 clients.
const CAPACITY: usize = 163_840;

fn client(i: u64) -> IpAddr {
    IpAddr::V6(Ipv6Addr::from(0x2001_0db8_u128 << 96 | u128::from(i)))
}

fn decisions(c: &mut Criterion) {
    let api = Rate::parse("30r/s").unwrap();
    let auth = Rate::parse("5r/m").unwrap();

    // One client at its steady rate: every decision finds it and is Allowed.
    let limiter = ZoneLimiter::with_capacity(api, 50, CAPACITY);
    let mut now = 0;
    c.bench_function("check/known_client", |b| {
        b.iter(|| {
            now += 34;
            black_box(limiter.check(black_box(client(1)), now))
        })
    });

    // 100003 known clients visited in a scattered order (a fixed step modulo
    // a prime), so most states are cold in cache; each comes back 10 s later
    // and is Allowed again.
    let known = 100_003u64;
    let limiter = ZoneLimiter::with_capacity(api, 50, CAPACITY);
    for i in 0..known {
        limiter.check(client(i), 0);
    }
    let (mut i, mut now) = (0u64, 0u64);
    c.bench_function("check/100k_known_clients", |b| {
        b.iter(|| {
            i = (i + 7_919) % known;
            now += 1;
            black_box(limiter.check(black_box(client(i)), now / 10))
        })
    });

    // A full zone whose states never decay (5r/m) meeting a new client each
    // time: look-up miss, eviction of the oldest, insertion.
    let limiter = ZoneLimiter::with_capacity(auth, 10, CAPACITY);
    for i in 0..CAPACITY as u64 {
        limiter.check(client(i), 0);
    }
    let mut next = CAPACITY as u64;
    c.bench_function("check/new_client_evicts", |b| {
        b.iter(|| {
            next += 1;
            black_box(limiter.check(black_box(client(next)), 0))
        })
    });
}

criterion_group!(benches, decisions);
criterion_main!(benches);
