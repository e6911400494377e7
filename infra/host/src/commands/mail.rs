//! `spinstack mail list`: the messages the embedded mail catcher kept.

use spinstack::embedded::mail;

use crate::cli::StateArgs;

pub fn list(args: &StateArgs) -> anyhow::Result<()> {
    let (state_dir, _) = super::reset::resolve(args)?;
    let dir = state_dir.join("mail");
    let messages = mail::list(&dir)?;
    if messages.is_empty() {
        println!("No mail in {}", mail::messages_dir(&dir).display());
    }
    for (file, to, subject) in messages {
        println!("{}\t{to}\t{subject}", file.display());
    }
    Ok(())
}
