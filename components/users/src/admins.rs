//! The last-admin rule: an admin cannot be demoted or deleted when no other
//! active admin would remain (409).
//!
//! The statements that demote or delete lock every admin row first
//! (`FOR UPDATE`), so two admins demoting each other at once are serialised:
//! the second sees the first's change and is refused.

/// A CTE (`admins`, without the `WITH`, so that data-modifying CTEs can
/// follow it) locking the active admins, and the condition that `$1` may
/// stop being one: it is not an admin, or another admin remains.
pub const LOCK_ADMINS: &str =
    "admins AS (SELECT id FROM users WHERE role = 'admin' AND active FOR UPDATE)";
pub const MAY_STOP_BEING_ADMIN: &str = "(NOT EXISTS (SELECT 1 FROM admins WHERE admins.id = $1) \
     OR (SELECT count(*) FROM admins WHERE admins.id <> $1) > 0)";

pub fn last_admin() -> spinstack_shared::Problem {
    spinstack_shared::Problem::conflict("This is the last admin: make another user an admin first.")
}
