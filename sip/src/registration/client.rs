//! Runs a [`RegisterPolicy`] over a [`TrunkRegistration`] on the tokio runtime until stopped.

use std::time::Instant;

use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

use super::policy::{RegisterAction, RegisterPolicy, RegistrationEvent};
use crate::stack::TrunkRegistration;

/// The running registration of one trunk.
pub struct RegistrationHandle {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RegistrationHandle {
    /// Unregisters (`Expires: 0`, when a binding may exist) and waits until that is done. Call it
    /// before shutting the SIP endpoint down.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Starts registering: REGISTER now, refresh before expiry, retry with backoff. `events` gets
/// every [`RegistrationEvent`].
pub fn start(
    mut trunk: TrunkRegistration,
    expires: u32,
    events: mpsc::UnboundedSender<RegistrationEvent>,
) -> RegistrationHandle {
    let (stop_tx, mut stop_rx) = oneshot::channel();
    let task = tokio::spawn(async move {
        let mut policy = RegisterPolicy::new(expires);
        let mut stop_seen = false;
        policy.start();
        loop {
            while let Some(ev) = policy.poll_event() {
                match ev {
                    RegistrationEvent::Registered { granted } => {
                        info!(granted, "registered with the trunk")
                    }
                    RegistrationEvent::Failed { code } => {
                        warn!(?code, "trunk registration failed; retrying")
                    }
                    RegistrationEvent::Unregistered => info!("trunk registration ended"),
                }
                let _ = events.send(ev);
            }
            match policy.poll_action() {
                Some(RegisterAction::Register { expires }) => {
                    let result = trunk.register(expires).await;
                    policy.handle_input(result, Instant::now());
                    continue;
                }
                Some(RegisterAction::Stopped) => {
                    // Deliver the final event before leaving.
                    while let Some(ev) = policy.poll_event() {
                        let _ = events.send(ev);
                    }
                    break;
                }
                None => {}
            }
            let sleep = async {
                match policy.poll_timeout() {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = sleep => policy.handle_timeout(Instant::now()),
                _ = &mut stop_rx, if !stop_seen => {
                    stop_seen = true;
                    policy.shutdown();
                }
            }
        }
    });
    RegistrationHandle {
        stop: Some(stop_tx),
        task,
    }
}
