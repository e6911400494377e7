//! The limiter against hand-computed nginx `limit_req ... nodelay` behaviour.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::GatewayConfig;

const A: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
const B: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2));
const C: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 3));
const D: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 4));

fn zone(rate: &str, burst: u32) -> ZoneLimiter {
    ZoneLimiter::with_capacity(Rate::parse(rate).unwrap(), burst, 10_000)
}

fn committed(name: &str) -> ZoneLimiter {
    ZoneLimiter::new(GatewayConfig::default().zone(name).unwrap())
}

/// How many of `n` requests at the same instant pass.
fn admitted_at_once(limiter: &ZoneLimiter, client: IpAddr, now: u64, n: usize) -> usize {
    (0..n)
        .filter(|_| limiter.check(client, now) == Verdict::Allowed)
        .count()
}

fn limited(retry_after_secs: u64) -> Verdict {
    Verdict::Limited { retry_after_secs }
}

#[test]
fn one_plus_burst_requests_pass_at_once() {
    let api = committed("api");
    assert_eq!(admitted_at_once(&api, A, 1_000, 100), 51);
    let auth = committed("auth");
    assert_eq!(admitted_at_once(&auth, A, 1_000, 100), 6);
    let no_burst = zone("10r/s", 0);
    assert_eq!(admitted_at_once(&no_burst, A, 1_000, 100), 1);
}

#[test]
fn five_a_minute_exact_timings() {
    // 5r/m is 83 thousandths a second (nginx truncates), so a refused client
    // waits ceil(1000 * 1000 / 83) = 12049 ms after its last admitted request.
    let auth = committed("auth");
    assert_eq!(admitted_at_once(&auth, A, 0, 6), 6);
    assert_eq!(auth.check(A, 0), limited(13));
    assert_eq!(auth.check(A, 1_000), limited(12));
    assert_eq!(auth.check(A, 12_000), limited(1));
    assert_eq!(auth.check(A, 12_048), limited(1));
    assert_eq!(auth.check(A, 12_049), Verdict::Allowed);
    // Admitted at the edge: the bucket is full again, the next one waits a whole period.
    assert_eq!(auth.check(A, 12_049), limited(13));
    assert_eq!(auth.check(A, 24_097), limited(1));
    assert_eq!(auth.check(A, 24_098), Verdict::Allowed);
    // A minute of hammering gets at most five through.
    let passed = (24_099..84_099)
        .step_by(100)
        .filter(|&t| auth.check(A, t) == Verdict::Allowed)
        .count();
    assert_eq!(passed, 4, "at 36.199, 48.299, 60.399 and 72.499 s");
}

#[test]
fn a_steady_rate_at_the_limit_is_never_refused() {
    let limiter = zone("10r/s", 5);
    for i in 0..10_000 {
        assert_eq!(limiter.check(A, i * 100), Verdict::Allowed, "request {i}");
    }
    // 30r/s is not a whole number of milliseconds apart: every 34 ms is just under it.
    let api = committed("api");
    for i in 0..10_000 {
        assert_eq!(api.check(A, i * 34), Verdict::Allowed, "request {i}");
    }
}

#[test]
fn twice_the_rate_passes_rate_plus_burst() {
    // 10r/s, burst 5, one request every 50 ms for 10 s: the first 11 pass (at
    // 0..=500 ms, excess rising by 500 each), then every other one.
    let limiter = zone("10r/s", 5);
    let decisions: Vec<Verdict> = (0..200).map(|i| limiter.check(A, i * 50)).collect();
    let passed = decisions.iter().filter(|v| **v == Verdict::Allowed).count();
    assert_eq!(passed, 105, "10 s x 10r/s + burst 5");
    assert!(decisions[..11].iter().all(|v| *v == Verdict::Allowed));
    for (i, decision) in decisions.iter().enumerate().skip(11) {
        let expected = if i % 2 == 0 {
            Verdict::Allowed
        } else {
            limited(1)
        };
        assert_eq!(*decision, expected, "request {i} at {} ms", i * 50);
    }
}

#[test]
fn slightly_above_the_limit_eventually_uses_up_the_burst() {
    // 30r/s every 33 ms is 30.3r/s: the excess grows by 10 a request, so the
    // burst of 50 (50000) lasts exactly 5001 requests, then 1 in 101 is refused.
    let api = committed("api");
    let first_refusal = (0..20_000u64).find(|&i| api.check(A, i * 33) != Verdict::Allowed);
    assert_eq!(first_refusal, Some(5_001));
}

#[test]
fn an_idle_gap_restores_the_whole_burst() {
    // The api bucket after 51 requests holds 50000; it drains 30 a millisecond,
    // and a request adds 1000: empty again for a request after 1700 ms.
    let api = committed("api");
    assert_eq!(admitted_at_once(&api, A, 0, 51), 51);
    assert_eq!(admitted_at_once(&api, A, 1_700, 100), 51);

    let api = committed("api");
    assert_eq!(admitted_at_once(&api, A, 0, 51), 51);
    assert_eq!(
        admitted_at_once(&api, A, 1_699, 100),
        50,
        "30 thousandths short"
    );

    let auth = committed("auth");
    assert_eq!(admitted_at_once(&auth, A, 0, 6), 6);
    // 6000 to drain at 83 a second: 72.29 s.
    assert_eq!(admitted_at_once(&auth, A, 72_289, 10), 5);
    let auth = committed("auth");
    assert_eq!(admitted_at_once(&auth, A, 0, 6), 6);
    assert_eq!(admitted_at_once(&auth, A, 72_290, 10), 6);
}

#[test]
fn refused_requests_are_not_charged() {
    let auth = committed("auth");
    assert_eq!(admitted_at_once(&auth, A, 0, 6), 6);
    for t in (0..12_049).step_by(7) {
        assert!(matches!(auth.check(A, t), Verdict::Limited { .. }));
    }
    // A thousand refusals later, the client passes exactly when it would have anyway.
    assert_eq!(auth.check(A, 12_049), Verdict::Allowed);
}

#[test]
fn clients_are_independent() {
    let auth = committed("auth");
    assert_eq!(admitted_at_once(&auth, A, 0, 10), 6);
    assert_eq!(admitted_at_once(&auth, B, 0, 10), 6);
    assert_eq!(auth.check(A, 1), limited(13));
    assert_eq!(admitted_at_once(&auth, C, 5, 3), 3);
    assert_eq!(admitted_at_once(&auth, C, 5, 3), 3);
    assert_eq!(auth.check(C, 5), limited(13));
}

#[test]
fn ipv4_mapped_ipv6_is_the_same_client() {
    let auth = committed("auth");
    let mapped = IpAddr::V6(Ipv4Addr::new(198, 51, 100, 1).to_ipv6_mapped());
    assert_eq!(admitted_at_once(&auth, A, 0, 3), 3);
    assert_eq!(admitted_at_once(&auth, mapped, 0, 10), 3);
}

#[test]
fn retry_after_is_the_rounded_up_wait() {
    let api = committed("api");
    assert_eq!(admitted_at_once(&api, A, 0, 51), 51);
    // ceil(1000 * 1000 / 30000) = 34 ms.
    assert_eq!(api.check(A, 0), limited(1));
    assert_eq!(api.check(A, 33), limited(1));
    assert_eq!(api.check(A, 34), Verdict::Allowed);

    let slow = zone("1r/m", 0);
    // 1r/m is 16 thousandths a second: 62.5 s between requests.
    assert_eq!(slow.check(A, 0), Verdict::Allowed);
    assert_eq!(slow.check(A, 0), limited(63));
    assert_eq!(slow.check(A, 500), limited(62));
    assert_eq!(slow.check(A, 61_500), limited(1));
    assert_eq!(slow.check(A, 62_499), limited(1));
    assert_eq!(slow.check(A, 62_500), Verdict::Allowed);
}

#[test]
fn a_clock_going_back_counts_as_no_time() {
    let auth = committed("auth");
    assert_eq!(admitted_at_once(&auth, A, 50_000, 6), 6);
    assert_eq!(auth.check(A, 10_000), limited(13));
    assert_eq!(auth.check(A, 62_048), limited(1));
    assert_eq!(auth.check(A, 62_049), Verdict::Allowed);
}

#[test]
fn a_million_distinct_clients_never_exceed_the_capacity() {
    // auth: no state decays within the flood's second, so the least recently
    // seen clients are pushed out. api: states decay after 34 ms and are
    // dropped as new clients come.
    for (name, nearly_full) in [("auth", true), ("api", false)] {
        let limiter = committed(name);
        let capacity = limiter.capacity();
        assert_eq!(capacity, 10 * 1024 * 1024 / 64, "10m keeps 163840 clients");
        for i in 0..1_000_000u32 {
            let client = IpAddr::V6(Ipv6Addr::from(0x2001_0db8_u128 << 96 | u128::from(i)));
            assert_eq!(limiter.check(client, u64::from(i / 1000)), Verdict::Allowed);
            if i % 50_000 == 0 {
                assert!(
                    limiter.len() <= capacity,
                    "{name}: {} clients",
                    limiter.len()
                );
            }
        }
        let kept = limiter.len();
        assert!(kept <= capacity, "{name}: {kept} clients");
        assert_eq!(
            kept > capacity - capacity / 10,
            nearly_full,
            "{name}: {kept} clients"
        );
    }
}

#[test]
fn decayed_clients_are_dropped_before_full() {
    let limiter = ZoneLimiter::with_shards(Rate::parse("30r/s").unwrap(), 50, 1_000, 1);
    // One request each, 100 ms apart: each state is worthless 34 ms later,
    // so each new client drops the previous ones.
    for i in 0..10_000u32 {
        let client = IpAddr::V4(Ipv4Addr::from(i));
        assert_eq!(limiter.check(client, u64::from(i) * 100), Verdict::Allowed);
        assert!(limiter.len() <= 2, "{} clients kept", limiter.len());
    }
}

#[test]
fn when_full_the_least_recently_seen_client_is_forgotten() {
    let limiter = ZoneLimiter::with_shards(Rate::parse("5r/m").unwrap(), 0, 3, 1);
    for client in [A, B, C] {
        assert_eq!(limiter.check(client, 0), Verdict::Allowed);
    }
    assert_eq!(
        limiter.check(A, 1),
        limited(13),
        "A seen again: now the most recent"
    );
    assert_eq!(
        limiter.check(D, 2),
        Verdict::Allowed,
        "a fourth client pushes B out"
    );
    assert_eq!(limiter.len(), 3);
    assert_eq!(limiter.check(A, 3), limited(13), "A is still limited");
    assert_eq!(limiter.check(C, 3), limited(13), "C is still limited");
    assert_eq!(limiter.check(B, 3), Verdict::Allowed, "B was forgotten");
}

#[test]
fn threads_sharing_a_client_get_exactly_the_burst() {
    let api = Arc::new(committed("api"));
    let admitted = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (api, admitted) = (Arc::clone(&api), Arc::clone(&admitted));
            std::thread::spawn(move || {
                for _ in 0..100 {
                    if api.check(A, 5) == Verdict::Allowed {
                        admitted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(admitted.load(Ordering::Relaxed), 51);
}

#[test]
fn small_zones_use_one_shard_and_large_ones_sixteen() {
    assert_eq!(zone("1r/s", 0).shards.len(), 8);
    let small = ZoneLimiter::with_capacity(Rate::parse("1r/s").unwrap(), 0, 512);
    assert_eq!((small.shards.len(), small.capacity()), (1, 512));
    let large = ZoneLimiter::with_capacity(Rate::parse("1r/s").unwrap(), 0, 163_840);
    assert_eq!((large.shards.len(), large.capacity()), (16, 163_840));
    assert!(small.is_empty());
}
