//! `spinstack mail list`: the messages the embedded mail catcher kept;
//! `spinstack mail serve`: the catcher alone, for a stack whose app runs
//! elsewhere (the compose stack's `mail` service, one for every replica).

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

pub async fn serve(listen: std::net::SocketAddr, dir: &std::path::Path) -> anyhow::Result<()> {
    let catcher = mail::EmbeddedMail::start_on(dir, listen).await?;
    // As PID 1 in a container a signal without a handler is ignored: stop
    // on SIGTERM (docker stop) and SIGINT.
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        () = catcher.wait() => {}
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
