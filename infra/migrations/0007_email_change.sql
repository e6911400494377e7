-- 0007: changing the account's address (README.md, "Accounts: password
-- reset, email verification and email change"). PATCH /api/users/me with a
-- new `email` mails a link to that address: an account_tokens row of purpose
-- 'email_change' whose `email` is the new address. The address changes only
-- when the link is used (POST /api/auth/email-change/confirm), and the old
-- address is told then.
ALTER TABLE account_tokens DROP CONSTRAINT account_tokens_purpose_check;
ALTER TABLE account_tokens ADD CONSTRAINT account_tokens_purpose_check
    CHECK (purpose IN ('password_reset', 'verify_email', 'email_change'));
