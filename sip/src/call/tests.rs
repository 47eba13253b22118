use super::*;

/// Most tests follow the signalling alone: no audio fax while the sender waits for T.38.
fn config() -> CallConfig {
    let mut c = CallConfig::new("127.0.0.1".parse().unwrap(), 20000, 20002);
    c.cng_audio = false;
    c
}

fn drain(call: &mut FaxCall) -> Vec<CallAction> {
    std::iter::from_fn(|| call.poll_action()).collect()
}

const AUDIO_ANSWER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 12240 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";

fn image_sdp(port: u16) -> String {
    format!(
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=image {port} udptl t38\r\n\
a=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\na=T38FaxRateManagement:transferredTCF\r\n\
a=T38FaxMaxDatagram:1400\r\na=T38FaxUdpEC:t38UDPRedundancy\r\n"
    )
}

/// An outbound call answered in audio, at `t0`, with the actions the answer produced.
fn answer(config: CallConfig) -> (FaxCall, Instant, Vec<CallAction>) {
    let t0 = Instant::now();
    let mut call = FaxCall::new(CallRole::Outbound, config, 1);
    call.start(t0);
    let first = drain(&mut call);
    let [CallAction::Sip(SipCommand::Invite { sdp })] = first.as_slice() else {
        panic!("{first:?}")
    };
    assert!(sdp.contains("m=audio 20000 RTP/AVP 0 8\r\n"), "{sdp}");
    assert!(!sdp.contains("m=image"));
    call.handle_input(CallInput::Provisional(180), t0);
    call.handle_input(
        CallInput::Answered {
            sdp: Some(AUDIO_ANSWER.into()),
        },
        t0,
    );
    assert_eq!(call.state(), CallState::Audio);
    let actions = drain(&mut call);
    (call, t0, actions)
}

/// An outbound call answered in audio, at `t0`, waiting silently for T.38.
fn answered(config: CallConfig) -> (FaxCall, Instant) {
    let (call, t0, actions) = answer(config);
    assert!(actions.is_empty());
    (call, t0)
}

#[test]
fn outbound_waits_then_sends_image_only_reinvite_and_runs_t38() {
    let (mut call, t0) = answered(config());
    assert_eq!(call.poll_timeout(), Some(t0 + Duration::from_secs(5)));
    call.handle_timeout(t0 + Duration::from_secs(4));
    assert!(drain(&mut call).is_empty());
    call.handle_timeout(t0 + Duration::from_secs(5));
    let a = drain(&mut call);
    let [CallAction::Sip(SipCommand::Reinvite { sdp })] = a.as_slice() else {
        panic!("{a:?}")
    };
    assert!(
        sdp.contains("m=image 20002 udptl t38\r\n") && !sdp.contains("m=audio"),
        "{sdp}"
    );
    // 1xx (183 included) before the 200 is tolerated.
    call.handle_input(CallInput::ReinviteProvisional(100), t0);
    call.handle_input(CallInput::ReinviteProvisional(183), t0);
    assert!(drain(&mut call).is_empty());
    call.handle_input(
        CallInput::ReinviteResponse {
            code: 200,
            sdp: Some(image_sdp(4000)),
        },
        t0,
    );
    let a = drain(&mut call);
    let [
        CallAction::StartFax(FaxMedia::T38 {
            remote,
            local_port,
            params,
        }),
    ] = a.as_slice()
    else {
        panic!("{a:?}")
    };
    assert_eq!(remote.port(), 4000);
    assert_eq!(*local_port, 20002);
    assert_eq!(
        params.far_max_datagram, 1400,
        "send with the peer's datagram size"
    );
    call.handle_input(CallInput::FaxFinished { success: true }, t0);
    assert_eq!(
        drain(&mut call),
        vec![
            CallAction::Sip(SipCommand::Bye),
            CallAction::Ended(EndReason::Completed { success: true })
        ]
    );
}

#[test]
fn far_end_reinvite_during_wait_is_accepted() {
    let (mut call, t0) = answered(config());
    call.handle_input(
        CallInput::PeerReinvite {
            sdp: Some(image_sdp(6330)),
        },
        t0,
    );
    let a = drain(&mut call);
    let [
        CallAction::Sip(SipCommand::AnswerReinvite {
            code: 200,
            sdp: Some(sdp),
        }),
        CallAction::StartFax(FaxMedia::T38 { remote, .. }),
    ] = a.as_slice()
    else {
        panic!("{a:?}")
    };
    assert!(sdp.contains("m=image 20002 udptl t38"));
    // We advertise what faxline_t38::sdp sizes for us (1400, like Asterisk as a terminal).
    assert!(sdp.contains("a=T38FaxMaxDatagram:1400"), "{sdp}");
    assert!(sdp.contains("a=T38FaxUdpEC:t38UDPRedundancy"), "{sdp}");
    assert_eq!(remote.port(), 6330);
    // Our own re-INVITE timer is gone.
    call.handle_timeout(t0 + Duration::from_secs(6));
    assert!(drain(&mut call).is_empty());
    assert_eq!(call.state(), CallState::T38);
}

#[test]
fn refused_t38_falls_back_to_audio_with_call_up() {
    for code in [488, 415, 606] {
        let (mut call, t0) = answered(config());
        call.handle_timeout(t0 + Duration::from_secs(5));
        drain(&mut call);
        call.handle_input(CallInput::ReinviteResponse { code, sdp: None }, t0);
        let a = drain(&mut call);
        let [
            CallAction::StartFax(FaxMedia::Audio {
                remote, payload, ..
            }),
        ] = a.as_slice()
        else {
            panic!("{a:?}")
        };
        assert_eq!(
            (remote.port(), *payload),
            (12240, PCMA),
            "their first G.711 law"
        );
        assert_eq!(call.state(), CallState::AudioFax);
    }
}

#[test]
fn declined_image_stream_in_2xx_is_a_refusal() {
    let (mut call, t0) = answered(config());
    call.handle_timeout(t0 + Duration::from_secs(5));
    drain(&mut call);
    call.handle_input(
        CallInput::ReinviteResponse {
            code: 200,
            sdp: Some(image_sdp(0)),
        },
        t0,
    );
    assert!(matches!(
        drain(&mut call).as_slice(),
        [CallAction::StartFax(FaxMedia::Audio { .. })]
    ));
}

#[test]
fn refusal_without_fallback_hangs_up() {
    let mut c = config();
    c.audio_fallback = false;
    let (mut call, t0) = answered(c);
    call.handle_timeout(t0 + Duration::from_secs(5));
    drain(&mut call);
    call.handle_input(
        CallInput::ReinviteResponse {
            code: 488,
            sdp: None,
        },
        t0,
    );
    assert_eq!(
        drain(&mut call),
        vec![
            CallAction::Sip(SipCommand::Bye),
            CallAction::Ended(EndReason::T38Refused(488))
        ]
    );
}

#[test]
fn session_refresh_during_t38_keeps_the_image_stream() {
    let (mut call, t0) = answered(config());
    call.handle_input(
        CallInput::PeerReinvite {
            sdp: Some(image_sdp(6330)),
        },
        t0,
    );
    drain(&mut call);
    // Same offer again (session timer refresh): 200 with our image stream, fax untouched.
    call.handle_input(
        CallInput::PeerReinvite {
            sdp: Some(image_sdp(6330)),
        },
        t0,
    );
    let a = drain(&mut call);
    let [
        CallAction::Sip(SipCommand::AnswerReinvite {
            code: 200,
            sdp: Some(sdp),
        }),
    ] = a.as_slice()
    else {
        panic!("{a:?}")
    };
    assert!(sdp.contains("m=image 20002 udptl t38"));
    // Offerless refresh: we offer our current image stream.
    call.handle_input(CallInput::PeerReinvite { sdp: None }, t0);
    let a = drain(&mut call);
    let [
        CallAction::Sip(SipCommand::AnswerReinvite {
            code: 200,
            sdp: Some(sdp),
        }),
    ] = a.as_slice()
    else {
        panic!("{a:?}")
    };
    assert!(sdp.contains("m=image 20002 udptl t38") && !sdp.contains("m=audio"));
}

/// The far end's re-INVITE back to audio at the end of its fax (Asterisk's, after phase E) is
/// answered 200 with our audio stream, not 488; our session is not stopped and ends on its own,
/// then we hang up with BYE.
#[test]
fn peer_back_to_audio_during_t38_is_accepted_and_the_fax_ends_on_its_own() {
    let (mut call, t0) = answered(config());
    call.handle_input(
        CallInput::PeerReinvite {
            sdp: Some(image_sdp(6330)),
        },
        t0,
    );
    drain(&mut call);
    call.handle_input(
        CallInput::PeerReinvite {
            sdp: Some(AUDIO_ANSWER.into()),
        },
        t0,
    );
    let a = drain(&mut call);
    let [
        CallAction::Sip(SipCommand::AnswerReinvite {
            code: 200,
            sdp: Some(sdp),
        }),
    ] = a.as_slice()
    else {
        panic!("the fax must keep running, only the answer is sent: {a:?}")
    };
    assert!(
        sdp.contains("m=audio 20000 RTP/AVP 8\r\n") && !sdp.contains("m=image"),
        "{sdp}"
    );
    // An offerless refresh now gets audio too.
    call.handle_input(CallInput::PeerReinvite { sdp: None }, t0);
    let a = drain(&mut call);
    let [
        CallAction::Sip(SipCommand::AnswerReinvite {
            code: 200,
            sdp: Some(sdp),
        }),
    ] = a.as_slice()
    else {
        panic!("{a:?}")
    };
    assert!(
        sdp.contains("m=audio 20000") && !sdp.contains("m=image"),
        "{sdp}"
    );
    // The session reaches phase E: BYE, as after any fax.
    call.handle_input(CallInput::FaxFinished { success: true }, t0);
    assert_eq!(
        drain(&mut call),
        vec![
            CallAction::Sip(SipCommand::Bye),
            CallAction::Ended(EndReason::Completed { success: true })
        ]
    );
}

#[test]
fn zero_port_image_offer_is_refused_without_disturbing_audio() {
    let (mut call, t0) = answered(config());
    call.handle_input(
        CallInput::PeerReinvite {
            sdp: Some(image_sdp(0)),
        },
        t0,
    );
    assert_eq!(
        drain(&mut call),
        vec![CallAction::Sip(SipCommand::AnswerReinvite {
            code: 488,
            sdp: None
        })]
    );
    assert_eq!(call.state(), CallState::Audio);
}

#[test]
fn garbage_reinvite_sdp_gets_400() {
    let (mut call, t0) = answered(config());
    call.handle_input(
        CallInput::PeerReinvite {
            sdp: Some("\u{1}garbage".into()),
        },
        t0,
    );
    assert_eq!(
        drain(&mut call),
        vec![CallAction::Sip(SipCommand::AnswerReinvite {
            code: 400,
            sdp: None
        })]
    );
}

#[test]
fn glare_gets_491_and_our_retry() {
    let (mut call, t0) = answered(config());
    call.handle_timeout(t0 + Duration::from_secs(5));
    drain(&mut call);
    call.handle_input(
        CallInput::PeerReinvite {
            sdp: Some(image_sdp(6330)),
        },
        t0,
    );
    assert_eq!(
        drain(&mut call),
        vec![CallAction::Sip(SipCommand::AnswerReinvite {
            code: 491,
            sdp: None
        })]
    );
    call.handle_input(
        CallInput::ReinviteResponse {
            code: 491,
            sdp: None,
        },
        t0,
    );
    assert_eq!(call.state(), CallState::Audio);
    let retry = call.poll_timeout().unwrap();
    call.handle_timeout(retry);
    assert!(matches!(
        drain(&mut call).as_slice(),
        [CallAction::Sip(SipCommand::Reinvite { .. })]
    ));
}

#[test]
fn bye_mid_page_stops_the_fax_and_nothing_follows() {
    let (mut call, t0) = answered(config());
    call.handle_input(
        CallInput::PeerReinvite {
            sdp: Some(image_sdp(6330)),
        },
        t0,
    );
    drain(&mut call);
    call.handle_input(CallInput::PeerBye, t0);
    assert_eq!(
        drain(&mut call),
        vec![
            CallAction::StopFax,
            CallAction::Ended(EndReason::PeerHangup)
        ]
    );
    // Never anything after the end: no re-INVITE, no BYE, timers gone.
    call.handle_input(CallInput::FaxFinished { success: false }, t0);
    call.handle_timeout(t0 + Duration::from_secs(3600 * 2));
    assert!(drain(&mut call).is_empty());
    assert_eq!(call.poll_timeout(), None);
    call.handle_input(
        CallInput::PeerReinvite {
            sdp: Some(image_sdp(6330)),
        },
        t0,
    );
    assert_eq!(
        drain(&mut call),
        vec![CallAction::Sip(SipCommand::AnswerReinvite {
            code: 481,
            sdp: None
        })]
    );
}

#[test]
fn no_reinvite_after_bye_when_timer_was_pending() {
    let (mut call, t0) = answered(config());
    call.handle_input(CallInput::Hangup, t0);
    assert_eq!(
        drain(&mut call),
        vec![
            CallAction::Sip(SipCommand::Bye),
            CallAction::Ended(EndReason::LocalHangup)
        ]
    );
    call.handle_timeout(t0 + Duration::from_secs(5));
    assert!(drain(&mut call).is_empty());
}

#[test]
fn ring_timeout_cancels_and_a_crossing_2xx_is_byed() {
    let t0 = Instant::now();
    let mut call = FaxCall::new(CallRole::Outbound, config(), 1);
    call.start(t0);
    drain(&mut call);
    call.handle_timeout(t0 + Duration::from_secs(60));
    assert_eq!(drain(&mut call), vec![CallAction::Sip(SipCommand::Cancel)]);
    call.handle_input(
        CallInput::Answered {
            sdp: Some(AUDIO_ANSWER.into()),
        },
        t0,
    );
    assert_eq!(
        drain(&mut call),
        vec![
            CallAction::Sip(SipCommand::Bye),
            CallAction::Ended(EndReason::NoAnswer)
        ]
    );
}

#[test]
fn failures_of_the_initial_invite() {
    let t0 = Instant::now();
    let mut call = FaxCall::new(CallRole::Outbound, config(), 1);
    call.start(t0);
    drain(&mut call);
    call.handle_input(CallInput::Rejected(486), t0);
    assert_eq!(
        drain(&mut call),
        vec![CallAction::Ended(EndReason::Rejected(486))]
    );
}

#[test]
fn inbound_answers_audio_declines_initial_image_then_reinvites_after_ced() {
    let t0 = Instant::now();
    let mut call = FaxCall::new(CallRole::Inbound, config(), 9);
    let offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 10544 RTP/AVP 0 8 101\r\nm=image 6330 udptl t38\r\na=T38FaxMaxDatagram:400\r\n";
    call.handle_input(
        CallInput::Incoming {
            sdp: Some(offer.into()),
        },
        t0,
    );
    let a = drain(&mut call);
    // Answered, and the fax answers in audio (CED, DIS) while we wait to switch.
    let [
        CallAction::Sip(SipCommand::Accept { sdp }),
        CallAction::StartFax(FaxMedia::Audio { payload: 0, .. }),
    ] = a.as_slice()
    else {
        panic!("{a:?}")
    };
    assert!(sdp.contains("m=audio 20000 RTP/AVP 0\r\n"), "{sdp}");
    assert!(sdp.contains("m=image 0 udptl t38"), "{sdp}");
    assert_eq!(call.poll_timeout(), Some(t0 + Duration::from_secs(3)));
    call.handle_timeout(t0 + Duration::from_secs(3));
    assert!(matches!(
        drain(&mut call).as_slice(),
        [CallAction::Sip(SipCommand::Reinvite { .. })]
    ));
    call.handle_input(
        CallInput::ReinviteResponse {
            code: 200,
            sdp: Some(image_sdp(6330)),
        },
        t0,
    );
    assert!(matches!(
        drain(&mut call).as_slice(),
        [CallAction::StartFax(FaxMedia::T38 { .. })]
    ));
}

#[test]
fn inbound_ced_audio_continues_as_the_fallback_when_t38_is_refused() {
    let t0 = Instant::now();
    let mut call = FaxCall::new(CallRole::Inbound, config(), 9);
    call.handle_input(
        CallInput::Incoming {
            sdp: Some(AUDIO_ANSWER.into()),
        },
        t0,
    );
    assert!(matches!(
        drain(&mut call).as_slice(),
        [
            CallAction::Sip(SipCommand::Accept { .. }),
            CallAction::StartFax(FaxMedia::Audio { payload: 8, .. })
        ]
    ));
    call.handle_timeout(t0 + Duration::from_secs(3));
    drain(&mut call);
    call.handle_input(
        CallInput::ReinviteResponse {
            code: 488,
            sdp: None,
        },
        t0,
    );
    assert!(
        drain(&mut call).is_empty(),
        "the running audio fax simply goes on"
    );
    assert_eq!(call.state(), CallState::AudioFax);
    // Without CED audio the fax starts only at the fallback.
    let mut c = config();
    c.ced_audio = false;
    let mut call = FaxCall::new(CallRole::Inbound, c, 9);
    call.handle_input(
        CallInput::Incoming {
            sdp: Some(AUDIO_ANSWER.into()),
        },
        t0,
    );
    assert!(matches!(
        drain(&mut call).as_slice(),
        [CallAction::Sip(SipCommand::Accept { .. })]
    ));
}

#[test]
fn inbound_image_only_offer_goes_straight_to_t38_and_no_media_is_refused() {
    let t0 = Instant::now();
    let mut call = FaxCall::new(CallRole::Inbound, config(), 9);
    call.handle_input(
        CallInput::Incoming {
            sdp: Some(image_sdp(6330)),
        },
        t0,
    );
    assert!(matches!(
        drain(&mut call).as_slice(),
        [
            CallAction::Sip(SipCommand::Accept { .. }),
            CallAction::StartFax(FaxMedia::T38 { .. })
        ]
    ));
    let mut call = FaxCall::new(CallRole::Inbound, config(), 9);
    let video = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\n";
    call.handle_input(
        CallInput::Incoming {
            sdp: Some(video.into()),
        },
        t0,
    );
    assert_eq!(
        drain(&mut call),
        vec![
            CallAction::Sip(SipCommand::Reject { code: 488 }),
            CallAction::Ended(EndReason::Refused(488))
        ]
    );
}

#[test]
fn watchdog_hangs_up_a_stuck_call() {
    let mut c = config();
    c.max_duration = Duration::from_secs(30);
    let (mut call, t0) = answered(c);
    call.handle_input(
        CallInput::PeerReinvite {
            sdp: Some(image_sdp(6330)),
        },
        t0,
    );
    drain(&mut call);
    let at = call.poll_timeout().unwrap();
    assert_eq!(at, t0 + Duration::from_secs(30));
    call.handle_timeout(at);
    assert_eq!(
        drain(&mut call),
        vec![
            CallAction::StopFax,
            CallAction::Sip(SipCommand::Bye),
            CallAction::Ended(EndReason::LocalHangup)
        ]
    );
}

#[test]
fn t38_disabled_runs_audio_from_the_answer_and_refuses_t38_offers() {
    let t0 = Instant::now();
    let mut c = config();
    c.t38_enabled = false;
    // Inbound: answer audio, start the G.711 fax at once, no re-INVITE timer.
    let mut call = FaxCall::new(CallRole::Inbound, c.clone(), 2);
    call.handle_input(
        CallInput::Incoming {
            sdp: Some(AUDIO_ANSWER.into()),
        },
        t0,
    );
    let a = drain(&mut call);
    let [
        CallAction::Sip(SipCommand::Accept { .. }),
        CallAction::StartFax(FaxMedia::Audio {
            remote,
            payload: 8,
            local_port: 20000,
        }),
    ] = a.as_slice()
    else {
        panic!("{a:?}")
    };
    assert_eq!(remote.port(), 12240);
    assert_eq!(call.state(), CallState::AudioFax);
    // The peer's T.38 re-INVITE (image only) is refused with 488; the audio fax keeps running.
    call.handle_input(
        CallInput::PeerReinvite {
            sdp: Some(image_sdp(4000)),
        },
        t0,
    );
    assert_eq!(
        drain(&mut call),
        vec![CallAction::Sip(SipCommand::AnswerReinvite {
            code: 488,
            sdp: None
        })]
    );
    assert_eq!(call.state(), CallState::AudioFax);
    call.handle_timeout(t0 + Duration::from_secs(10));
    assert!(drain(&mut call).is_empty(), "never a re-INVITE to T.38");

    // Outbound: the same, straight after the 200.
    let mut call = FaxCall::new(CallRole::Outbound, c, 1);
    call.start(t0);
    drain(&mut call);
    call.handle_input(
        CallInput::Answered {
            sdp: Some(AUDIO_ANSWER.into()),
        },
        t0,
    );
    let a = drain(&mut call);
    assert!(
        matches!(
            a.as_slice(),
            [CallAction::StartFax(FaxMedia::Audio { payload: 8, .. })]
        ),
        "{a:?}"
    );
    // An image-only offer in an initial INVITE is refused when T.38 is off.
    let mut c = config();
    c.t38_enabled = false;
    let mut call = FaxCall::new(CallRole::Inbound, c, 3);
    call.handle_input(
        CallInput::Incoming {
            sdp: Some(image_sdp(4000)),
        },
        t0,
    );
    assert_eq!(
        drain(&mut call),
        vec![
            CallAction::Sip(SipCommand::Reject { code: 488 }),
            CallAction::Ended(EndReason::Refused(488))
        ]
    );
}

#[test]
fn t38_offer_too_small_to_carry_an_ifp_is_refused_not_truncated() {
    let (mut call, t0) = answered(config());
    let tiny = image_sdp(4000).replace("T38FaxMaxDatagram:1400", "T38FaxMaxDatagram:40");
    call.handle_input(CallInput::PeerReinvite { sdp: Some(tiny) }, t0);
    assert_eq!(
        drain(&mut call),
        vec![CallAction::Sip(SipCommand::AnswerReinvite {
            code: 488,
            sdp: None
        })]
    );
    assert_eq!(call.state(), CallState::Audio, "the call stays up in audio");
}

#[test]
fn audio_refresh_during_audio_fax_keeps_the_law_and_follows_a_moved_stream() {
    let (mut call, t0) = answered(config());
    call.handle_timeout(t0 + Duration::from_secs(5));
    drain(&mut call);
    call.handle_input(
        CallInput::ReinviteResponse {
            code: 488,
            sdp: None,
        },
        t0,
    );
    drain(&mut call);
    assert_eq!(call.state(), CallState::AudioFax);
    // Same address, both laws offered in the other order: 200 keeping PCMA, fax untouched.
    let refresh = AUDIO_ANSWER.replace("RTP/AVP 8 0 101", "RTP/AVP 0 8");
    call.handle_input(CallInput::PeerReinvite { sdp: Some(refresh) }, t0);
    let a = drain(&mut call);
    let [
        CallAction::Sip(SipCommand::AnswerReinvite {
            code: 200,
            sdp: Some(sdp),
        }),
    ] = a.as_slice()
    else {
        panic!("{a:?}")
    };
    assert!(sdp.contains("m=audio 20000 RTP/AVP 8\r\n"), "{sdp}");
    // The peer moves its RTP port: answered, and the running audio fax re-targets.
    let moved = AUDIO_ANSWER.replace("m=audio 12240", "m=audio 12250");
    call.handle_input(CallInput::PeerReinvite { sdp: Some(moved) }, t0);
    let a = drain(&mut call);
    let [
        CallAction::Sip(SipCommand::AnswerReinvite { code: 200, .. }),
        CallAction::StartFax(FaxMedia::Audio {
            remote, payload: 8, ..
        }),
    ] = a.as_slice()
    else {
        panic!("{a:?}")
    };
    assert_eq!(remote.port(), 12250);
}

#[test]
fn unanswered_t38_reinvite_falls_back_after_timeout_and_a_late_2xx_still_switches() {
    let (mut call, t0) = answered(config());
    call.handle_timeout(t0 + Duration::from_secs(5));
    assert!(matches!(
        drain(&mut call).as_slice(),
        [CallAction::Sip(SipCommand::Reinvite { .. })]
    ));
    // 1xx only, then nothing: after 5 s we run the fax in audio, the call stays up.
    call.handle_input(CallInput::ReinviteProvisional(100), t0);
    assert_eq!(call.poll_timeout(), Some(t0 + Duration::from_secs(10)));
    call.handle_timeout(t0 + Duration::from_secs(10));
    let a = drain(&mut call);
    assert!(
        matches!(
            a.as_slice(),
            [CallAction::StartFax(FaxMedia::Audio { payload: 8, .. })]
        ),
        "{a:?}"
    );
    assert_eq!(call.state(), CallState::AudioFax);
    // The peer's 200 accepting T.38 arrives late: it runs T.38 now, so we follow.
    call.handle_input(
        CallInput::ReinviteResponse {
            code: 200,
            sdp: Some(image_sdp(4000)),
        },
        t0,
    );
    let a = drain(&mut call);
    assert!(
        matches!(a.as_slice(), [CallAction::StartFax(FaxMedia::T38 { remote, .. })] if remote.port() == 4000),
        "{a:?}"
    );
    assert_eq!(call.state(), CallState::T38);

    // A late refusal after the fallback changes nothing.
    let (mut call, t0) = answered(config());
    call.handle_timeout(t0 + Duration::from_secs(5));
    call.handle_timeout(t0 + Duration::from_secs(10));
    drain(&mut call);
    call.handle_input(
        CallInput::ReinviteResponse {
            code: 488,
            sdp: None,
        },
        t0,
    );
    assert!(drain(&mut call).is_empty());
    assert_eq!(call.state(), CallState::AudioFax);
}

/// The default outbound call: answered in audio, the fax runs in audio (CNG) at once.
fn answered_with_cng() -> (FaxCall, Instant, SocketAddr) {
    let (call, t0, a) = answer(CallConfig::new("127.0.0.1".parse().unwrap(), 20000, 20002));
    let [
        CallAction::StartFax(FaxMedia::Audio {
            remote,
            local_port: 20000,
            payload: 8,
        }),
    ] = a.as_slice()
    else {
        panic!("{a:?}")
    };
    (call, t0, *remote)
}

#[test]
fn outbound_sends_cng_in_audio_while_waiting_then_moves_to_t38() {
    let (mut call, t0, remote) = answered_with_cng();
    assert_eq!(remote, "127.0.0.1:12240".parse().unwrap());
    call.handle_timeout(t0 + Duration::from_secs(5));
    let a = drain(&mut call);
    assert!(
        matches!(a.as_slice(), [CallAction::Sip(SipCommand::Reinvite { .. })]),
        "{a:?}"
    );
    call.handle_input(
        CallInput::ReinviteResponse {
            code: 200,
            sdp: Some(image_sdp(4000)),
        },
        t0,
    );
    let a = drain(&mut call);
    assert!(
        matches!(a.as_slice(), [CallAction::StartFax(FaxMedia::T38 { .. })]),
        "{a:?}"
    );
}

#[test]
fn outbound_cng_audio_continues_as_the_fallback_when_t38_is_refused() {
    let (mut call, t0, _) = answered_with_cng();
    call.handle_timeout(t0 + Duration::from_secs(5));
    drain(&mut call);
    call.handle_input(
        CallInput::ReinviteResponse {
            code: 488,
            sdp: None,
        },
        t0,
    );
    // The audio fax already runs on that stream: nothing is restarted or stopped.
    assert!(drain(&mut call).is_empty());
    assert_eq!(call.state(), CallState::AudioFax);
}

#[test]
fn outbound_far_end_reinvite_during_cng_moves_the_fax_to_t38() {
    let (mut call, t0, _) = answered_with_cng();
    call.handle_input(
        CallInput::PeerReinvite {
            sdp: Some(image_sdp(4100)),
        },
        t0 + Duration::from_secs(1),
    );
    let a = drain(&mut call);
    assert!(
        a.iter().any(|x| matches!(
            x,
            CallAction::Sip(SipCommand::AnswerReinvite { code: 200, .. })
        )),
        "{a:?}"
    );
    assert!(
        a.iter()
            .any(|x| matches!(x, CallAction::StartFax(FaxMedia::T38 { .. }))),
        "{a:?}"
    );
    // No re-INVITE of ours follows.
    call.handle_timeout(t0 + Duration::from_secs(6));
    assert!(drain(&mut call).is_empty());
}
