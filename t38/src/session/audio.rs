//! G.711 audio fax: T.30 through spandsp's own fax modems (`fax_state_t`), for calls that stay in
//! PCMU/PCMA instead of switching to T.38.

use std::ffi::c_int;

use spandsp_sys as sys;

use super::SessionError;
use super::log::install_log_handler;
use super::options::{AudioSessionConfig, G711Law};
use super::outcome::{FaxReport, SessionEvent};
use super::t30::T30Party;

/// One end of a G.711 fax call, sans-IO (see the crate's convention). The audio stream is the
/// clock: feed every received frame with [`handle_audio`](Self::handle_audio) (or
/// [`handle_gap`](Self::handle_gap) for a missing one) and take one frame to send per period from
/// [`poll_transmit`](Self::poll_transmit).
pub struct AudioSession {
    state: *mut sys::fax_state_t,
    g711: *mut sys::g711_state_t,
    pcm: Vec<i16>,
    t30: T30Party,
}

// SAFETY: exclusive owner of its spandsp objects and pinned boxes; no thread affinity in spandsp;
// see `T38Session`. Not `Sync` (raw pointers keep the auto-trait off).
unsafe impl Send for AudioSession {}

impl AudioSession {
    /// Creates a session; for sending, the TIFF must exist.
    pub fn new(config: AudioSessionConfig) -> Result<Self, SessionError> {
        let t30 = T30Party::new(&config.direction, &config.label, 0)?;
        // SAFETY: NULL asks spandsp to allocate.
        let state = unsafe { sys::fax_init(std::ptr::null_mut(), config.direction.is_send()) };
        let mode = match config.law {
            G711Law::Alaw => sys::G711_ALAW,
            G711Law::Ulaw => sys::G711_ULAW,
        };
        // SAFETY: NULL asks spandsp to allocate.
        let g711 = unsafe { sys::g711_init(std::ptr::null_mut(), mode as c_int) };
        if state.is_null() || g711.is_null() {
            // SAFETY: free what was allocated (the pinned boxes go with `t30`, after these).
            unsafe {
                if !state.is_null() {
                    sys::fax_free(state);
                }
                if !g711.is_null() {
                    sys::g711_free(g711);
                }
            }
            return Err(SessionError::Init("fax modem"));
        }
        // SAFETY: live fax state.
        let t30_state = unsafe { sys::fax_get_t30_state(state) };
        let mut session = Self {
            state,
            g711,
            pcm: Vec::with_capacity(160),
            t30,
        };
        let log = session.t30.log();
        // SAFETY: live states; the pinned boxes outlive `fax_free` (see Drop).
        unsafe {
            install_log_handler(sys::fax_get_logging_state(state), log);
            session
                .t30
                .attach(t30_state, &config.direction, &config.fax)?;
            // Emit silence when idle: RTP must be a continuous stream.
            sys::fax_set_transmit_on_idle(state, 1);
            sys::fax_set_tep_mode(state, 0);
        }
        session.t30.absorb();
        Ok(session)
    }

    /// Feeds one received G.711 frame (any length; 160 octets = 20 ms).
    pub fn handle_audio(&mut self, g711: &[u8]) {
        if g711.is_empty() {
            return;
        }
        self.pcm.clear();
        self.pcm.resize(g711.len(), 0);
        let len = g711.len().min(i32::MAX as usize) as c_int;
        // SAFETY: live decoder; output buffer holds `len` samples, input `len` octets.
        let n = unsafe { sys::g711_decode(self.g711, self.pcm.as_mut_ptr(), g711.as_ptr(), len) };
        let n = n.clamp(0, len);
        // SAFETY: live fax state; `pcm` holds at least `n` samples; spandsp does not keep the pointer.
        unsafe { sys::fax_rx(self.state, self.pcm.as_mut_ptr(), n) };
        self.t30.absorb();
    }

    /// Accounts for `samples` of audio that never arrived, so T.30 timers keep running.
    pub fn handle_gap(&mut self, samples: u32) {
        let samples = samples.min(i32::MAX as u32) as c_int;
        // SAFETY: live fax state.
        unsafe { sys::fax_rx_fillin(self.state, samples) };
        self.t30.absorb();
    }

    /// Produces the next `samples` of audio to send, G.711-encoded (exactly `samples` octets).
    pub fn poll_transmit(&mut self, samples: usize) -> Vec<u8> {
        let samples = samples.min(i32::MAX as usize);
        self.pcm.clear();
        self.pcm.resize(samples, 0);
        // SAFETY: live fax state; buffer holds `samples` samples.
        let n = unsafe { sys::fax_tx(self.state, self.pcm.as_mut_ptr(), samples as c_int) };
        // Anything spandsp did not fill is silence (already zero).
        let _ = n;
        let mut out = vec![0u8; samples];
        // SAFETY: live encoder; `out` holds `samples` octets, `pcm` `samples` samples.
        unsafe {
            sys::g711_encode(
                self.g711,
                out.as_mut_ptr(),
                self.pcm.as_ptr(),
                samples as c_int,
            )
        };
        self.t30.absorb();
        out
    }

    /// Hang up now (see [`T38Session::handle_hangup`](super::T38Session::handle_hangup)).
    pub fn handle_hangup(&mut self) {
        self.t30.hang_up();
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

impl Drop for AudioSession {
    fn drop(&mut self) {
        // SAFETY: each object came from its init and is freed once; callbacks may run during
        // `fax_free`, so the pinned boxes (in `t30`, dropped after this) go last.
        unsafe {
            sys::fax_free(self.state);
            sys::g711_free(self.g711);
        }
    }
}
