//! Work done on a random share of requests (housekeeping sweeps), so no
//! request pays for it every time and no scheduler is needed.

/// True on about one call in `every`; never when `every` is 0 or the
/// random source fails.
pub fn one_in(every: u32) -> bool {
    let mut bytes = [0u8; 4];
    every != 0 && getrandom::fill(&mut bytes).is_ok() && u32::from_le_bytes(bytes) % every == 0
}

#[cfg(test)]
mod tests {
    use super::one_in;

    #[test]
    fn zero_is_never_and_one_is_always() {
        assert!(!one_in(0));
        assert!((0..100).all(|_| one_in(1)));
    }
}
