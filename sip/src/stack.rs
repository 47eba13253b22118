//! The SIP stack behind our own small interface: the only module that names `rsipstack`.
//!
//! rsipstack (pinned `=0.7.14`, no TLS features) gives us the UDP transport, transactions
//! (retransmissions, timers, ACK for 2xx), dialogs and digest authentication. Everything above it
//! speaks [`SipCommand`] (what to send) and [`LegEvent`] (what happened), so an upgrade or a
//! replacement of the stack touches this file only.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;

use rsipstack::dialog::DialogId;
use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver, TransactionHandle};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::dialog::registration::Registration;
use rsipstack::sip::SipMessage;
use rsipstack::sip::{Header, HeadersExt, Method, StatusCode, StatusCodeKind};
use rsipstack::transaction::CallIdFormat;
use rsipstack::transaction::endpoint::{Endpoint, EndpointOption, MessageInspector};
use rsipstack::transport::udp::UdpConnection;
use rsipstack::transport::{SipAddr, TransportLayer};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::call::{CallInput, SipCommand};
use faxline_protocol::mask_number;

use crate::called::{CalledHeaders, CalledPolicy, CalledSource, CalledVerdict, find_called};
use crate::registration::RegisterInput;
use crate::via::{InviteVias, tidy_received, top_value};

/// Why the SIP endpoint could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// Binding the SIP UDP socket failed.
    #[error("cannot bind SIP UDP socket on {0}: {1}")]
    Bind(SocketAddr, String),
    /// A SIP URI we were given does not parse.
    #[error("invalid SIP URI {0:?}")]
    BadUri(String),
    /// The stack refused to start the call.
    #[error("SIP stack error: {0}")]
    Stack(String),
}

/// Digest credentials for a trunk (kept out of `Debug`).
#[derive(Clone)]
pub struct SipCredentials {
    /// Digest username.
    pub username: String,
    /// Digest password.
    pub password: String,
}

impl std::fmt::Debug for SipCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SipCredentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// An outbound call to place.
#[derive(Debug, Clone, Default)]
pub struct DialTarget {
    /// Request-URI, e.g. `sip:5551234@trunk.example:5060`.
    pub uri: String,
    /// Our user part in From/Contact.
    pub from_user: String,
    /// The host part of our From URI (carriers that authenticate by From domain); `None` uses
    /// our SIP address. The Contact always carries our SIP address.
    pub from_domain: Option<String>,
    /// Digest credentials for 401/407 challenges (initial INVITE and in-dialog requests).
    pub credentials: Option<SipCredentials>,
    /// The caller's number presented in identity headers, for trunks that authenticate by From but
    /// show the caller from `P-Asserted-Identity` or `Remote-Party-ID`.
    pub identity: Option<CallerIdentity>,
}

/// The caller identity headers of an outbound INVITE. Both name `sip:<user>@<host>` with the host of
/// our From URI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The number presented (unmasked: mask before logging).
    pub user: String,
    /// Send `P-Asserted-Identity` (RFC 3325).
    pub pai: bool,
    /// Send `Remote-Party-ID` (draft-ietf-sip-privacy-04, still what many carriers read).
    pub rpid: bool,
}

impl CallerIdentity {
    /// The headers as `(name, value)` for a From host of `host`.
    pub fn headers(&self, host: &str) -> Vec<(&'static str, String)> {
        let uri = format!("<sip:{}@{host}>", self.user);
        let mut h = Vec::new();
        if self.pai {
            h.push(("P-Asserted-Identity", uri.clone()));
        }
        if self.rpid {
            h.push((
                "Remote-Party-ID",
                format!("{uri};party=calling;screen=yes;privacy=off"),
            ));
        }
        h
    }
}

/// Something that happened on one call leg: a [`CallInput`] for the call control, or the end of
/// the dialog as the stack sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegEvent {
    /// Feed this to the call's state machine.
    Call(CallInput),
    /// The stack has forgotten the dialog (after BYE/CANCEL/failure); no more events follow.
    Closed,
}

/// A call offered to us.
pub struct IncomingCall {
    /// The called number (one of ours), unmasked: mask before logging.
    pub called: String,
    /// Where in the INVITE the called number was found.
    pub called_from: CalledSource,
    /// The caller's user part from `From` (their number), if any; unmasked: mask before logging.
    pub caller: Option<String>,
    /// Send our answers and requests on this leg.
    pub leg: CallLeg,
    /// Events of this leg, starting with [`CallInput::Incoming`].
    pub events: mpsc::UnboundedReceiver<LegEvent>,
}

/// Our side of one dialog: commands go in here and are carried out in order by the stack.
#[derive(Clone)]
pub struct CallLeg {
    commands: mpsc::UnboundedSender<SipCommand>,
}

impl CallLeg {
    /// Queues a SIP command. After the leg closed it is dropped silently (nothing can be sent
    /// in a dialog that no longer exists).
    pub fn send(&self, cmd: SipCommand) {
        let _ = self.commands.send(cmd);
    }
}

/// A SIP user agent on one UDP socket.
pub struct SipEndpoint {
    endpoint: Endpoint,
    dialogs: Arc<DialogLayer>,
    local: SocketAddr,
    cancel: CancellationToken,
}

impl SipEndpoint {
    /// Binds a SIP endpoint on `addr` (port 0 for any) and starts serving it on the current tokio
    /// runtime. Incoming calls for the numbers `called` answers arrive on the returned channel;
    /// others are answered 404 (and logged).
    pub async fn bind(
        addr: SocketAddr,
        called: CalledPolicy,
    ) -> Result<(Self, mpsc::UnboundedReceiver<IncomingCall>), StackError> {
        Self::bind_with_external(addr, None, called).await
    }

    /// [`bind`](Self::bind) behind NAT: `external` (the public address and port that forward to `addr`)
    /// is what our Via and Contact headers carry, so the far end's requests and responses find us.
    pub async fn bind_with_external(
        addr: SocketAddr,
        external: Option<SocketAddr>,
        called: CalledPolicy,
    ) -> Result<(Self, mpsc::UnboundedReceiver<IncomingCall>), StackError> {
        let cancel = CancellationToken::new();
        let transport = TransportLayer::new(cancel.clone());
        let conn = UdpConnection::create_connection(addr, external, Some(cancel.child_token()))
            .await
            .map_err(|e| StackError::Bind(addr, e.to_string()))?;
        let local = conn.get_addr().addr.clone();
        let local: SocketAddr = local
            .to_string()
            .parse()
            .map_err(|_| StackError::Bind(addr, local.to_string()))?;
        transport.add_transport(conn.into());
        let endpoint = rsipstack::EndpointBuilder::new()
            .with_cancel_token(cancel.clone())
            .with_transport_layer(transport)
            .with_user_agent("faxline")
            .with_inspector(Box::new(ViaFixes::default()))
            .with_option(EndpointOption {
                // A random token, never the stack's default `…@restsend.com` (or one of our addresses).
                callid_format: CallIdFormat::Uuid,
                ..EndpointOption::default()
            })
            .build();
        let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let mut incoming = endpoint
            .incoming_transactions()
            .map_err(|e| StackError::Stack(e.to_string()))?;
        let inner = endpoint.inner.clone();
        let serve_cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::select! {
                r = inner.serve() => if let Err(e) = r { warn!(error = %e, "SIP endpoint stopped") },
                _ = serve_cancel.cancelled() => {}
            }
        });
        let (calls_tx, calls_rx) = mpsc::unbounded_channel();
        let layer = dialogs.clone();
        let route_cancel = cancel.clone();
        tokio::spawn(async move {
            loop {
                let mut tx = tokio::select! {
                    t = incoming.recv() => match t { Some(t) => t, None => break },
                    _ = route_cancel.cancelled() => break,
                };
                let in_dialog = tx
                    .original
                    .to_header()
                    .ok()
                    .and_then(|t| t.tag().ok().flatten())
                    .is_some();
                if in_dialog || tx.original.method != Method::Invite {
                    match layer.match_dialog(&tx) {
                        Some(mut d) => {
                            tokio::spawn(async move {
                                if let Err(e) = d.handle(&mut tx).await {
                                    debug!(error = %e, "in-dialog request failed");
                                }
                            });
                        }
                        None if tx.original.method == Method::Ack => {}
                        None if tx.original.method == Method::Options => {
                            let _ = tx.reply(StatusCode::OK).await;
                        }
                        None => {
                            let _ = tx.reply(StatusCode::CallTransactionDoesNotExist).await;
                        }
                    }
                    continue;
                }
                let caller = tx
                    .original
                    .from_header()
                    .ok()
                    .and_then(|f| f.uri().ok())
                    .and_then(|u| u.user().map(str::to_string))
                    .filter(|u| !u.is_empty());
                let found = match find_called(&called_headers(&tx.original), &called) {
                    CalledVerdict::Ours(c) => c,
                    CalledVerdict::Unknown(guess) => {
                        info!(
                            to = %guess.as_ref().map(|c| mask_number(&c.number)).unwrap_or_default(),
                            source = %guess.as_ref().map_or("none", |c| c.source.name()),
                            from = %caller.as_deref().map(mask_number).unwrap_or_default(),
                            status = 404,
                            "inbound call refused: not one of our numbers"
                        );
                        let _ = tx.reply(StatusCode::NotFound).await;
                        continue;
                    }
                };
                debug!(to = %mask_number(&found.number), source = %found.source, "called number found");
                let (state_tx, state_rx) = layer.new_dialog_state_channel();
                let dialog = match layer.get_or_create_server_invite(&tx, state_tx, None, None) {
                    Ok(d) => d,
                    Err(e) => {
                        warn!(error = %e, to = %mask_number(&found.number), status = 500,
                            "inbound call refused: cannot create its dialog");
                        let _ = tx.reply(StatusCode::ServerInternalError).await;
                        continue;
                    }
                };
                let sdp = body_text(tx.original.body());
                let (leg, events) = spawn_leg(layer.clone(), Some(dialog.clone()), state_rx, None);
                let _ = leg_event_sender(&events).send(LegEvent::Call(CallInput::Incoming { sdp }));
                let mut d = dialog;
                tokio::spawn(async move {
                    if let Err(e) = d.handle(&mut tx).await {
                        debug!(error = %e, "initial INVITE transaction ended with an error");
                    }
                });
                if calls_tx
                    .send(IncomingCall {
                        called: found.number,
                        called_from: found.source,
                        caller,
                        leg,
                        events: events.rx,
                    })
                    .is_err()
                {
                    break;
                }
            }
        });
        Ok((
            Self {
                endpoint,
                dialogs,
                local,
                cancel,
            },
            calls_rx,
        ))
    }

    /// The bound SIP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Prepares an outbound call; the INVITE goes out on [`SipCommand::Invite`].
    pub fn dial(
        &self,
        target: DialTarget,
    ) -> Result<(CallLeg, mpsc::UnboundedReceiver<LegEvent>), StackError> {
        let callee: rsipstack::sip::Uri = target
            .uri
            .parse()
            .map_err(|_| StackError::BadUri(target.uri.clone()))?;
        let uri = |host: &str| {
            let text = format!("sip:{}@{host}", target.from_user);
            text.parse::<rsipstack::sip::Uri>()
                .map_err(|_| StackError::BadUri(text))
        };
        let local = self.local.to_string();
        let contact = uri(&local)?;
        let from_host = target.from_domain.as_deref().unwrap_or(&local);
        let caller = uri(from_host)?;
        let headers = target.identity.as_ref().map(|id| {
            id.headers(from_host)
                .into_iter()
                .map(|(name, value)| Header::Other(name.into(), value))
                .collect::<Vec<_>>()
        });
        let credential = target.credentials.map(|c| Credential {
            username: c.username,
            password: c.password,
            realm: None,
            auth_username: None,
        });
        let option = InviteOption {
            caller: caller.clone(),
            callee,
            contact,
            content_type: Some("application/sdp".into()),
            credential,
            headers: headers.filter(|h| !h.is_empty()),
            ..Default::default()
        };
        let (state_tx, state_rx) = self.dialogs.new_dialog_state_channel();
        let (leg, events) = spawn_leg(
            self.dialogs.clone(),
            None,
            state_rx,
            Some((option, state_tx)),
        );
        Ok((leg, events.rx))
    }

    /// A REGISTER client for `registrar` (e.g. `sip:trunk.example:5060`) as `credentials`'
    /// user, answering 401/407 challenges with digest authentication. Refreshes reuse its Call-ID
    /// and CSeq sequence (RFC 3261 §10.2.4).
    pub fn trunk_registration(
        &self,
        registrar: &str,
        credentials: Option<SipCredentials>,
    ) -> Result<TrunkRegistration, StackError> {
        let server: rsipstack::sip::Uri = registrar
            .parse()
            .map_err(|_| StackError::BadUri(registrar.to_string()))?;
        let credential = credentials.map(|c| Credential {
            username: c.username,
            password: c.password,
            realm: None,
            auth_username: None,
        });
        Ok(TrunkRegistration {
            inner: Registration::new(self.endpoint.inner.clone(), credential),
            server,
        })
    }

    /// Stops the endpoint: transport, transactions and routing tasks end.
    pub fn shutdown(&self) {
        self.cancel.cancel();
        self.endpoint.shutdown();
    }
}

impl Drop for SipEndpoint {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// REGISTER transactions towards one registrar (see [`SipEndpoint::trunk_registration`]).
pub struct TrunkRegistration {
    inner: Registration,
    server: rsipstack::sip::Uri,
}

impl TrunkRegistration {
    /// One REGISTER asking for `expires` seconds (0 removes the binding), digest challenge
    /// included; the result for the registration policy.
    pub async fn register(&mut self, expires: u32) -> RegisterInput {
        match self
            .inner
            .register(self.server.clone(), Some(expires))
            .await
        {
            Ok(resp) if resp.status_code.kind() == StatusCodeKind::Successful => {
                RegisterInput::Registered {
                    granted: if expires == 0 {
                        0
                    } else {
                        self.inner.expires()
                    },
                }
            }
            Ok(resp) if resp.status_code.code() == 423 => RegisterInput::IntervalTooBrief {
                min_expires: resp
                    .min_expires_header()
                    .and_then(|h| h.value().trim().parse().ok()),
            },
            Ok(resp) => RegisterInput::Rejected(resp.status_code.code()),
            Err(e) => {
                debug!(error = %e, "REGISTER failed");
                RegisterInput::Failed
            }
        }
    }
}

struct Events {
    tx: mpsc::UnboundedSender<LegEvent>,
    rx: mpsc::UnboundedReceiver<LegEvent>,
}

fn leg_event_sender(e: &Events) -> &mpsc::UnboundedSender<LegEvent> {
    &e.tx
}

type PendingInvite = (InviteOption, rsipstack::dialog::dialog::DialogStateSender);

/// One task per leg: carries out commands in order and turns dialog states into events.
fn spawn_leg(
    layer: Arc<DialogLayer>,
    dialog: Option<InviteDialog>,
    mut states: DialogStateReceiver,
    outbound: Option<PendingInvite>,
) -> (CallLeg, Events) {
    let (cmd_tx, mut cmd_rx) = mpsc::unbounded_channel::<SipCommand>();
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    let events = ev_tx.clone();
    tokio::spawn(async move {
        let mut dialog = dialog;
        let mut outbound = outbound;
        let mut pending: Option<TransactionHandle> = None;
        let mut invite: Option<tokio::task::JoinHandle<()>> = None;
        let mut bye_sent = false;
        let inbound = outbound.is_none();
        let mut connected = false;
        let mut ids: HashSet<DialogId> = HashSet::new();
        let (result_tx, mut result_rx) = mpsc::unbounded_channel::<LegEvent>();
        loop {
            tokio::select! {
                cmd = cmd_rx.recv() => {
                    let Some(cmd) = cmd else { break };
                    match cmd {
                        SipCommand::Invite { sdp } => {
                            let Some((mut option, state_tx)) = outbound.take() else { continue };
                            option.offer = Some(sdp.into_bytes());
                            match layer.do_invite_async(option, state_tx) {
                                Ok((d, join)) => {
                                    dialog = Some(d);
                                    let results = result_tx.clone();
                                    invite = Some(tokio::spawn(async move {
                                        let ev = match join.await {
                                            Ok(Ok((_, Some(resp)))) if resp.status_code.kind() == StatusCodeKind::Successful => {
                                                CallInput::Answered { sdp: body_text(resp.body()) }
                                            }
                                            Ok(Ok((_, Some(resp)))) => CallInput::Rejected(resp.status_code.code()),
                                            Ok(Ok((_, None))) => CallInput::Rejected(487),
                                            Ok(Err(e)) => { debug!(error = %e, "INVITE failed"); CallInput::Rejected(408) }
                                            Err(_) => CallInput::Rejected(500),
                                        };
                                        let _ = results.send(LegEvent::Call(ev));
                                    }));
                                }
                                Err(e) => {
                                    warn!(error = %e, "cannot send INVITE");
                                    let _ = events.send(LegEvent::Call(CallInput::Rejected(500)));
                                }
                            }
                        }
                        SipCommand::Cancel => if let Some(d) = &dialog
                            && let Err(e) = d.cancel().await
                        {
                            debug!(error = %e, "CANCEL failed");
                        },
                        SipCommand::Accept { sdp } => if let Some(d) = &dialog {
                            connected = true;
                            if let Err(e) = d.accept(Some(vec![sdp_type()]), Some(sdp.into_bytes())) { warn!(error = %e, "accept failed") }
                        },
                        SipCommand::Reject { code } => if let Some(d) = &dialog {
                            let _ = d.reject(Some(StatusCode::from(code)), None);
                        },
                        SipCommand::Reinvite { sdp } => if let Some(d) = dialog.clone() {
                            let results = result_tx.clone();
                            tokio::spawn(async move {
                                let ev = match d.reinvite(Some(vec![sdp_type()]), Some(sdp.into_bytes())).await {
                                    Ok(Some(resp)) => CallInput::ReinviteResponse { code: resp.status_code.code(), sdp: body_text(resp.body()) },
                                    Ok(None) => CallInput::ReinviteResponse { code: 481, sdp: None },
                                    Err(e) => { debug!(error = %e, "re-INVITE failed"); CallInput::ReinviteResponse { code: 408, sdp: None } }
                                };
                                let _ = results.send(LegEvent::Call(ev));
                            });
                        },
                        SipCommand::AnswerReinvite { code, sdp } => if let Some(h) = pending.take() {
                            let headers = sdp.as_ref().map(|_| vec![sdp_type()]);
                            let _ = h.respond(StatusCode::from(code), headers, sdp.map(String::into_bytes)).await;
                        },
                        SipCommand::Bye => if let Some(d) = &dialog {
                            bye_sent = true;
                            if let Err(e) = d.hangup().await { debug!(error = %e, "BYE failed") }
                        },
                    }
                }
                Some(ev) = result_rx.recv() => {
                    if matches!(ev, LegEvent::Call(CallInput::Answered { .. })) { connected = true; }
                    let _ = events.send(ev);
                }
                state = states.recv() => {
                    let Some(state) = state else { break };
                    match state {
                        DialogState::Early(id, resp) => {
                            ids.insert(id);
                            let _ = events.send(LegEvent::Call(CallInput::Provisional(resp.status_code.code())));
                        }
                        DialogState::Updated(id, req, handle) => {
                            ids.insert(id);
                            let sdp = body_text(req.body());
                            pending = Some(handle);
                            let _ = events.send(LegEvent::Call(CallInput::PeerReinvite { sdp }));
                        }
                        DialogState::Options(_, _, handle) | DialogState::Info(_, _, handle) => {
                            let _ = handle.reply(StatusCode::OK).await;
                        }
                        DialogState::Notify(_, _, handle) | DialogState::Message(_, _, handle)
                        | DialogState::Refer(_, _, handle) | DialogState::Publish(_, _, handle) => {
                            let _ = handle.reply(StatusCode::NotImplemented).await;
                        }
                        DialogState::Confirmed(id, _) | DialogState::WaitAck(id, _) | DialogState::Calling(id)
                        | DialogState::Trying(id) => { ids.insert(id); }
                        DialogState::Terminated(id, reason) => {
                            debug!(?reason, "dialog terminated");
                            layer.remove_dialog(&id);
                            for other in ids.drain() { layer.remove_dialog(&other); }
                            if !bye_sent && connected {
                                let _ = events.send(LegEvent::Call(CallInput::PeerBye));
                            } else if !bye_sent && inbound {
                                let _ = events.send(LegEvent::Call(CallInput::Cancelled));
                            }
                            // Let a pending INVITE result through before closing.
                            if let Some(j) = invite.take() { let _ = j.await; }
                            while let Ok(ev) = result_rx.try_recv() { let _ = events.send(ev); }
                            let _ = events.send(LegEvent::Closed);
                            break;
                        }
                    }
                }
            }
        }
    });
    (
        CallLeg { commands: cmd_tx },
        Events {
            tx: ev_tx,
            rx: ev_rx,
        },
    )
}

/// The Via corrections of [`crate::via`], applied to every message the stack sends.
#[derive(Default)]
struct ViaFixes {
    invites: std::sync::Mutex<InviteVias>,
}

impl MessageInspector for ViaFixes {
    fn before_send(&self, msg: SipMessage, _dest: Option<&SipAddr>) -> SipMessage {
        match msg {
            SipMessage::Request(mut req) => {
                let Some(top) = req.headers.iter_mut().find_map(|h| match h {
                    Header::Via(v) => Some(v),
                    _ => None,
                }) else {
                    return req.into();
                };
                let Ok(mut invites) = self.invites.lock() else {
                    return req.into();
                };
                let value = top.value().to_owned();
                if req.method == Method::Invite {
                    invites.sent_invite(top_value(&value));
                } else if req.method == Method::Ack
                    && let Some(ours) = invites.for_ack(top_value(&value))
                {
                    let rest = value.split_once(',').map(|(_, r)| r);
                    *top = rsipstack::sip::headers::Via::new(match rest {
                        Some(r) => format!("{ours},{r}"),
                        None => ours.to_owned(),
                    });
                }
                req.into()
            }
            SipMessage::Response(mut resp) => {
                if let Some(top) = resp.headers.iter_mut().find_map(|h| match h {
                    Header::Via(v) => Some(v),
                    _ => None,
                }) {
                    let value = top.value().to_owned();
                    if let Some(tidy) = tidy_received(top_value(&value)) {
                        let rest = value.split_once(',').map(|(_, r)| r);
                        *top = rsipstack::sip::headers::Via::new(match rest {
                            Some(r) => format!("{tidy},{r}"),
                            None => tidy,
                        });
                    }
                }
                resp.into()
            }
        }
    }

    fn after_received(&self, msg: SipMessage, _from: Option<&SipAddr>) -> SipMessage {
        msg
    }
}

/// The addressing headers of an INVITE for [`find_called`].
fn called_headers(req: &rsipstack::sip::Request) -> CalledHeaders {
    // By name: the stack types some of these (Diversion, History-Info) and leaves others untyped.
    let other = |wanted: &str| {
        req.headers
            .iter()
            .find(|h| h.name().eq_ignore_ascii_case(wanted))
            .map(|h| h.value().to_owned())
    };
    CalledHeaders {
        request_uri_user: req.uri.user().map(str::to_string),
        to: req.to_header().ok().map(|t| t.value().to_string()),
        p_called_party_id: other("P-Called-Party-ID"),
        diversion: other("Diversion"),
        history_info: other("History-Info"),
    }
}

fn sdp_type() -> Header {
    Header::ContentType("application/sdp".into())
}

fn body_text(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        None
    } else {
        Some(String::from_utf8_lossy(body).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::CallerIdentity;

    #[test]
    fn identity_headers_carry_the_number_at_the_from_host() {
        let both = CallerIdentity {
            user: "+15550100".into(),
            pai: true,
            rpid: true,
        };
        assert_eq!(
            both.headers("sip.example.net"),
            vec![
                (
                    "P-Asserted-Identity",
                    "<sip:+15550100@sip.example.net>".into()
                ),
                (
                    "Remote-Party-ID",
                    "<sip:+15550100@sip.example.net>;party=calling;screen=yes;privacy=off".into()
                ),
            ]
        );
        let none = CallerIdentity {
            pai: false,
            rpid: false,
            ..both
        };
        assert!(none.headers("h").is_empty());
    }
}
