//! Random bytes from the host's CSPRNG (WASI `random`), for every secret
//! this component makes: tokens, TOTP secrets, recovery codes, nonces.

use spinstack_shared::Problem;

pub fn bytes<const N: usize>() -> Result<[u8; N], Problem> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| {
        eprintln!("auth: no randomness: {e}");
        Problem::internal()
    })?;
    Ok(bytes)
}
