//! Call control of one fax call, sans-IO.
//!
//! [`FaxCall`] is a plain state machine following the sans-IO convention of `faxline_t38` (see
//! its crate docs): the SIP adapter feeds it what happened on the dialog
//! ([`FaxCall::handle_input`] with a [`CallInput`]), the runtime feeds it time
//! ([`FaxCall::handle_timeout`] when [`FaxCall::poll_timeout`] says), and it answers through
//! [`FaxCall::poll_action`] with [`CallAction`]s: SIP requests and responses to send, and when to
//! start or stop the fax session on which media. An outbound call is begun with
//! [`FaxCall::start`]. No sockets, no clocks of its own, so every path (refusals, glare,
//! refreshes, BYE mid-page) is a unit test.
//!
//! The T.38 behaviour follows what real peers expect (telephony.md §3.4, §6): the sender waits a
//! while for the far end's re-INVITE and then sends its own; the receiver re-INVITEs after a short
//! CED; a refused switch (488/415/606, or a declined image stream) falls back to G.711 audio with
//! the call kept up; session refreshes during T.38 are answered with the same image stream; the
//! call ends with a BYE and nothing is ever sent in the dialog after it.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use faxline_t38::sdp::{LocalT38Config, NegotiatedT38, T38Attributes};
use tracing::warn;

use crate::media_sdp::{MediaDescription, PCMA, PCMU, Stream};

/// Which side placed the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallRole {
    /// We sent the INVITE (we send the fax).
    Outbound,
    /// We answered an INVITE (we receive the fax).
    Inbound,
}

/// Our media addresses and the timing and fallback policy of a call.
#[derive(Debug, Clone)]
pub struct CallConfig {
    /// Address put in our SDP `c=` line.
    pub media_addr: IpAddr,
    /// Our RTP port for G.711 audio.
    pub audio_port: u16,
    /// Our UDPTL port for T.38.
    pub image_port: u16,
    /// The G.711 payload types we offer, best first (PCMU 0, PCMA 8). Offers we answer may use
    /// either; the first G.711 type in the offer's order is taken.
    pub g711: Vec<u8>,
    /// What we offer and accept for T.38 (negotiation and datagram sizing: `faxline_t38::sdp`).
    pub t38: LocalT38Config,
    /// Outbound: how long to wait after answer for the far end's T.38 re-INVITE before sending ours.
    pub t38_wait: Duration,
    /// Inbound: how long we are in audio (CED) after answering before our T.38 re-INVITE.
    pub ced: Duration,
    /// Inbound: run the fax in audio during that wait (CED, then DIS), as Asterisk's ReceiveFax
    /// does, so a G.711 caller hears a fax machine answer; the switch to T.38 restarts the fax
    /// on T.38 (telephony.md §5.3). Needs an RTP socket on the media side.
    pub ced_audio: bool,
    /// Outbound: run the fax in audio while waiting for the far end's re-INVITE, as Asterisk's
    /// SendFAX does: the far end hears CNG (some gateways switch to T.38 only on fax tones), and
    /// a G.711-only receiver can start T.30 at once. The switch to T.38 restarts the fax on T.38.
    pub cng_audio: bool,
    /// Use T.38 at all. Off: never re-INVITE to T.38, refuse the peer's T.38 offers (488, or the
    /// image stream declined next to accepted audio) and run the fax on G.711 from the answer on.
    pub t38_enabled: bool,
    /// Fall back to G.711 audio fax when T.38 is refused; otherwise hang up.
    pub audio_fallback: bool,
    /// Outbound: CANCEL when there is no final answer within this time.
    pub ring_timeout: Duration,
    /// Hard per-call watchdog: BYE after this much time connected (telephony.md §6.10).
    pub max_duration: Duration,
    /// After a 491 to our re-INVITE, retry after this long (RFC 3261 §14.1: 2.1–4 s as owner).
    pub glare_retry: Duration,
    /// How long we wait for the final answer to our T.38 re-INVITE before falling back to audio
    /// (res_fax `t38timeout`, 5 s) instead of SIP's 32 s Timer B. A 2xx accepting T.38 that
    /// arrives later still switches the call to T.38: the peer runs T.38 by then.
    pub t38_answer_timeout: Duration,
}

impl CallConfig {
    /// Defaults for real calls: wait 5 s for the far re-INVITE, 3 s CED, audio fallback on.
    pub fn new(media_addr: IpAddr, audio_port: u16, image_port: u16) -> Self {
        Self {
            media_addr,
            audio_port,
            image_port,
            g711: vec![PCMU, PCMA],
            t38: LocalT38Config::default(),
            t38_wait: Duration::from_secs(5),
            ced: Duration::from_secs(3),
            ced_audio: true,
            cng_audio: true,
            t38_enabled: true,
            audio_fallback: true,
            ring_timeout: Duration::from_secs(60),
            max_duration: Duration::from_secs(60 * 60),
            glare_retry: Duration::from_millis(2500),
            t38_answer_timeout: Duration::from_secs(5),
        }
    }
}

/// What happened on the SIP side, fed to [`FaxCall::handle_input`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallInput {
    /// A provisional response to our initial INVITE (also 183; no early media is used).
    Provisional(u16),
    /// A 2xx to our initial INVITE, with its SDP answer.
    Answered { sdp: Option<String> },
    /// A final failure of our initial INVITE (status code; 408 for a transaction timeout).
    Rejected(u16),
    /// An initial INVITE for us (inbound), with its offer.
    Incoming { sdp: Option<String> },
    /// The caller cancelled before we answered.
    Cancelled,
    /// A provisional response to our re-INVITE (ignored, like Asterisk; 183 included).
    ReinviteProvisional(u16),
    /// The final response to our re-INVITE (408 when it timed out).
    ReinviteResponse { code: u16, sdp: Option<String> },
    /// The peer re-INVITEd (or UPDATEd) us; answer with [`SipCommand::AnswerReinvite`].
    PeerReinvite { sdp: Option<String> },
    /// The peer hung up.
    PeerBye,
    /// The fax session reached phase E.
    FaxFinished { success: bool },
    /// Hang up now (shutdown, operator).
    Hangup,
}

/// A SIP message the adapter must send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SipCommand {
    /// The initial INVITE with our audio offer.
    Invite { sdp: String },
    /// CANCEL the initial INVITE.
    Cancel,
    /// 200 OK to the initial INVITE.
    Accept { sdp: String },
    /// A final failure to the initial INVITE.
    Reject { code: u16 },
    /// An in-dialog re-INVITE (our switch to T.38).
    Reinvite { sdp: String },
    /// The answer to the pending peer re-INVITE.
    AnswerReinvite { code: u16, sdp: Option<String> },
    /// BYE.
    Bye,
}

/// The media a fax session runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaxMedia {
    /// T.38 over UDPTL: where to send (until latching finds the real source) and the agreed parameters.
    T38 {
        /// The peer's UDPTL address from its SDP.
        remote: SocketAddr,
        /// Our local UDPTL port.
        local_port: u16,
        /// The negotiated parameters: version, rate, EC mode and the datagram sizes that fit it.
        params: NegotiatedT38,
    },
    /// G.711 audio (fallback).
    Audio {
        /// The peer's RTP address.
        remote: SocketAddr,
        /// Our local RTP port.
        local_port: u16,
        /// RTP payload type: 0 PCMU or 8 PCMA.
        payload: u8,
    },
}

/// Why a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// The fax finished and we sent BYE.
    Completed { success: bool },
    /// The peer hung up (possibly mid-page).
    PeerHangup,
    /// Our INVITE failed with this status.
    Rejected(u16),
    /// No answer in time; we cancelled.
    NoAnswer,
    /// The caller cancelled before we answered.
    CallerCancelled,
    /// We refused an incoming call.
    Refused(u16),
    /// T.38 was refused and audio fallback is off.
    T38Refused(u16),
    /// The answer SDP had no usable media.
    NoMedia,
    /// The dialog died (481/408 to a re-INVITE).
    DialogLost(u16),
    /// Hung up locally (shutdown/watchdog) before the fax ended.
    LocalHangup,
}

/// What the call wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallAction {
    /// Send this SIP message.
    Sip(SipCommand),
    /// Start (or move) the fax session onto this media.
    StartFax(FaxMedia),
    /// Stop the fax session now (peer hung up, hangup): it must report the call dropped.
    StopFax,
    /// The call is over; nothing more will come out.
    Ended(EndReason),
}

/// Where the call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// Created, nothing sent.
    Idle,
    /// Our INVITE is outstanding.
    Inviting,
    /// We sent CANCEL and wait for the INVITE to end.
    Cancelling,
    /// Connected in G.711, waiting for the switch to T.38.
    Audio,
    /// Our T.38 re-INVITE is outstanding.
    Reinviting,
    /// The fax runs on T.38.
    T38,
    /// The fax runs on G.711 audio (T.38 refused).
    AudioFax,
    /// Ended (after BYE, CANCEL or failure).
    Ended,
}

/// One fax call's SIP call control.
#[derive(Debug)]
pub struct FaxCall {
    role: CallRole,
    config: CallConfig,
    state: CallState,
    actions: VecDeque<CallAction>,
    /// When the next timer fires and what it is.
    timer: Option<(Instant, Timer)>,
    connected_at: Option<Instant>,
    /// The peer's audio (address, payload type) once known.
    remote_audio: Option<(SocketAddr, u8)>,
    /// The T.38 stream currently in use (remote address, the peer's attributes, what we agreed),
    /// for refreshes.
    t38: Option<(SocketAddr, T38Attributes, NegotiatedT38)>,
    /// Whether the fax session is running (started and not finished/stopped).
    fax_running: bool,
    sdp_session_id: u64,
    sdp_version: u64,
    glare_retried: bool,
    /// Our T.38 re-INVITE has no final response yet (also after we gave up waiting for it).
    reinvite_pending: bool,
    /// Where the running audio fax sends, while one runs (CED phase or fallback).
    audio_running: Option<SocketAddr>,
    /// The peer moved the call back to audio while our T.38 session ran (the end of its fax): our SDP
    /// offers and answers audio from then on, the session runs to its own end.
    peer_left_t38: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    Ring,
    SwitchToT38,
    T38Answer,
    Watchdog,
}

impl FaxCall {
    /// A new call. Outbound calls start with [`start`](Self::start); inbound with
    /// [`CallInput::Incoming`].
    pub fn new(role: CallRole, config: CallConfig, sdp_session_id: u64) -> Self {
        Self {
            role,
            config,
            state: CallState::Idle,
            actions: VecDeque::new(),
            timer: None,
            connected_at: None,
            remote_audio: None,
            t38: None,
            fax_running: false,
            sdp_session_id,
            sdp_version: 0,
            glare_retried: false,
            peer_left_t38: false,
            reinvite_pending: false,
            audio_running: None,
        }
    }

    /// The current state.
    pub fn state(&self) -> CallState {
        self.state
    }

    /// Which side placed the call.
    pub fn role(&self) -> CallRole {
        self.role
    }

    /// Outbound: send the INVITE with our G.711 offer.
    pub fn start(&mut self, now: Instant) {
        if self.role != CallRole::Outbound || self.state != CallState::Idle {
            return;
        }
        let sdp = self.sdp(vec![self.audio_stream(self.config.g711.clone())]);
        self.push_sip(SipCommand::Invite { sdp });
        self.state = CallState::Inviting;
        self.timer = Some((now + self.config.ring_timeout, Timer::Ring));
    }

    /// The next action to carry out.
    pub fn poll_action(&mut self) -> Option<CallAction> {
        self.actions.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timer.map(|(t, _)| t)
    }

    /// Fires due timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some((at, timer)) = self.timer else {
            return;
        };
        if now < at {
            return;
        }
        self.timer = None;
        match (timer, self.state) {
            (Timer::Ring, CallState::Inviting) => {
                self.push_sip(SipCommand::Cancel);
                self.state = CallState::Cancelling;
            }
            (Timer::SwitchToT38, CallState::Audio) => self.send_t38_reinvite(now),
            (Timer::T38Answer, CallState::Reinviting) => {
                warn!("no answer to our T.38 re-INVITE in time; treating it as refused");
                self.t38_refused(408);
            }
            (Timer::Watchdog, s) if s != CallState::Ended => self.bye(EndReason::LocalHangup),
            _ => {}
        }
        self.arm_watchdog_if_idle();
    }

    /// Feeds one SIP-side event.
    pub fn handle_input(&mut self, input: CallInput, now: Instant) {
        if self.state == CallState::Ended {
            // Nothing is answered or sent after the end, except a refusal of a stray re-INVITE.
            if let CallInput::PeerReinvite { .. } = input {
                self.push_sip(SipCommand::AnswerReinvite {
                    code: 481,
                    sdp: None,
                });
            }
            return;
        }
        match input {
            CallInput::Provisional(_) | CallInput::ReinviteProvisional(_) => {}
            CallInput::Answered { sdp } => self.on_answered(sdp, now),
            CallInput::Rejected(code) => self.on_rejected(code),
            CallInput::Incoming { sdp } => self.on_incoming(sdp, now),
            CallInput::Cancelled => {
                if self.connected_at.is_none() {
                    self.end(EndReason::CallerCancelled);
                }
            }
            CallInput::ReinviteResponse { code, sdp } => self.on_reinvite_response(code, sdp, now),
            CallInput::PeerReinvite { sdp } => self.on_peer_reinvite(sdp),
            CallInput::PeerBye => {
                self.stop_fax();
                self.end(EndReason::PeerHangup);
            }
            CallInput::FaxFinished { success } => {
                self.fax_running = false;
                self.bye(EndReason::Completed { success });
            }
            CallInput::Hangup => match self.state {
                CallState::Idle => self.end(EndReason::LocalHangup),
                CallState::Inviting => {
                    self.push_sip(SipCommand::Cancel);
                    self.state = CallState::Cancelling;
                }
                CallState::Cancelling => {}
                _ => self.bye(EndReason::LocalHangup),
            },
        }
    }

    fn on_answered(&mut self, sdp: Option<String>, now: Instant) {
        if !matches!(self.state, CallState::Inviting | CallState::Cancelling) {
            return;
        }
        if self.state == CallState::Cancelling {
            // The 2xx crossed our CANCEL: the dialog exists and must be ended with BYE.
            self.state = CallState::Audio;
            self.bye(EndReason::NoAnswer);
            return;
        }
        self.connected(now);
        let answer = sdp
            .as_deref()
            .and_then(|s| MediaDescription::parse(s.as_bytes()).ok());
        match answer
            .as_ref()
            .and_then(|d| d.audio().map(|(p, law)| (SocketAddr::new(d.addr, p), law)))
        {
            Some(audio) => {
                self.remote_audio = Some(audio);
                self.state = CallState::Audio;
                if self.config.t38_enabled {
                    self.timer = Some((now + self.config.t38_wait, Timer::SwitchToT38));
                    if self.config.cng_audio {
                        self.run_audio();
                    }
                } else {
                    self.start_audio_fax();
                }
            }
            None => {
                self.state = CallState::Audio;
                self.bye(EndReason::NoMedia);
            }
        }
    }

    fn on_rejected(&mut self, code: u16) {
        match self.state {
            CallState::Inviting => self.end(EndReason::Rejected(code)),
            CallState::Cancelling => self.end(EndReason::NoAnswer),
            _ => {}
        }
    }

    fn on_incoming(&mut self, sdp: Option<String>, now: Instant) {
        if self.role != CallRole::Inbound || self.state != CallState::Idle {
            return;
        }
        let Some(offer) = sdp
            .as_deref()
            .and_then(|s| MediaDescription::parse(s.as_bytes()).ok())
        else {
            // Offerless INVITEs would need the offer in our 200 and the answer in the ACK; fax
            // peers always offer, so refuse clearly.
            self.push_sip(SipCommand::Reject { code: 488 });
            self.end(EndReason::Refused(488));
            return;
        };
        // Answer stream by stream: the first G.711 audio accepted; an image stream offered in the
        // initial INVITE is declined when audio is there (like Asterisk, T.38 only by re-INVITE),
        // and accepted when it is the only usable stream.
        let audio = offer.audio();
        let mut took_audio = false;
        let mut took_image = None;
        let mut streams = Vec::with_capacity(offer.streams.len());
        for s in &offer.streams {
            let answer = match s {
                Stream::Audio { port, .. }
                    if !took_audio && audio.is_some_and(|(p, _)| p == *port) && *port != 0 =>
                {
                    took_audio = true;
                    let law = audio.map(|(_, l)| l).unwrap_or(PCMU);
                    self.audio_stream(vec![law])
                }
                Stream::Audio { payloads, .. } => Stream::Audio {
                    port: 0,
                    payloads: payloads.clone(),
                },
                Stream::Image { port, t38 }
                    if self.config.t38_enabled
                        && audio.is_none()
                        && *port != 0
                        && took_image.is_none() =>
                {
                    match self.config.t38.answer(t38) {
                        Ok(agreed) => {
                            let ours = agreed.answer_attributes();
                            took_image =
                                Some((SocketAddr::new(offer.addr, *port), t38.clone(), agreed));
                            Stream::Image {
                                port: self.config.image_port,
                                t38: ours,
                            }
                        }
                        Err(e) => {
                            warn!(error = %e, "declining the offered T.38 stream");
                            declined_image()
                        }
                    }
                }
                Stream::Image { .. } => declined_image(),
                other => other.clone(),
            };
            streams.push(answer);
        }
        if !took_audio && took_image.is_none() {
            self.push_sip(SipCommand::Reject { code: 488 });
            self.end(EndReason::Refused(488));
            return;
        }
        let sdp = self.sdp(streams);
        self.push_sip(SipCommand::Accept { sdp });
        self.connected(now);
        if let Some((remote, theirs, agreed)) = took_image {
            self.enter_t38(remote, theirs, agreed);
        } else {
            self.remote_audio = audio.map(|(p, law)| (SocketAddr::new(offer.addr, p), law));
            self.state = CallState::Audio;
            if self.config.t38_enabled {
                self.timer = Some((now + self.config.ced, Timer::SwitchToT38));
                if self.config.ced_audio {
                    self.run_audio();
                }
            } else {
                self.start_audio_fax();
            }
        }
    }

    fn on_reinvite_response(&mut self, code: u16, sdp: Option<String>, now: Instant) {
        let late = self.state == CallState::AudioFax && self.reinvite_pending;
        if self.state != CallState::Reinviting && !late {
            return;
        }
        self.reinvite_pending = false;
        let image = || {
            sdp.as_deref()
                .and_then(|s| MediaDescription::parse(s.as_bytes()).ok())
                .and_then(|d| d.image().map(|(p, t)| (d.addr, p, t.clone())))
        };
        if late {
            // We gave up waiting and run audio; a late 2xx with a usable image stream means the
            // peer has switched to T.38, so follow it. Anything else changes nothing.
            if (200..=299).contains(&code)
                && let Some((addr, port, theirs)) = image().filter(|(_, p, _)| *p != 0)
                && let Ok(agreed) = self.config.t38.accept_answer(&theirs)
            {
                self.enter_t38(SocketAddr::new(addr, port), theirs, agreed);
            }
            return;
        }
        self.timer = None;
        match code {
            200..=299 => {
                match image() {
                    Some((addr, port, theirs)) if port != 0 => {
                        match self.config.t38.accept_answer(&theirs) {
                            Ok(agreed) => {
                                self.enter_t38(SocketAddr::new(addr, port), theirs, agreed)
                            }
                            // Parameters we cannot run without truncating IFPs: as refused.
                            Err(e) => {
                                warn!(error = %e, "unusable T.38 answer");
                                self.t38_refused(488)
                            }
                        }
                    }
                    // A 2xx declining the image stream is a refusal; the 2xx itself is ACKed by the stack.
                    _ => self.t38_refused(code),
                }
            }
            491 if !self.glare_retried => {
                self.glare_retried = true;
                self.state = CallState::Audio;
                self.timer = Some((now + self.config.glare_retry, Timer::SwitchToT38));
            }
            // The dialog is gone: nothing to hang up.
            481 => self.end(EndReason::DialogLost(code)),
            _ => self.t38_refused(code),
        }
    }

    fn on_peer_reinvite(&mut self, sdp: Option<String>) {
        let offer = sdp
            .as_deref()
            .map(|s| MediaDescription::parse(s.as_bytes()));
        match self.state {
            // Glare: both sides re-INVITE at once.
            CallState::Reinviting => self.answer_reinvite(491, None),
            CallState::Idle | CallState::Inviting | CallState::Cancelling => {
                self.answer_reinvite(500, None)
            }
            CallState::Audio | CallState::AudioFax | CallState::T38 => match offer {
                // Offerless refresh: offer what we have now; the answer arrives in the ACK.
                None => {
                    let sdp = self.current_sdp();
                    self.answer_reinvite(200, Some(sdp));
                }
                Some(Err(_)) => self.answer_reinvite(400, None),
                Some(Ok(offer)) => self.on_peer_offer(offer),
            },
            CallState::Ended => self.answer_reinvite(481, None),
        }
    }

    fn on_peer_offer(&mut self, offer: MediaDescription) {
        // With T.38 off an image offer is treated as absent: declined next to audio, else 488.
        let image = offer
            .image()
            .filter(|(port, _)| *port != 0 && self.config.t38_enabled)
            .map(|(port, t)| (port, t.clone()));
        let agreed = image.as_ref().map(|(_, t)| self.config.t38.answer(t));
        match (self.state, image, agreed) {
            // Parameters we cannot run without truncating IFPs: refuse, the old session stays.
            (_, Some(_), Some(Err(e))) => {
                warn!(error = %e, "refusing a T.38 offer");
                self.answer_reinvite(488, None);
            }
            // Switch to T.38 (or a refresh of the running T.38 stream: same port, same parameters).
            (_, Some((port, theirs)), Some(Ok(agreed))) => {
                let ours = agreed.answer_attributes();
                let remote = SocketAddr::new(offer.addr, port);
                let streams = offer
                    .streams
                    .iter()
                    .map(|s| match s {
                        Stream::Image { port: p, .. } if *p == port => Stream::Image {
                            port: self.config.image_port,
                            t38: ours.clone(),
                        },
                        Stream::Image { .. } => declined_image(),
                        Stream::Audio { payloads, .. } => Stream::Audio {
                            port: 0,
                            payloads: payloads.clone(),
                        },
                        other => other.clone(),
                    })
                    .collect();
                let sdp = self.sdp(streams);
                self.answer_reinvite(200, Some(sdp));
                let same = self.state == CallState::T38
                    && self
                        .t38
                        .as_ref()
                        .is_some_and(|(r, t, _)| *r == remote && *t == theirs);
                if !same {
                    self.enter_t38(remote, theirs, agreed);
                }
            }
            // Back to audio during T.38: what Asterisk and gateways send when their fax session has
            // ended, often before ours has seen the end. Accept it with our audio stream (a 488 here
            // only makes the peer hang up on a refusal); our T.38 session is not stopped but runs to
            // its own end on the packets still in flight, then we hang up as usual. A peer leaving
            // T.38 mid-page fails that session by T.30's timers, as a lost stream would.
            (CallState::T38, _, _) => match offer.audio() {
                Some((port, law)) => {
                    self.remote_audio = Some((SocketAddr::new(offer.addr, port), law));
                    self.peer_left_t38 = true;
                    let streams = self.audio_answer_streams(&offer.streams, port, law);
                    let sdp = self.sdp(streams);
                    self.answer_reinvite(200, Some(sdp));
                }
                None => self.answer_reinvite(488, None),
            },
            // In audio: an audio refresh keeps the audio stream; `m=image 0` alone is not acceptable.
            (_, _, _) => match offer.audio() {
                Some((port, law)) => {
                    let previous = self.remote_audio;
                    let remote = SocketAddr::new(offer.addr, port);
                    // A refresh during an audio fax keeps the running law while it is offered.
                    let law = match previous {
                        Some((_, running))
                            if self.audio_running.is_some()
                                && offer.streams.iter().any(|s| {
                                    matches!(s, Stream::Audio { port: p, payloads }
                                        if *p == port && payloads.contains(&running))
                                }) =>
                        {
                            running
                        }
                        _ => law,
                    };
                    self.remote_audio = Some((remote, law));
                    let streams = self.audio_answer_streams(&offer.streams, port, law);
                    let sdp = self.sdp(streams);
                    self.answer_reinvite(200, Some(sdp));
                    // A running audio fax follows a moved stream (the media side re-targets).
                    if self.audio_running.is_some()
                        && previous.is_some_and(|(addr, _)| addr != remote)
                    {
                        self.run_audio();
                    }
                }
                None => self.answer_reinvite(488, None),
            },
        }
    }

    fn enter_t38(&mut self, remote: SocketAddr, theirs: T38Attributes, agreed: NegotiatedT38) {
        self.timer = None;
        self.t38 = Some((remote, theirs, agreed.clone()));
        self.state = CallState::T38;
        self.audio_running = None;
        self.fax_running = true;
        self.actions.push_back(CallAction::StartFax(FaxMedia::T38 {
            remote,
            local_port: self.config.image_port,
            params: agreed,
        }));
        self.arm_watchdog_if_idle();
    }

    fn t38_refused(&mut self, code: u16) {
        if !self.config.audio_fallback {
            self.state = CallState::Audio;
            self.bye(EndReason::T38Refused(code));
            return;
        }
        self.start_audio_fax();
    }

    /// Runs the fax on the G.711 audio stream the call already has.
    fn start_audio_fax(&mut self) {
        if self.remote_audio.is_some() {
            self.state = CallState::AudioFax;
            self.run_audio();
            self.arm_watchdog_if_idle();
        } else {
            self.state = CallState::Audio;
            self.bye(EndReason::NoMedia);
        }
    }

    /// Starts the audio fax on the current audio stream, unless it already runs there (the CED
    /// phase simply continues as the fallback).
    fn run_audio(&mut self) {
        let Some((remote, payload)) = self.remote_audio else {
            return;
        };
        if self.fax_running && self.audio_running == Some(remote) {
            return;
        }
        self.fax_running = true;
        self.audio_running = Some(remote);
        self.actions
            .push_back(CallAction::StartFax(FaxMedia::Audio {
                remote,
                local_port: self.config.audio_port,
                payload,
            }));
    }

    fn send_t38_reinvite(&mut self, now: Instant) {
        // Only the image stream (Asterisk removes the audio streams from its T.38 re-INVITE).
        let sdp = self.sdp(vec![Stream::Image {
            port: self.config.image_port,
            t38: self.config.t38.offer(),
        }]);
        self.push_sip(SipCommand::Reinvite { sdp });
        self.state = CallState::Reinviting;
        self.reinvite_pending = true;
        self.timer = Some((now + self.config.t38_answer_timeout, Timer::T38Answer));
    }

    fn connected(&mut self, now: Instant) {
        self.connected_at = Some(now);
        self.watchdog_at(now);
    }

    fn watchdog_at(&mut self, now: Instant) {
        if self.timer.is_none() {
            self.timer = Some((now + self.config.max_duration, Timer::Watchdog));
        }
    }

    fn arm_watchdog_if_idle(&mut self) {
        if self.timer.is_none()
            && self.state != CallState::Ended
            && let Some(at) = self.connected_at
        {
            self.timer = Some((at + self.config.max_duration, Timer::Watchdog));
        }
    }

    fn bye(&mut self, reason: EndReason) {
        match self.state {
            CallState::Ended => {}
            CallState::Idle | CallState::Inviting | CallState::Cancelling => self.end(reason),
            _ => {
                self.stop_fax();
                self.push_sip(SipCommand::Bye);
                self.end(reason);
            }
        }
    }

    fn stop_fax(&mut self) {
        self.audio_running = None;
        if self.fax_running {
            self.fax_running = false;
            self.actions.push_back(CallAction::StopFax);
        }
    }

    fn end(&mut self, reason: EndReason) {
        self.state = CallState::Ended;
        self.timer = None;
        self.actions.push_back(CallAction::Ended(reason));
    }

    fn answer_reinvite(&mut self, code: u16, sdp: Option<String>) {
        self.push_sip(SipCommand::AnswerReinvite { code, sdp });
    }

    fn push_sip(&mut self, cmd: SipCommand) {
        self.actions.push_back(CallAction::Sip(cmd));
    }

    fn audio_stream(&self, payloads: Vec<u8>) -> Stream {
        Stream::Audio {
            port: self.config.audio_port,
            payloads,
        }
    }

    /// The answer to an offer that keeps audio: our audio stream (in `law`) for the offered one on `port`, every
    /// other audio stream and any image stream declined, in the offer's order.
    fn audio_answer_streams(&self, offered: &[Stream], port: u16, law: u8) -> Vec<Stream> {
        offered
            .iter()
            .map(|s| match s {
                Stream::Audio { port: p, .. } if *p == port => self.audio_stream(vec![law]),
                Stream::Audio { payloads, .. } => Stream::Audio {
                    port: 0,
                    payloads: payloads.clone(),
                },
                Stream::Image { .. } => declined_image(),
                other => other.clone(),
            })
            .collect()
    }

    fn current_sdp(&mut self) -> String {
        let stream = match self.state {
            CallState::T38 if !self.peer_left_t38 => Stream::Image {
                port: self.config.image_port,
                t38: self
                    .t38
                    .as_ref()
                    .map(|(_, _, agreed)| agreed.answer_attributes())
                    .unwrap_or_else(|| self.config.t38.offer()),
            },
            _ => self.audio_stream(vec![self.remote_audio.map(|(_, l)| l).unwrap_or(PCMU)]),
        };
        self.sdp(vec![stream])
    }

    fn sdp(&mut self, streams: Vec<Stream>) -> String {
        self.sdp_version += 1;
        MediaDescription {
            addr: self.config.media_addr,
            streams,
        }
        .to_sdp(self.sdp_session_id, self.sdp_version)
    }
}

/// An image stream declined in an answer (`m=image 0 udptl t38`, no attributes).
fn declined_image() -> Stream {
    Stream::Image {
        port: 0,
        t38: T38Attributes::default(),
    }
}

#[cfg(test)]
mod tests;
