//! G.711 audio fax: T.30 through spandsp's own fax modems (`fax_state_t`), for calls that stay in
//! PCMU/PCMA instead of switching to T.38.

use std::ffi::c_int;

use spandsp_sys as sys;

use super::SessionError;
use super::log::{LogSink, install_global_handlers, install_log_handler};
use super::options::{AudioSessionConfig, G711Law};
use super::outcome::{FaxReport, SessionEvent};
use super::t30::{self, Progress, Shared};

/// One end of a G.711 fax call, sans-IO. The audio stream is the clock: feed every received frame
/// (or [`receive_gap`](Self::receive_gap) for a missing one) and take one frame to send per period.
pub struct AudioSession {
    state: *mut sys::fax_state_t,
    t30: *mut sys::t30_state_t,
    g711: *mut sys::g711_state_t,
    shared: *mut Shared,
    log: *mut LogSink,
    progress: Progress,
    pcm: Vec<i16>,
}

// SAFETY: exclusive owner of its spandsp objects and pinned boxes; no thread affinity in spandsp;
// see `T38Session`. Not `Sync` (raw pointers keep the auto-trait off).
unsafe impl Send for AudioSession {}

impl AudioSession {
    /// Creates a session; for sending, the TIFF must exist.
    pub fn new(config: AudioSessionConfig) -> Result<Self, SessionError> {
        install_global_handlers();
        let rx_part = t30::check_direction(&config.direction)?;
        let shared = Box::into_raw(Box::new(Shared::new()));
        let log = Box::into_raw(Box::new(LogSink::new(&config.label)));
        // SAFETY: NULL asks spandsp to allocate.
        let state = unsafe { sys::fax_init(std::ptr::null_mut(), config.direction.is_send()) };
        let mode = match config.law {
            G711Law::Alaw => sys::G711_ALAW,
            G711Law::Ulaw => sys::G711_ULAW,
        };
        // SAFETY: NULL asks spandsp to allocate.
        let g711 = unsafe { sys::g711_init(std::ptr::null_mut(), mode as c_int) };
        if state.is_null() || g711.is_null() {
            // SAFETY: free what was allocated; the boxes came from Box::into_raw and are unshared.
            unsafe {
                if !state.is_null() {
                    sys::fax_free(state);
                }
                if !g711.is_null() {
                    sys::g711_free(g711);
                }
                drop(Box::from_raw(shared));
                drop(Box::from_raw(log));
            }
            return Err(SessionError::Init("fax modem"));
        }
        // SAFETY: live fax state.
        let t30 = unsafe { sys::fax_get_t30_state(state) };
        let mut session = Self {
            state,
            t30,
            g711,
            shared,
            log,
            progress: Progress::new(&config.direction, rx_part.clone()),
            pcm: Vec::with_capacity(160),
        };
        // SAFETY: live states; `shared`/`log` are pinned until after `fax_free` (see Drop).
        unsafe {
            install_log_handler(sys::fax_get_logging_state(state), log);
            t30::configure(
                t30,
                shared,
                log,
                &config.direction,
                &config.fax,
                rx_part.as_deref(),
            )?;
            // Emit silence when idle: RTP must be a continuous stream.
            sys::fax_set_transmit_on_idle(state, 1);
            sys::fax_set_tep_mode(state, 0);
        }
        session.absorb();
        Ok(session)
    }

    /// Feeds one received G.711 frame (any length; 160 octets = 20 ms).
    pub fn receive_audio(&mut self, g711: &[u8]) {
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
        self.absorb();
    }

    /// Accounts for `samples` of audio that never arrived, so T.30 timers keep running.
    pub fn receive_gap(&mut self, samples: u32) {
        let samples = samples.min(i32::MAX as u32) as c_int;
        // SAFETY: live fax state.
        unsafe { sys::fax_rx_fillin(self.state, samples) };
        self.absorb();
    }

    /// Produces the next `samples` of audio to send, G.711-encoded (exactly `samples` octets).
    pub fn transmit_audio(&mut self, samples: usize) -> Vec<u8> {
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
        self.absorb();
        out
    }

    /// The next progress event, if any.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.progress.events.pop_front()
    }

    /// The final report, once phase E has happened.
    pub fn report(&self) -> Option<&FaxReport> {
        self.progress.report()
    }

    /// True once phase E has happened.
    pub fn is_finished(&self) -> bool {
        self.progress.report().is_some()
    }

    /// Hang up now (see [`T38Session::terminate`](super::T38Session::terminate)).
    pub fn terminate(&mut self) {
        if self.is_finished() {
            return;
        }
        // SAFETY: live T.30 state, no call in progress.
        unsafe { sys::t30_terminate(self.t30) };
        self.absorb();
    }

    fn absorb(&mut self) {
        // SAFETY: live T.30 state, no spandsp call in progress, no other borrow of `shared`.
        unsafe { self.progress.absorb(self.t30, self.shared, self.log) };
    }
}

impl Drop for AudioSession {
    fn drop(&mut self) {
        // SAFETY: each object came from its init and is freed once; callbacks may run during
        // `fax_free`, so the pinned boxes go last.
        unsafe {
            sys::fax_free(self.state);
            sys::g711_free(self.g711);
            drop(Box::from_raw(self.shared));
            drop(Box::from_raw(self.log));
        }
        self.progress.abandon();
    }
}
