//! A T.38 terminal: T.30 over IFP packets (spandsp `t38_terminal`).

use std::ffi::c_int;

use spandsp_sys as sys;

use super::log::install_log_handler;
use super::options::T38SessionConfig;
use super::outcome::{FaxReport, SessionEvent};
use super::t30::{T30Party, t38_tx_handler};
use super::{OutgoingIfp, SessionError};
use crate::sdp::RateManagement;

/// One end of a T.38 fax call, sans-IO (see the crate's convention).
///
/// Time goes in with [`handle_elapsed`](Self::handle_elapsed) (every 20 ms in real time, or in a
/// loop for simulated time), received IFPs with [`handle_ifp`](Self::handle_ifp); IFPs to send
/// come out of [`poll_transmit`](Self::poll_transmit) and progress out of
/// [`poll_event`](Self::poll_event). The session is over when [`report`](Self::report) is `Some`;
/// keep passing time until then even if the peer is silent (T.30 timers only advance with it).
pub struct T38Session {
    state: *mut sys::t38_terminal_state_t,
    core: *mut sys::t38_core_state_t,
    t30: T30Party,
}

// SAFETY: the session exclusively owns its spandsp object and both pinned boxes; spandsp state has
// no thread affinity (no TLS, the only globals are the write-once log handlers) and the callback data
// (`Shared`, `LogSink`) is plain owned data. It is not `Sync`: every method needs `&mut self` or
// reads data only this owner writes, and the raw pointers keep the auto-trait off.
unsafe impl Send for T38Session {}

impl T38Session {
    /// Creates a session; for sending, the TIFF must exist (spandsp opens it when the page starts).
    pub fn new(config: T38SessionConfig) -> Result<Self, SessionError> {
        let t30 = T30Party::new(&config.direction, &config.label, config.t38.version)?;
        // SAFETY: NULL asks spandsp to allocate; the handler only enqueues into the pinned shared
        // state, which `T30Party` frees only after `t38_terminal_free` (see Drop).
        let state = unsafe {
            sys::t38_terminal_init(
                std::ptr::null_mut(),
                config.direction.is_send(),
                Some(t38_tx_handler),
                t30.shared() as *mut _,
            )
        };
        if state.is_null() {
            return Err(SessionError::Init("T.38 terminal"));
        }
        // SAFETY: `state` is a live terminal; these return pointers into it.
        let (t30_state, core) = unsafe {
            (
                sys::t38_terminal_get_t30_state(state),
                sys::t38_terminal_get_t38_core_state(state),
            )
        };
        // From here on Drop releases everything, also on the error paths below.
        let mut session = Self { state, core, t30 };
        let log = session.t30.log();
        // SAFETY: live states; the log sink is pinned until after the terminal is freed.
        unsafe {
            install_log_handler(sys::t38_terminal_get_logging_state(state), log);
            install_log_handler(sys::t38_core_get_logging_state(core), log);
            session
                .t30
                .attach(t30_state, &config.direction, &config.fax)?;
        }
        let p = &config.t38;
        let rate = p.max_bit_rate.min(config.fax.max_bit_rate).max(2400) as c_int;
        let rate_mgmt = match p.rate_management {
            RateManagement::LocalTcf => {
                sys::t38_data_rate_management_types_e_T38_DATA_RATE_MANAGEMENT_LOCAL_TCF
            }
            RateManagement::TransferredTcf => {
                sys::t38_data_rate_management_types_e_T38_DATA_RATE_MANAGEMENT_TRANSFERRED_TCF
            }
        };
        // SAFETY: live core/terminal states; plain value setters.
        unsafe {
            sys::t38_set_t38_version(core, c_int::from(p.version));
            sys::t38_set_max_datagram_size(core, c_int::from(p.max_ifp.max(32)));
            sys::t38_set_fill_bit_removal(core, p.fill_bit_removal);
            sys::t38_set_data_rate_management_method(core, rate_mgmt as c_int);
            sys::t38_set_fastest_image_data_rate(core, rate);
            if !config.pacing {
                sys::t38_terminal_set_config(state, sys::T38_TERMINAL_OPTION_NO_PACING as c_int);
            }
        }
        session.t30.absorb();
        Ok(session)
    }

    /// Time passed: advances the session clock by `samples` (8 kHz; 160 = 20 ms). Returns true
    /// once spandsp considers the session finished.
    pub fn handle_elapsed(&mut self, samples: u32) -> bool {
        let samples = samples.min(i32::MAX as u32) as c_int;
        // SAFETY: live terminal; no Rust borrow of the callback state is alive during the call.
        let done = unsafe { sys::t38_terminal_send_timeout(self.state, samples) } != 0;
        self.t30.absorb();
        done
    }

    /// Feeds one received IFP with its UDPTL sequence number (in sequence order; spandsp drops
    /// repeats and late packets and handles gaps itself).
    pub fn handle_ifp(&mut self, seq: u16, ifp: &[u8]) -> Result<(), SessionError> {
        let len = c_int::try_from(ifp.len()).map_err(|_| SessionError::MalformedIfp(seq))?;
        // SAFETY: live core; `ifp` is readable for `len` bytes during the call, spandsp does not keep it.
        let rc = unsafe { sys::t38_core_rx_ifp_packet(self.core, ifp.as_ptr(), len, seq) };
        self.t30.absorb();
        if rc < 0 {
            Err(SessionError::MalformedIfp(seq))
        } else {
            Ok(())
        }
    }

    /// Hang up: ends T.30 now (code `CallDropped` unless the last page was already confirmed) and
    /// produces the report.
    pub fn handle_hangup(&mut self) {
        self.t30.hang_up();
    }

    /// The next IFP to send, if any.
    pub fn poll_transmit(&mut self) -> Option<OutgoingIfp> {
        self.t30.poll_ifp()
    }

    /// The next progress event, if any.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.t30.poll_event()
    }

    /// The final report, once phase E has happened.
    pub fn report(&self) -> Option<&FaxReport> {
        self.t30.report()
    }

    /// True once phase E has happened.
    pub fn is_finished(&self) -> bool {
        self.t30.report().is_some()
    }
}

impl Drop for T38Session {
    fn drop(&mut self) {
        // SAFETY: `state` came from t38_terminal_init and is freed exactly once; its callbacks may
        // still run during release, so the pinned boxes (in `t30`, dropped after this) go last.
        unsafe { sys::t38_terminal_free(self.state) };
    }
}
