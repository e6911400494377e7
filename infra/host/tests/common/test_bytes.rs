//! Upload bodies for tests: reproducible from a seed, different for every
//! seed, and never starting with a file signature the content check knows.

/// `len` pseudo-random bytes of `seed` (xorshift, the seed spread first so
/// that neighbouring seeds differ), starting with `x` so that no file
/// signature (an executable's, say) can appear by chance.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    if let Some(first) = out.first_mut() {
        *first = b'x';
    }
    out
}
