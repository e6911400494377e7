//! Random bytes from the host's CSPRNG (WASI `random`), for every secret
//! the components make: tokens, TOTP secrets, recovery codes, nonces.

use crate::Problem;

pub fn bytes<const N: usize>() -> Result<[u8; N], Problem> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| {
        eprintln!("random: no randomness: {e}");
        Problem::internal()
    })?;
    Ok(bytes)
}
