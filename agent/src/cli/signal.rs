//! Stop requests for the server commands. SIGTERM (what Docker, systemd and Kubernetes send) and SIGINT
//! (Ctrl-C) both start a graceful shutdown; a second one while it runs ends the process at once (the agent's
//! call journal covers whatever was still running).
//!
//! The handlers are installed when [`StopSignals::install`] is called, first thing in a command, so a signal
//! during start-up is a stop request too and never the default "terminate now".

/// The installed handlers.
pub struct StopSignals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Installs the SIGTERM and SIGINT handlers (inside a tokio runtime).
    pub fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Waits for the first stop request and returns the signal's name; from then on, another one exits the
    /// process at once.
    pub async fn recv(mut self) -> &'static str {
        let name = self.next().await;
        tokio::spawn(async move {
            let again = self.next().await;
            tracing::warn!(
                signal = again,
                "second stop request: exiting now; the call journal reconciles running jobs"
            );
            std::process::exit(130);
        });
        name
    }

    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => "SIGTERM",
                _ = self.int.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}
