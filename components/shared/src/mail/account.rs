//! The account mails (plain text and HTML): a password reset link, an
//! address verification link, an address change's link and notice, and the
//! two-factor notices, to the web app at `public_url`. Tokens are in the links, so these strings are never logged
//! (see `mail`).

use crate::config;
use crate::mail::Message;
use crate::opaque_token::OpaqueToken;

/// Where the web app is, as users reach it (links in mail must be absolute).
const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:3000";

/// The `public_url` variable.
pub fn public_url() -> String {
    config::or_default("public_url", DEFAULT_PUBLIC_URL)
}

fn link(base: &str, page: &str, token: &OpaqueToken) -> String {
    // The token is in the fragment, which browsers never send: it cannot
    // reach an access log (nginx logs query strings), a proxy or a
    // `Referer`; the web app's page reads it from `location.hash`.
    // base64url needs no escaping there.
    format!(
        "{}/{page}#token={}",
        base.trim_end_matches('/'),
        token.expose()
    )
}

pub fn password_reset(base: &str, token: &OpaqueToken, ttl_seconds: u64) -> Message {
    let link = link(base, "reset-password", token);
    let minutes = ttl_seconds.div_ceil(60);
    message(
        "Reset your password",
        &format!(
            "Someone asked to reset the password of your account. To choose a new one, \
             open this link within {minutes} minutes:"
        ),
        &link,
        "If it was not you, ignore this mail: your password stays as it is.",
    )
}

pub fn verify_email(base: &str, token: &OpaqueToken) -> Message {
    let link = link(base, "verify-email", token);
    message(
        "Confirm your email address",
        "To confirm that this address is yours, open this link:",
        &link,
        "If you did not create an account, ignore this mail.",
    )
}

/// To the new address: the link that makes it the account's.
pub fn confirm_email_change(base: &str, token: &OpaqueToken) -> Message {
    let link = link(base, "confirm-email", token);
    message(
        "Confirm your new email address",
        "To make this the address of your account, open this link:",
        &link,
        "If you did not ask for this, ignore this mail: nothing changes.",
    )
}

/// To the old address, once the change is made: it names the new one, so
/// the owner can tell whether it was them.
pub fn email_changed(base: &str, new_address: &str) -> Message {
    let profile = format!("{}/profile", base.trim_end_matches('/'));
    message(
        "Your email address was changed",
        &format!(
            "The address of your account was changed to {new_address}. Mail for the \
             account goes there from now on."
        ),
        &profile,
        "If it was not you, reset your password from the sign-in page now.",
    )
}

/// The notice that two-factor sign-in was turned on or off: no token, a
/// link to the profile page where it is managed.
pub fn two_factor_changed(base: &str, enabled: bool) -> Message {
    let profile = format!("{}/profile", base.trim_end_matches('/'));
    let (subject, lead) = if enabled {
        (
            "Two-factor sign-in is on",
            "Two-factor sign-in was turned on for your account: signing in now also \
             takes a code from your authenticator app (or a recovery code).",
        )
    } else {
        (
            "Two-factor sign-in is off",
            "Two-factor sign-in was turned off for your account: signing in now takes \
             your password only.",
        )
    };
    message(
        subject,
        lead,
        &profile,
        "If it was not you, reset your password now and turn two-factor sign-in on again.",
    )
}

fn message(subject: &str, lead: &str, link: &str, footer: &str) -> Message {
    Message {
        subject: subject.to_owned(),
        text: format!("{lead}\n\n{link}\n\n{footer}\n"),
        html: format!(
            "<p>{}</p>\n<p><a href=\"{link}\">{link}</a></p>\n<p>{}</p>\n",
            escape(lead),
            escape(footer),
            link = escape(link),
        ),
    }
}

/// HTML text and attribute escaping (`public_url` is the operator's).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_parts_carry_the_link() {
        let token = OpaqueToken::generate().unwrap();
        let mail = password_reset(DEFAULT_PUBLIC_URL, &token, 1800);
        let link = format!(
            "http://127.0.0.1:3000/reset-password#token={}",
            token.expose()
        );
        assert!(mail.text.contains(&link));
        assert!(mail.html.contains(&format!("href=\"{link}\"")));
        assert!(mail.text.contains("30 minutes"));
        assert_eq!(escape("<a&\">"), "&lt;a&amp;&quot;&gt;");
    }
}
