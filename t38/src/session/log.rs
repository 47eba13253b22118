//! Routes spandsp's and libtiff's log output to `tracing`, never to stderr.
//!
//! spandsp logs per object (T.30, T.38 core, modems) through a message handler we set on each
//! logging state, with the session label as user data. Its global fallback handler and libtiff's
//! error/warning handlers are process-wide, so they are installed once.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::Once;

use spandsp_sys as sys;

/// Target for every spandsp/libtiff log line.
pub const LOG_TARGET: &str = "faxline_t38::spandsp";

/// Per-session log context handed to spandsp as user data (pinned for the session's life).
pub(super) struct LogSink {
    label: String,
}

impl LogSink {
    pub(super) fn new(label: &str) -> Self {
        Self {
            label: label.to_owned(),
        }
    }

    pub(super) fn label(&self) -> &str {
        &self.label
    }
}

/// The spandsp log level matching what `tracing` will actually record, so spandsp does not format
/// lines nobody reads (its FLOW logging costs real CPU).
fn spandsp_level() -> c_int {
    use tracing::Level;
    let lvl = if tracing::enabled!(target: LOG_TARGET, Level::TRACE) {
        sys::SPAN_LOG_DEBUG
    } else if tracing::enabled!(target: LOG_TARGET, Level::DEBUG) {
        sys::SPAN_LOG_FLOW
    } else if tracing::enabled!(target: LOG_TARGET, Level::INFO) {
        sys::SPAN_LOG_PROTOCOL_WARNING
    } else if tracing::enabled!(target: LOG_TARGET, Level::WARN) {
        sys::SPAN_LOG_PROTOCOL_ERROR
    } else {
        sys::SPAN_LOG_ERROR
    };
    (lvl | sys::SPAN_LOG_SHOW_PROTOCOL) as c_int
}

fn emit(label: &str, level: c_int, text: &str) {
    let text = text.trim_end();
    if text.is_empty() {
        return;
    }
    match level as u32 {
        sys::SPAN_LOG_ERROR => tracing::error!(target: LOG_TARGET, session = %label, "{text}"),
        sys::SPAN_LOG_WARNING | sys::SPAN_LOG_PROTOCOL_ERROR => {
            tracing::warn!(target: LOG_TARGET, session = %label, "{text}")
        }
        sys::SPAN_LOG_PROTOCOL_WARNING => {
            tracing::info!(target: LOG_TARGET, session = %label, "{text}")
        }
        sys::SPAN_LOG_FLOW..=sys::SPAN_LOG_FLOW_3 => {
            tracing::debug!(target: LOG_TARGET, session = %label, "{text}")
        }
        _ => tracing::trace!(target: LOG_TARGET, session = %label, "{text}"),
    }
}

unsafe extern "C" fn session_message(user: *mut c_void, level: c_int, text: *const c_char) {
    if text.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: spandsp passes a NUL-terminated message valid for this call.
        let text = unsafe { CStr::from_ptr(text) }.to_string_lossy();
        let label = if user.is_null() {
            "-"
        } else {
            // SAFETY: `user` is the session's pinned `LogSink`, alive until after the spandsp object is
            // freed, and only read here.
            unsafe { &*(user as *const LogSink) }.label()
        };
        emit(label, level, &text);
    });
}

unsafe extern "C" fn global_message(_user: *mut c_void, level: c_int, text: *const c_char) {
    // SAFETY: same contract as `session_message`, with no user data.
    unsafe { session_message(std::ptr::null_mut(), level, text) };
}

// libtiff's handler type is `void (*)(const char *module, const char *fmt, va_list ap)`.
// On x86-64 and AArch64 Linux a `va_list` argument is passed as a pointer, so it can be forwarded
// to `vsnprintf` as an opaque pointer without touching it.
type TiffHandler = Option<unsafe extern "C" fn(*const c_char, *const c_char, *mut c_void)>;

unsafe extern "C" {
    fn TIFFSetErrorHandler(handler: TiffHandler) -> TiffHandler;
    fn TIFFSetWarningHandler(handler: TiffHandler) -> TiffHandler;
    fn vsnprintf(buf: *mut c_char, size: usize, fmt: *const c_char, ap: *mut c_void) -> c_int;
}

/// Formats a libtiff message.
///
/// # Safety
/// `fmt`/`ap` must be the pair libtiff passed to its handler.
unsafe fn tiff_text(module: *const c_char, fmt: *const c_char, ap: *mut c_void) -> String {
    let mut buf = [0 as c_char; 512];
    let text = if cfg!(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    )) {
        // SAFETY: buf is writable for its length; fmt/ap come from libtiff (caller contract), and on
        // these targets a va_list parameter is a pointer that may be forwarded as is.
        unsafe { vsnprintf(buf.as_mut_ptr(), buf.len(), fmt, ap) };
        // SAFETY: vsnprintf NUL-terminates within the buffer.
        unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    } else if fmt.is_null() {
        String::new()
    } else {
        // SAFETY: libtiff's format string is NUL-terminated.
        unsafe { CStr::from_ptr(fmt) }
            .to_string_lossy()
            .into_owned()
    };
    let module = if module.is_null() {
        String::new()
    } else {
        // SAFETY: NUL-terminated module name from libtiff.
        unsafe { CStr::from_ptr(module) }
            .to_string_lossy()
            .into_owned()
    };
    format!("libtiff {module}: {text}")
}

unsafe extern "C" fn tiff_error(module: *const c_char, fmt: *const c_char, ap: *mut c_void) {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: forwarded straight from libtiff.
        let text = unsafe { tiff_text(module, fmt, ap) };
        tracing::warn!(target: LOG_TARGET, "{text}");
    });
}

unsafe extern "C" fn tiff_warning(module: *const c_char, fmt: *const c_char, ap: *mut c_void) {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: forwarded straight from libtiff.
        let text = unsafe { tiff_text(module, fmt, ap) };
        tracing::debug!(target: LOG_TARGET, "{text}");
    });
}

/// Installs the process-wide handlers (spandsp fallback, libtiff) exactly once.
pub(super) fn install_global_handlers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: the handlers are `extern "C"` functions with the expected signatures that never
        // unwind; called once, before any session object exists on this path.
        unsafe {
            sys::span_set_message_handler(Some(global_message), std::ptr::null_mut());
            TIFFSetErrorHandler(Some(tiff_error));
            TIFFSetWarningHandler(Some(tiff_warning));
        }
    });
}

/// Routes one spandsp logging state to `tracing` with the session's label.
///
/// # Safety
/// `state` must be a live logging state (or NULL) and `sink` a pinned `LogSink` that outlives the
/// object owning `state`.
pub(super) unsafe fn install_log_handler(state: *mut sys::logging_state_t, sink: *mut LogSink) {
    if state.is_null() {
        return;
    }
    // SAFETY: caller contract.
    unsafe {
        sys::span_log_set_level(state, spandsp_level());
        sys::span_log_set_message_handler(state, Some(session_message), sink as *mut c_void);
    }
}
