//! The T.30 half shared by T.38 and audio sessions: the pinned callback state, the callbacks
//! themselves (which only enqueue), T.30 configuration and reading results.

use std::collections::VecDeque;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use spandsp_sys as sys;

use super::log::{LogSink, install_global_handlers, install_log_handler};
use super::options::{Direction, FaxOptions, ReceivedCompression};
use super::outcome::{FaxError, FaxReport, Resolution, SessionEvent, T30Error};
use super::{OutgoingIfp, PacketCategory, SessionError};

/// Something a callback saw, translated into [`SessionEvent`]s after spandsp returns.
#[derive(Debug, Clone, Copy)]
pub(super) enum Raw {
    PhaseB,
    PhaseD(i32),
    PhaseE(i32),
    Frame(u8),
}

/// State the spandsp callbacks write into. It lives in a `Box` turned into a raw pointer for the
/// whole life of the spandsp object and is freed only after that object.
pub(super) struct Shared {
    pub(super) ifps: VecDeque<OutgoingIfp>,
    pub(super) raw: VecDeque<Raw>,
    /// Set when a callback panicked (the panic is contained; the session is then failed).
    pub(super) callback_panicked: bool,
    /// T.38 version of the IFP syntax, needed to classify outgoing IFPs.
    pub(super) t38_version: u8,
}

impl Shared {
    pub(super) fn new() -> Self {
        Self {
            ifps: VecDeque::new(),
            raw: VecDeque::new(),
            callback_panicked: false,
            t38_version: 0,
        }
    }
}

/// Runs a callback body on the shared state, containing panics (unwinding into C is undefined).
///
/// # Safety
/// `user` must be the pointer produced by `Box::into_raw` for a live `Shared`, and no Rust
/// reference to it may be alive (true: the owner only touches it between spandsp calls).
unsafe fn with_shared(user: *mut c_void, f: impl FnOnce(&mut Shared)) {
    if user.is_null() {
        return;
    }
    // SAFETY: per this function's contract the pointer is live and unaliased for this call.
    let shared = unsafe { &mut *(user as *mut Shared) };
    if catch_unwind(AssertUnwindSafe(|| f(shared))).is_err() {
        shared.callback_panicked = true;
    }
}

pub(super) unsafe extern "C" fn phase_b_handler(user: *mut c_void, _result: c_int) -> c_int {
    // SAFETY: spandsp passes back the user pointer we registered, a live `Shared`.
    unsafe { with_shared(user, |s| s.raw.push_back(Raw::PhaseB)) };
    sys::t30_err_e::T30_ERR_OK as c_int
}

pub(super) unsafe extern "C" fn phase_d_handler(user: *mut c_void, result: c_int) -> c_int {
    // SAFETY: as in `phase_b_handler`.
    unsafe { with_shared(user, |s| s.raw.push_back(Raw::PhaseD(result))) };
    sys::t30_err_e::T30_ERR_OK as c_int
}

pub(super) unsafe extern "C" fn phase_e_handler(user: *mut c_void, code: c_int) {
    // SAFETY: as in `phase_b_handler`.
    unsafe { with_shared(user, |s| s.raw.push_back(Raw::PhaseE(code))) };
}

pub(super) unsafe extern "C" fn frame_handler(
    user: *mut c_void,
    _incoming: bool,
    msg: *const u8,
    len: c_int,
) {
    if msg.is_null() || len < 3 {
        return;
    }
    // SAFETY: spandsp hands us `len` (≥ 3) readable bytes of the HDLC frame; we read the FCF octet.
    let fcf = unsafe { *msg.add(2) } & 0xFE;
    // SAFETY: as in `phase_b_handler`.
    unsafe { with_shared(user, |s| s.raw.push_back(Raw::Frame(fcf))) };
}

/// The T.38 tx callback: classify and queue the IFP; never call back into spandsp here.
pub(super) unsafe extern "C" fn t38_tx_handler(
    _core: *mut sys::t38_core_state_t,
    user: *mut c_void,
    buf: *const u8,
    len: c_int,
    count: c_int,
) -> c_int {
    if buf.is_null() || len <= 0 {
        return 0;
    }
    // SAFETY: spandsp passes a buffer of `len` bytes valid for the duration of this call; we copy it.
    let data = unsafe { std::slice::from_raw_parts(buf, len as usize) }.to_vec();
    let count = count.clamp(1, 255) as u8;
    // SAFETY: as in `phase_b_handler`.
    unsafe {
        with_shared(user, |s| {
            let category = PacketCategory::classify(&data, s.t38_version);
            s.ifps.push_back(OutgoingIfp {
                data,
                category,
                count,
            })
        })
    };
    0
}

/// Configures the T.30 engine of a new session and registers our handlers on it.
///
/// # Safety
/// `t30` must be a live T.30 state, `shared` and `log` the pinned boxes that outlive it.
pub(super) unsafe fn configure(
    t30: *mut sys::t30_state_t,
    shared: *mut Shared,
    log: *mut LogSink,
    direction: &Direction,
    fax: &FaxOptions,
    rx_part: Option<&Path>,
) -> Result<(), SessionError> {
    let ident = CString::new(fax.local_ident.as_str())
        .map_err(|_| SessionError::BadOption("local_ident"))?;
    if fax.local_ident.len() > 20 || !fax.local_ident.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(SessionError::BadOption("local_ident"));
    }
    let header = match &fax.page_header {
        Some(h) => {
            Some(CString::new(h.as_str()).map_err(|_| SessionError::BadOption("page_header"))?)
        }
        None => None,
    };
    let modems = fax.effective_modems();
    let mut modem_bits = 0;
    if modems.v27ter {
        modem_bits |= sys::T30_SUPPORT_V27TER as c_int;
    }
    if modems.v29 {
        modem_bits |= sys::T30_SUPPORT_V29 as c_int;
    }
    if modems.v17 {
        modem_bits |= sys::T30_SUPPORT_V17 as c_int;
    }
    if modem_bits == 0 {
        return Err(SessionError::BadOption("modems/bit rates leave no modem"));
    }
    let mut compressions = sys::t4_image_compression_t_T4_COMPRESSION_T4_1D
        | sys::t4_image_compression_t_T4_COMPRESSION_T4_2D;
    if fax.ecm {
        compressions |= sys::t4_image_compression_t_T4_COMPRESSION_T6;
    }
    let output_compression = match fax.received_compression {
        ReceivedCompression::Mh => sys::t4_image_compression_t_T4_COMPRESSION_T4_1D,
        ReceivedCompression::Mr => sys::t4_image_compression_t_T4_COMPRESSION_T4_2D,
        ReceivedCompression::Mmr => sys::t4_image_compression_t_T4_COMPRESSION_T6,
    };
    let user = shared as *mut c_void;
    // SAFETY: `t30` is live (caller contract); the strings are NUL-terminated and spandsp copies them;
    // `user` points to the pinned `Shared` which outlives the T.30 state (caller contract).
    unsafe {
        sys::t30_set_tx_ident(t30, ident.as_ptr());
        if let Some(h) = &header {
            sys::t30_set_tx_page_header_info(t30, h.as_ptr());
        }
        sys::t30_set_ecm_capability(t30, fax.ecm);
        sys::t30_set_supported_modems(t30, modem_bits);
        sys::t30_set_supported_compressions(t30, compressions as c_int);
        sys::t30_set_supported_output_compressions(t30, output_compression as c_int);
        sys::t30_set_phase_b_handler(t30, Some(phase_b_handler), user);
        sys::t30_set_phase_d_handler(t30, Some(phase_d_handler), user);
        sys::t30_set_phase_e_handler(t30, Some(phase_e_handler), user);
        sys::t30_set_real_time_frame_handler(t30, Some(frame_handler), user);
        install_log_handler(sys::t30_get_logging_state(t30), log);
    }
    match direction {
        Direction::Send { tiff } => {
            let path = path_cstring(tiff)?;
            // SAFETY: live state; spandsp copies the path.
            unsafe { sys::t30_set_tx_file(t30, path.as_ptr(), -1, -1) };
        }
        Direction::Receive { .. } => {
            let part = rx_part.ok_or(SessionError::BadOption("receive path"))?;
            let path = path_cstring(part)?;
            // SAFETY: live state; spandsp copies the path.
            unsafe { sys::t30_set_rx_file(t30, path.as_ptr(), -1) };
        }
    }
    Ok(())
}

fn path_cstring(p: &Path) -> Result<CString, SessionError> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(p.as_os_str().as_bytes()).map_err(|_| SessionError::BadOption("file path"))
}

/// The `.part` file spandsp writes into before the call succeeds.
pub(super) fn part_path(final_path: &Path) -> PathBuf {
    let mut s = final_path.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}

/// Checks the document before spandsp sees it: a clear typed error beats a T.30 file error later.
pub(super) fn check_direction(direction: &Direction) -> Result<Option<PathBuf>, SessionError> {
    match direction {
        Direction::Send { tiff } => {
            std::fs::metadata(tiff)
                .map_err(|e| SessionError::Document(tiff.clone(), e.to_string()))?;
            Ok(None)
        }
        Direction::Receive { tiff } => {
            let part = part_path(tiff);
            // A stale partial file from a crashed run must not be appended to.
            let _ = std::fs::remove_file(&part);
            Ok(Some(part))
        }
    }
}

/// Turns queued callback records into events; needs the live T.30 state for statistics.
pub(super) struct Progress {
    pages_done: u32,
    page_active: bool,
    /// spandsp's ECM retry counter restarts with every page: the sum of the counts before each restart, and
    /// the last value read (see [`Progress::sample_ecm`]).
    ecm_retries_before: u32,
    ecm_retries_seen: u32,
    finished: Option<FaxReport>,
    pub(super) events: VecDeque<SessionEvent>,
    sending: bool,
    receive_final: Option<PathBuf>,
    receive_part: Option<PathBuf>,
}

impl Progress {
    pub(super) fn new(direction: &Direction, receive_part: Option<PathBuf>) -> Self {
        let receive_final = match direction {
            Direction::Receive { tiff } => Some(tiff.clone()),
            Direction::Send { .. } => None,
        };
        Self {
            pages_done: 0,
            page_active: false,
            ecm_retries_before: 0,
            ecm_retries_seen: 0,
            finished: None,
            events: VecDeque::new(),
            sending: direction.is_send(),
            receive_final,
            receive_part,
        }
    }

    pub(super) fn report(&self) -> Option<&FaxReport> {
        self.finished.as_ref()
    }

    /// Follows `error_correcting_mode_retries`, which only grows within a page and is zeroed when the next
    /// page starts: a value below the last one read means a new page, whose predecessor's count is kept.
    /// Read at every frame, so a page's last retries are seen before the restart.
    fn sample_ecm(&mut self, st: &sys::t30_stats_t) {
        let now = st.error_correcting_mode_retries.max(0) as u32;
        if now < self.ecm_retries_seen {
            self.ecm_retries_before = self
                .ecm_retries_before
                .saturating_add(self.ecm_retries_seen);
        }
        self.ecm_retries_seen = now;
    }

    fn ecm_retries(&self) -> u32 {
        self.ecm_retries_before
            .saturating_add(self.ecm_retries_seen)
    }

    /// Drains the callback records.
    ///
    /// # Safety
    /// `t30` must be live and no spandsp call may be running on it; `shared` must be the live pinned
    /// state with no other reference to it alive; `log` the session's live log sink.
    pub(super) unsafe fn absorb(
        &mut self,
        t30: *mut sys::t30_state_t,
        shared: *mut Shared,
        log: *const LogSink,
    ) {
        // SAFETY: caller contract; the borrow ends before any spandsp call.
        let panicked = std::mem::take(unsafe { &mut (*shared).callback_panicked });
        if panicked && self.finished.is_none() {
            // SAFETY: live state, no call in progress, no Rust borrow of `shared` alive. Terminating
            // runs phase E, which enqueues through the callback.
            unsafe { sys::t30_terminate(t30) };
        }
        // SAFETY (loop condition): caller contract; short borrow, no spandsp call while it lives.
        while let Some(raw) = unsafe { (*shared).raw.pop_front() } {
            match raw {
                Raw::PhaseB => self.events.push_back(SessionEvent::Negotiating),
                Raw::Frame(fcf) if fcf == (sys::T30_CFR as u8 & 0xFE) => {
                    // SAFETY: caller contract.
                    let st = unsafe { stats(t30) };
                    self.sample_ecm(&st);
                    self.events.push_back(SessionEvent::Trained {
                        bit_rate: st.bit_rate.max(0) as u32,
                        ecm: st.error_correcting_mode != 0,
                    });
                    if !self.page_active {
                        self.page_active = true;
                        self.events
                            .push_back(SessionEvent::PageStarted(self.pages_done + 1));
                    }
                }
                Raw::Frame(_) => {
                    // SAFETY: caller contract.
                    let st = unsafe { stats(t30) };
                    self.sample_ecm(&st);
                }
                Raw::PhaseD(fcf) => {
                    // SAFETY: caller contract.
                    let st = unsafe { stats(t30) };
                    self.sample_ecm(&st);
                    let pages = if self.sending {
                        st.pages_tx
                    } else {
                        st.pages_rx
                    }
                    .max(0) as u32;
                    while self.pages_done < pages {
                        self.pages_done += 1;
                        self.page_active = false;
                        self.events.push_back(SessionEvent::PageDone {
                            page: self.pages_done,
                            bad_rows: st.bad_rows.max(0) as u32,
                        });
                    }
                    if (fcf as u8 & 0xFE) == (sys::T30_MPS as u8 & 0xFE) && !self.page_active {
                        self.page_active = true;
                        self.events
                            .push_back(SessionEvent::PageStarted(self.pages_done + 1));
                    }
                }
                Raw::PhaseE(code) => {
                    if self.finished.is_some() {
                        continue;
                    }
                    // SAFETY: caller contract.
                    let st = unsafe { stats(t30) };
                    self.sample_ecm(&st);
                    // SAFETY: caller contract.
                    let mut report = unsafe { build_report(t30, code, self.sending) };
                    report.ecm_retries = self.ecm_retries();
                    let pages = report.pages;
                    while self.pages_done < pages {
                        self.pages_done += 1;
                        self.events.push_back(SessionEvent::PageDone {
                            page: self.pages_done,
                            bad_rows: report.bad_rows,
                        });
                    }
                    // SAFETY: caller contract (live sink).
                    self.finish_receive_file(pages, unsafe { &*log });
                    self.events
                        .push_back(SessionEvent::Completed(report.clone()));
                    self.finished = Some(report);
                }
            }
        }
    }

    /// The session was dropped before phase E: the partial receive file must not linger.
    pub(super) fn abandon(&mut self) {
        if let Some(part) = self.receive_part.take() {
            let _ = std::fs::remove_file(part);
        }
    }

    /// spandsp has closed the file before phase E: publish it atomically, or drop an empty one.
    fn finish_receive_file(&mut self, pages: u32, log: &LogSink) {
        let (Some(part), Some(fin)) = (self.receive_part.take(), self.receive_final.as_ref())
        else {
            return;
        };
        if pages > 0 {
            if let Err(e) = std::fs::rename(&part, fin) {
                tracing::error!(session = %log.label(), error = %e, "could not publish the received TIFF");
            }
        } else {
            let _ = std::fs::remove_file(&part);
        }
    }
}

/// Reads spandsp's transfer statistics.
///
/// # Safety
/// `t30` must be live and idle.
pub(super) unsafe fn stats(t30: *mut sys::t30_state_t) -> sys::t30_stats_t {
    // SAFETY: t30_stats_t is a plain C struct of ints; all-zero is a valid value.
    let mut st: sys::t30_stats_t = unsafe { std::mem::zeroed() };
    // SAFETY: live, idle state (caller contract); `st` is a valid out-pointer.
    unsafe { sys::t30_get_transfer_statistics(t30, &mut st) };
    st
}

/// spandsp's text for a completion code.
pub(super) fn completion_text(code: i32) -> String {
    // SAFETY: returns a pointer to a static string (or NULL), never freed.
    let p = unsafe { sys::t30_completion_code_to_str(code) };
    if p.is_null() {
        return format!("code {code}");
    }
    // SAFETY: non-null static NUL-terminated string.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// # Safety
/// `t30` must be live and idle.
unsafe fn build_report(t30: *mut sys::t30_state_t, code: i32, sending: bool) -> FaxReport {
    // SAFETY: caller contract.
    let st = unsafe { stats(t30) };
    // SAFETY: caller contract; returns NULL or a NUL-terminated string owned by the state.
    let ident_ptr: *const c_char = unsafe { sys::t30_get_rx_ident(t30) };
    let remote_ident = if ident_ptr.is_null() {
        None
    } else {
        // SAFETY: non-null NUL-terminated string owned by the live state; copied at once.
        let s = unsafe { CStr::from_ptr(ident_ptr) }
            .to_string_lossy()
            .trim()
            .to_owned();
        (!s.is_empty()).then_some(s)
    };
    let outcome = match T30Error::from_code(code) {
        None => Ok(()),
        Some(kind) => Err(FaxError {
            kind,
            text: completion_text(code),
        }),
    };
    FaxReport {
        outcome,
        pages: if sending { st.pages_tx } else { st.pages_rx }.max(0) as u32,
        bit_rate: st.bit_rate.max(0) as u32,
        resolution: Resolution {
            x: st.x_resolution.max(0) as u32,
            y: st.y_resolution.max(0) as u32,
        },
        ecm: st.error_correcting_mode != 0,
        bad_rows: st.bad_rows.max(0) as u32,
        // Summed over the pages by the caller ([`Progress`]); spandsp's own count is per page.
        ecm_retries: 0,
        remote_ident,
        compression: st.compression.max(0) as u32,
    }
}

/// The T.30 side of one session, set up and torn down the same way whether T.30 runs inside a
/// T.38 terminal or a G.711 fax modem: the document check, the pinned callback state and log
/// sink, the T.30 configuration, the progress, and freeing the pins only after the spandsp object.
///
/// Made before the spandsp object (which needs [`T30Party::shared`] as callback data), configured
/// with [`T30Party::attach`] once T.30 exists inside it. The owning session frees its spandsp
/// object in its own `Drop`; this field is dropped afterwards, which is the order the pins need.
pub(super) struct T30Party {
    /// Null until [`T30Party::attach`].
    t30: *mut sys::t30_state_t,
    shared: *mut Shared,
    log: *mut LogSink,
    receive_part: Option<PathBuf>,
    progress: Progress,
}

impl T30Party {
    /// Checks the document and pins the callback state for a session in `direction`.
    pub(super) fn new(
        direction: &Direction,
        label: &str,
        t38_version: u8,
    ) -> Result<Self, SessionError> {
        install_global_handlers();
        let receive_part = check_direction(direction)?;
        let mut shared = Shared::new();
        shared.t38_version = t38_version;
        Ok(Self {
            t30: std::ptr::null_mut(),
            shared: Box::into_raw(Box::new(shared)),
            log: Box::into_raw(Box::new(LogSink::new(label))),
            progress: Progress::new(direction, receive_part.clone()),
            receive_part,
        })
    }

    /// The pinned callback state, for spandsp's user-data pointers.
    pub(super) fn shared(&self) -> *mut Shared {
        self.shared
    }

    /// The pinned log sink, for spandsp's logging states.
    pub(super) fn log(&self) -> *mut LogSink {
        self.log
    }

    /// Configures T.30 (identity, modems, compressions, the document) and registers our handlers.
    ///
    /// # Safety
    /// `t30` must be the live T.30 state inside the owner's spandsp object, and the owner must
    /// free that object before this value is dropped.
    pub(super) unsafe fn attach(
        &mut self,
        t30: *mut sys::t30_state_t,
        direction: &Direction,
        fax: &FaxOptions,
    ) -> Result<(), SessionError> {
        self.t30 = t30;
        // SAFETY: caller contract; `shared` and `log` are pinned until after the spandsp object.
        unsafe {
            configure(
                t30,
                self.shared,
                self.log,
                direction,
                fax,
                self.receive_part.as_deref(),
            )
        }
    }

    /// Turns what the callbacks queued into events. Call after every spandsp call returns.
    pub(super) fn absorb(&mut self) {
        if self.t30.is_null() {
            return; // not attached: no spandsp call has run that could have queued anything
        }
        // SAFETY: attached, live T.30 state, no spandsp call in progress, no other borrow of
        // `shared`.
        unsafe { self.progress.absorb(self.t30, self.shared, self.log) };
    }

    /// The next IFP spandsp wants sent (T.38 only; audio never queues one).
    pub(super) fn poll_ifp(&mut self) -> Option<OutgoingIfp> {
        // SAFETY: the pinned state is live and no spandsp call (hence no callback) is running.
        unsafe { (*self.shared).ifps.pop_front() }
    }

    /// The next progress event, if any.
    pub(super) fn poll_event(&mut self) -> Option<SessionEvent> {
        self.progress.events.pop_front()
    }

    /// The final report, once phase E has happened.
    pub(super) fn report(&self) -> Option<&FaxReport> {
        self.progress.report()
    }

    /// Ends T.30 now, unless phase E has already happened.
    pub(super) fn hang_up(&mut self) {
        if self.report().is_some() || self.t30.is_null() {
            return;
        }
        // SAFETY: attached, live T.30 state, no call in progress.
        unsafe { sys::t30_terminate(self.t30) };
        self.absorb();
    }
}

impl Drop for T30Party {
    fn drop(&mut self) {
        // SAFETY: both came from Box::into_raw in `new` and are freed once; the owner has freed
        // its spandsp object already (see the type's docs), so no callback can reach them.
        unsafe {
            drop(Box::from_raw(self.shared));
            drop(Box::from_raw(self.log));
        }
        self.progress.abandon();
    }
}
