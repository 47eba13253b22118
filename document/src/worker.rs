//! Renders of untrusted documents in a child process under a memory and time budget.
//!
//! The pre-scan (`prescan`) refuses the decompression bombs it can see, but not everything a
//! hostile PDF can make hayro allocate is visible before rendering, and a stuck hayro thread
//! cannot be stopped. So servers run every render (page counts, previews, the agent's render) in
//! a worker process: the `faxline` binary re-executed as `faxline render-worker`, which limits its
//! own address space (`RLIMIT_AS`: its size at start plus the budget) and CPU time
//! (`RLIMIT_CPU`) before it reads the document, and is killed by the caller at a wall-clock
//! deadline. A render that runs over dies alone; the caller gets [`DocError::OverBudget`].
//!
//! Protocol (stdin → stdout): a header line of `key=value` words, then the document to EOF; the
//! answer is `ok <n>` and the payload, or `err <code> <a> <b>` and a message line. Page counts,
//! cheap and frequent (every submission), go to pooled workers instead: their header carries
//! `len=<bytes>` and the next request follows the answer.

use crate::error::DocError;
use crate::options::{Paper, RenderOptions, Resolution};
use crate::{Encoding, PreviewSize, count_pages, preview_png, render, render_page};
use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What to do with a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// The number of pages ([`crate::count_pages`]).
    Count,
    /// A PNG of one page (1-based), full width or a thumbnail `width` pixels wide, fine resolution.
    Preview {
        /// 1-based page.
        page: usize,
        /// Thumbnail width; `None` is the full 1728 pixels.
        width: Option<u32>,
    },
    /// The whole document as TIFF-F ([`crate::render`]).
    Render,
}

/// What a [`Job`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// [`Job::Count`]: pages.
    Pages(usize),
    /// [`Job::Preview`]: PNG bytes.
    Png(Vec<u8>),
    /// [`Job::Render`]: the TIFF-F and its page count.
    Tiff {
        /// TIFF-F bytes.
        tiff: Vec<u8>,
        /// Pages in it.
        pages: usize,
    },
}

/// Where renders run: the seam between the libraries and the binary that can re-execute itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Isolation {
    /// In this process, with only the pre-scan limits (tests, tools run by hand).
    #[default]
    InProcess,
    /// In a child process under the budget.
    Worker(WorkerCommand),
}

impl Isolation {
    /// Runs the job (blocking: call it from a blocking thread).
    pub fn run(&self, job: Job, doc: &[u8], opts: &RenderOptions) -> Result<Output, DocError> {
        match self {
            Isolation::InProcess => run_job(job, doc, opts),
            Isolation::Worker(cmd) => cmd.run_source(job, &Source::Bytes(doc), opts),
        }
    }

    /// [`Isolation::run`] with the document read from `open` (called once per attempt, so a pooled
    /// worker that fails can be retried with a fresh one), `len` bytes long: a worker gets it
    /// through its pipe a piece at a time, so the caller never holds it whole. In process it is
    /// read whole first.
    pub fn run_reader(
        &self,
        job: Job,
        len: usize,
        open: &OpenDoc<'_>,
        opts: &RenderOptions,
    ) -> Result<Output, DocError> {
        match self {
            Isolation::InProcess => {
                let mut doc = Vec::with_capacity(len);
                open()
                    .and_then(|r| r.take(len as u64).read_to_end(&mut doc))
                    .map_err(|e| DocError::Worker(format!("cannot read the document: {e}")))?;
                run_job(job, &doc, opts)
            }
            Isolation::Worker(cmd) => cmd.run_source(job, &Source::Reader { len, open }, opts),
        }
    }
}

/// Opens a document for [`Isolation::run_reader`].
pub type OpenDoc<'a> = dyn Fn() -> std::io::Result<Box<dyn Read + Send>> + Sync + 'a;

/// A document for a worker: in memory, or read when it is sent.
enum Source<'a> {
    Bytes(&'a [u8]),
    Reader { len: usize, open: &'a OpenDoc<'a> },
}

impl Source<'_> {
    fn len(&self) -> usize {
        match self {
            Source::Bytes(b) => b.len(),
            Source::Reader { len, .. } => *len,
        }
    }
}

/// How to start a render worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerCommand {
    /// The program (the `faxline` binary).
    pub program: PathBuf,
    /// Its arguments (`["render-worker"]`).
    pub args: Vec<String>,
}

impl WorkerCommand {
    /// This very executable with `render-worker`: for the `faxline` binary itself. On Linux it is
    /// `/proc/self/exe`, which stays the running version even after a package upgrade replaced
    /// (or deleted) the file on disk.
    pub fn current_exe() -> std::io::Result<Self> {
        let proc_exe = std::path::Path::new("/proc/self/exe");
        let program = if proc_exe.exists() {
            proc_exe.to_path_buf()
        } else {
            std::env::current_exe()?
        };
        Ok(Self {
            program,
            args: vec!["render-worker".into()],
        })
    }

    /// Runs the job in a worker killed at its deadline: page counts on a pooled worker (see
    /// [`SESSION_REQUESTS`]), everything else in a fresh one.
    pub fn run(&self, job: Job, doc: &[u8], opts: &RenderOptions) -> Result<Output, DocError> {
        self.run_source(job, &Source::Bytes(doc), opts)
    }

    fn run_source(
        &self,
        job: Job,
        doc: &Source<'_>,
        opts: &RenderOptions,
    ) -> Result<Output, DocError> {
        let _slot = Slot::acquire();
        if job == Job::Count
            && let Some(answer) = self.count_pooled(doc, opts)
        {
            return answer;
        }
        self.run_once(job, doc, opts)
    }

    /// A page count on a pooled worker; `None` if that worker failed without an answer (it may
    /// have died idle, or on this document), so the caller runs a fresh one that says why.
    fn count_pooled(
        &self,
        doc: &Source<'_>,
        opts: &RenderOptions,
    ) -> Option<Result<Output, DocError>> {
        let key = (self.program.clone(), self.args.clone(), opts.memory_limit);
        let limit = deadline(Job::Count, opts);
        let idle = IDLE.lock().ok().and_then(|mut idle| {
            let i = idle.iter().position(|s| s.key == key)?;
            Some(idle.swap_remove(i))
        });
        let mut session = match idle {
            Some(s) => s,
            None => self.start_session(key).ok()?,
        };
        let cpu = limit.saturating_mul(SESSION_REQUESTS as u32);
        let header = header_with(Job::Count, opts, cpu, Some(doc.len()));
        match session.exchange(header.as_bytes(), doc, limit) {
            Exchange::TimedOut => Some(Err(DocError::OverBudget(format!(
                "rendering took longer than {} s",
                limit.as_secs()
            )))),
            Exchange::Failed => None,
            Exchange::Answered { answer, reusable } => {
                session.served += 1;
                if reusable
                    && session.served < SESSION_REQUESTS
                    && let Ok(mut idle) = IDLE.lock()
                    && idle.len() < slots()
                {
                    idle.push(session);
                }
                Some(answer)
            }
        }
    }

    fn start_session(&self, key: SessionKey) -> std::io::Result<Session> {
        let mut child = self.command().spawn()?;
        let stdin = child.stdin.take().ok_or(std::io::ErrorKind::BrokenPipe)?;
        let stdout = child.stdout.take().ok_or(std::io::ErrorKind::BrokenPipe)?;
        // Our ends only: the worker's ends of the pipes stay blocking.
        rustix::io::ioctl_fionbio(&stdin, true)?;
        rustix::io::ioctl_fionbio(&stdout, true)?;
        Ok(Session {
            key,
            child,
            stdin,
            stdout,
            served: 0,
        })
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            // One malloc arena: per-thread arenas reserve 64 MB of address space each, which
            // would count against RLIMIT_AS without ever being used.
            .env("MALLOC_ARENA_MAX", "1")
            .env("RUST_LOG", "off")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        cmd
    }

    /// Runs the job in a fresh worker, killed at [`deadline`].
    fn run_once(
        &self,
        job: Job,
        doc: &Source<'_>,
        opts: &RenderOptions,
    ) -> Result<Output, DocError> {
        let limit = deadline(job, opts);
        let started = Instant::now();
        let mut child = self
            .command()
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| DocError::Worker(format!("cannot start {:?}: {e}", self.program)))?;
        let header = header(job, opts, limit);
        let mut stdin = child.stdin.take().expect("piped");
        let mut stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let (status, out, err, fed) = std::thread::scope(|s| {
            let fed = s.spawn(move || Feed::new(header.as_bytes(), doc).write_all_to(&mut stdin));
            let out = s.spawn(move || {
                let mut buf = Vec::new();
                let _ = (&mut stdout)
                    .take(opts.max_bytes as u64 * 4 + (64 << 20))
                    .read_to_end(&mut buf);
                buf
            });
            let err = s.spawn(move || {
                let mut buf = Vec::new();
                let _ = (&mut stderr).take(64 * 1024).read_to_end(&mut buf);
                buf
            });
            let status = wait_until(&mut child, started + limit);
            (
                status,
                out.join().unwrap_or_default(),
                err.join().unwrap_or_default(),
                fed.join().unwrap_or(Ok(())),
            )
        });
        match fed {
            // A worker that died early closes the pipe; its exit status tells why.
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                return Err(DocError::Worker(format!("cannot read the document: {e}")));
            }
            _ => {}
        }
        tracing::debug!(
            ?job,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "render worker done"
        );
        let status = status?;
        match status {
            None => Err(DocError::OverBudget(format!(
                "rendering took longer than {} s",
                limit.as_secs()
            ))),
            Some(status) => {
                parse_answer(job, &out).unwrap_or_else(|| Err(died(status, &err, opts)))
            }
        }
    }
}

/// A place among the workers running at once: one per core, at least 2. Each may use the whole
/// memory budget, so this bounds what renders can take together; more requests wait here.
struct Slot;

static RUNNING: std::sync::Mutex<usize> = std::sync::Mutex::new(0);
static FREED: std::sync::Condvar = std::sync::Condvar::new();

impl Slot {
    fn acquire() -> Slot {
        let max = slots();
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        while *running >= max {
            running = FREED.wait(running).unwrap_or_else(|e| e.into_inner());
        }
        *running += 1;
        Slot
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        *running = running.saturating_sub(1);
        FREED.notify_one();
    }
}

/// Workers running at once: one per core, at least 2. Read once: the standard library reads the
/// cgroup's CPU quota from `/proc` on every call, which cost more than a page count's bookkeeping.
fn slots() -> usize {
    static SLOTS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *SLOTS.get_or_init(|| std::thread::available_parallelism().map_or(2, |n| n.get().max(2)))
}

/// Page counts a pooled worker answers before it is replaced. Starting one (re-executing the
/// binary) costs a few milliseconds of CPU, several times a typical count, so a busy API would
/// spend a tenth of its CPU starting workers if they were replaced often. Each count still has its
/// own wall-clock deadline and the worker's memory limit; replacing it now and then only bounds
/// what a long-lived process accumulates (heap fragmentation, the CPU-time limit).
pub const SESSION_REQUESTS: usize = 1024;

/// Program, arguments and memory budget: what a pooled worker was started with.
type SessionKey = (PathBuf, Vec<String>, u64);

/// A pooled worker waiting for its next page count. Our ends of its pipes are non-blocking: one
/// thread writes the request and reads the answer as the pipes allow ([`Session::exchange`]).
/// Idle workers are kept up to one per [`slots`] place, so every place stays warm.
struct Session {
    key: SessionKey,
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::process::ChildStdout,
    served: usize,
}

/// How one request on a pooled worker ended.
enum Exchange {
    /// The worker answered; `reusable`: it also took the whole request, so the pipe holds nothing
    /// of it and the worker may take the next one.
    Answered {
        answer: Result<Output, DocError>,
        reusable: bool,
    },
    /// It ended, or wrote something that is not an answer: the caller tries a fresh worker.
    Failed,
    /// No answer by the deadline: it was killed.
    TimedOut,
}

/// The longest answer a page count may have: `ok N`, or `err …` and a message line.
const MAX_COUNT_ANSWER: usize = 8192;

impl Session {
    /// Writes one request (`header`, then the document) and reads the answer, in this thread: the
    /// pipes are polled, so a worker that stops reading cannot block the write and one that never
    /// answers is killed at `limit`. Starting helper threads for that, twice per count, cost more
    /// CPU than the count.
    fn exchange(&mut self, header: &[u8], doc: &Source<'_>, limit: Duration) -> Exchange {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        use std::io::ErrorKind;
        let deadline = Instant::now() + limit;
        let mut feed = Feed::new(header, doc);
        let mut writing = true;
        let mut answer = Vec::new();
        loop {
            // Write while the pipe takes it.
            while writing {
                let bytes = match feed.next() {
                    Ok([]) => {
                        writing = false;
                        break;
                    }
                    Ok(bytes) => bytes,
                    // The document could not be read: this request cannot be completed, so
                    // the worker (mid-request) is of no further use.
                    Err(_) => return Exchange::Failed,
                };
                match self.stdin.write(bytes) {
                    Ok(n) => feed.advance(n),
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    // It closed its end: it may have answered why before it went.
                    Err(_) => writing = false,
                }
            }
            // Read what it said.
            let mut buf = [0u8; 1024];
            match self.stdout.read(&mut buf) {
                Ok(0) => return Exchange::Failed,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    if let Some(line_ends) = answer_complete(&answer) {
                        if line_ends < answer.len() {
                            // More than an answer: out of step with us.
                            return Exchange::Failed;
                        }
                        return match parse_answer(Job::Count, &answer) {
                            Some(answer) => Exchange::Answered {
                                answer,
                                reusable: feed.done(),
                            },
                            None => Exchange::Failed,
                        };
                    }
                    if answer.len() > MAX_COUNT_ANSWER {
                        return Exchange::Failed;
                    }
                    continue;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return Exchange::Failed,
            }
            let now = Instant::now();
            if now >= deadline {
                let _ = self.child.kill();
                return Exchange::TimedOut;
            }
            let wait = Timespec::try_from(deadline - now).unwrap_or(Timespec {
                tv_sec: i64::MAX,
                tv_nsec: 0,
            });
            let mut fds = [
                PollFd::new(&self.stdout, PollFlags::IN),
                PollFd::new(&self.stdin, PollFlags::OUT),
            ];
            let polled = if writing { &mut fds[..] } else { &mut fds[..1] };
            match poll(polled, Some(&wait)) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(_) => return Exchange::Failed,
            }
        }
    }
}

/// Where a complete page-count answer ends in `buf` (`ok N` and its newline, or `err …` and its
/// message line), if it is complete.
fn answer_complete(buf: &[u8]) -> Option<usize> {
    let first = buf.iter().position(|&b| b == b'\n')? + 1;
    if !buf.starts_with(b"err ") {
        return Some(first);
    }
    let second = buf[first..].iter().position(|&b| b == b'\n')? + 1;
    Some(first + second)
}

/// The bytes of one pooled request, handed out as the pipe takes them: the header, then the
/// document, from memory or read a piece at a time.
struct Feed<'a> {
    header: &'a [u8],
    doc: &'a Source<'a>,
    /// Of the header and document together.
    sent: usize,
    reader: Option<Box<dyn Read + Send>>,
    chunk: Vec<u8>,
    chunk_at: usize,
}

impl<'a> Feed<'a> {
    fn new(header: &'a [u8], doc: &'a Source<'a>) -> Self {
        Self {
            header,
            doc,
            sent: 0,
            reader: None,
            chunk: Vec::new(),
            chunk_at: 0,
        }
    }

    /// The next bytes to write; empty when all are written.
    fn next(&mut self) -> std::io::Result<&[u8]> {
        if self.sent < self.header.len() {
            return Ok(&self.header[self.sent..]);
        }
        let at = self.sent - self.header.len();
        match self.doc {
            Source::Bytes(b) => Ok(&b[at..]),
            Source::Reader { len, open } => {
                if at == *len {
                    return Ok(&[]);
                }
                if self.chunk_at == self.chunk.len() {
                    let reader = match &mut self.reader {
                        Some(r) => r,
                        None => self.reader.insert(open()?),
                    };
                    self.chunk.resize((*len - at).min(64 * 1024), 0);
                    let n = reader.read(&mut self.chunk)?;
                    if n == 0 {
                        return Err(std::io::ErrorKind::UnexpectedEof.into());
                    }
                    self.chunk.truncate(n);
                    self.chunk_at = 0;
                }
                Ok(&self.chunk[self.chunk_at..])
            }
        }
    }

    /// `n` bytes of what [`Feed::next`] gave were written.
    fn advance(&mut self, n: usize) {
        if self.sent >= self.header.len() && matches!(self.doc, Source::Reader { .. }) {
            self.chunk_at += n;
        }
        self.sent += n;
    }

    /// Whether the header and the whole document were written.
    fn done(&self) -> bool {
        self.sent == self.header.len() + self.doc.len()
    }

    /// Writes all of it to a blocking `w` (a fresh worker's pipe): exactly the header and
    /// [`Source::len`] bytes of the document, or an error.
    fn write_all_to(mut self, w: &mut impl Write) -> std::io::Result<()> {
        loop {
            let bytes = self.next()?;
            if bytes.is_empty() {
                return Ok(());
            }
            let n = bytes.len();
            w.write_all(bytes)?;
            self.advance(n);
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Idle pooled workers of this process.
static IDLE: std::sync::Mutex<Vec<Session>> = std::sync::Mutex::new(Vec::new());

/// Waits for the child until `deadline`; `None` if it had to be killed.
fn wait_until(
    child: &mut std::process::Child,
    deadline: Instant,
) -> Result<Option<ExitStatus>, DocError> {
    let mut nap = Duration::from_micros(200);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(nap.min(deadline - now));
        nap = (nap * 2).min(Duration::from_millis(20));
    }
}

/// Why a worker that gave no answer died.
fn died(status: ExitStatus, stderr: &[u8], opts: &RenderOptions) -> DocError {
    use std::os::unix::process::ExitStatusExt;
    let stderr = String::from_utf8_lossy(stderr);
    let mb = opts.memory_limit >> 20;
    match status.signal() {
        // SIGXCPU: RLIMIT_CPU.
        Some(24) => DocError::OverBudget("rendering used more CPU time than allowed".into()),
        // SIGABRT from a failed allocation; SIGSEGV from a thread stack that could not grow.
        Some(6 | 9 | 11) => DocError::OverBudget(format!("rendering needs more than {mb} MB")),
        _ if stderr.contains("memory allocation") => {
            DocError::OverBudget(format!("rendering needs more than {mb} MB"))
        }
        _ => DocError::Worker(format!("exited without an answer ({status})")),
    }
}

/// The wall-clock limit of one worker: the per-page limit for every page it may render (the
/// document's limit, or the one page of a preview), plus a second to start.
fn deadline(job: Job, opts: &RenderOptions) -> Duration {
    let pages = match job {
        Job::Count | Job::Preview { .. } => 1,
        Job::Render => opts.max_pages.max(1),
    };
    opts.page_timeout
        .saturating_mul(u32::try_from(pages).unwrap_or(u32::MAX))
        .saturating_add(Duration::from_secs(1))
}

fn header(job: Job, opts: &RenderOptions, limit: Duration) -> String {
    header_with(job, opts, limit, None)
}

/// The header line; `len`: the document's length, for a request on a pooled worker.
fn header_with(job: Job, opts: &RenderOptions, limit: Duration, len: Option<usize>) -> String {
    let job = match job {
        Job::Count => "job=count".to_owned(),
        Job::Preview { page, width } => {
            format!("job=preview page={page} width={}", width.unwrap_or(0))
        }
        Job::Render => "job=render".to_owned(),
    };
    let job = match len {
        Some(n) => format!("{job} len={n}"),
        None => job,
    };
    format!(
        "faxline-render-1 {job} paper={} res={} enc={} max_pages={} max_bytes={} page_ms={} memory={} cpu_s={} threads={}\n",
        match opts.paper {
            Paper::Letter => "letter",
            Paper::A4 => "a4",
        },
        match opts.resolution {
            Resolution::Fine => "fine",
            Resolution::Standard => "standard",
        },
        match opts.encoding {
            Encoding::Mmr => "mmr",
            Encoding::Mr => "mr",
            Encoding::Mh => "mh",
        },
        opts.max_pages,
        opts.max_bytes,
        opts.page_timeout.as_millis(),
        opts.memory_limit,
        limit.as_secs().max(1),
        opts.threads.unwrap_or(0),
    )
}

/// A parsed header line.
struct Request {
    job: Job,
    opts: RenderOptions,
    /// CPU-seconds limit of the process.
    cpu_s: u64,
    /// The document's length on a pooled worker; `None`: the document runs to EOF.
    len: Option<usize>,
}

/// The job and options of a header line, and the CPU-seconds limit.
fn parse_header(line: &str) -> Option<Request> {
    let mut words = line.split_ascii_whitespace();
    if words.next()? != "faxline-render-1" {
        return None;
    }
    let mut opts = RenderOptions::default();
    let (mut job, mut page, mut width, mut cpu) = ("", 0usize, 0u32, 0u64);
    let mut len = None;
    for word in words {
        let (k, v) = word.split_once('=')?;
        match k {
            "job" => job = v,
            "page" => page = v.parse().ok()?,
            "width" => width = v.parse().ok()?,
            "paper" => opts.paper = if v == "a4" { Paper::A4 } else { Paper::Letter },
            "res" => {
                opts.resolution = if v == "standard" {
                    Resolution::Standard
                } else {
                    Resolution::Fine
                }
            }
            "enc" => {
                opts.encoding = match v {
                    "mh" => Encoding::Mh,
                    "mr" => Encoding::Mr,
                    _ => Encoding::Mmr,
                }
            }
            "max_pages" => opts.max_pages = v.parse().ok()?,
            "max_bytes" => opts.max_bytes = v.parse().ok()?,
            "page_ms" => opts.page_timeout = Duration::from_millis(v.parse().ok()?),
            "memory" => opts.memory_limit = v.parse().ok()?,
            "cpu_s" => cpu = v.parse().ok()?,
            "len" => len = Some(v.parse().ok()?),
            "threads" => opts.threads = v.parse().ok().filter(|&n: &usize| n > 0),
            _ => return None,
        }
    }
    let job = match job {
        "count" => Job::Count,
        "render" => Job::Render,
        "preview" => Job::Preview {
            page,
            width: (width > 0).then_some(width),
        },
        _ => return None,
    };
    Some(Request {
        job,
        opts,
        cpu_s: cpu,
        len,
    })
}

/// Runs a job in this process.
pub fn run_job(job: Job, doc: &[u8], opts: &RenderOptions) -> Result<Output, DocError> {
    match job {
        Job::Count => count_pages(doc, opts).map(Output::Pages),
        Job::Render => render(doc, opts).map(|d| Output::Tiff {
            pages: d.page_count(),
            tiff: d.tiff,
        }),
        Job::Preview { page, width } => {
            let bitmap = render_page(doc, page, opts)?;
            let size = match width {
                Some(w) => PreviewSize::Thumbnail {
                    width: w.clamp(16, crate::FAX_WIDTH),
                },
                None => PreviewSize::Full,
            };
            let dpi = (
                f64::from(opts.resolution.x_dpi()),
                f64::from(opts.resolution.y_dpi()),
            );
            preview_png(&bitmap, dpi, size).map(Output::Png)
        }
    }
}

/// The worker's side: reads a request from `input`, limits this process (at the first request),
/// answers on `output`. A request whose header gives the document's length (`len=`, page counts
/// only) is one of many on a pooled worker: the next header follows. Returns the process exit code.
/// Call it first thing in the worker process, nothing else running.
pub fn serve(input: impl Read, mut output: impl Write) -> i32 {
    let mut input = std::io::BufReader::new(input);
    let mut limited = false;
    loop {
        let mut line = Vec::new();
        match (&mut input).take(1024).read_until(b'\n', &mut line) {
            Ok(0) if limited => return 0, // the pool closed our stdin
            Ok(_) if line.last() == Some(&b'\n') => {}
            _ => return 2,
        }
        let Some(req) = std::str::from_utf8(&line)
            .ok()
            .and_then(|l| parse_header(l.trim_end()))
        else {
            return 2;
        };
        if !limited {
            if let Err(e) = limit_self(req.opts.memory_limit, req.cpu_s) {
                let _ = writeln!(
                    output,
                    "err worker - -\ncannot set the resource limits: {e}"
                );
                return 1;
            }
            limited = true;
        }
        let mut doc = Vec::new();
        let read = match req.len {
            Some(n) if n <= req.opts.max_bytes && req.job == Job::Count => (&mut input)
                .take(n as u64)
                .read_to_end(&mut doc)
                .and_then(|got| {
                    if got == n {
                        Ok(())
                    } else {
                        Err(std::io::ErrorKind::UnexpectedEof.into())
                    }
                }),
            Some(_) => return 2,
            None => (&mut input)
                .take(req.opts.max_bytes as u64 + 1)
                .read_to_end(&mut doc)
                .map(|_| ()),
        };
        if let Err(e) = read {
            let _ = writeln!(output, "err worker - -\ncannot read the document: {e}");
            return 1;
        }
        let answer = run_job(req.job, &doc, &req.opts);
        let written = match answer {
            Ok(Output::Pages(n)) => writeln!(output, "ok {n}"),
            Ok(Output::Png(png)) => {
                writeln!(output, "ok {}", png.len()).and_then(|()| output.write_all(&png))
            }
            Ok(Output::Tiff { tiff, pages }) => {
                writeln!(output, "ok {pages}").and_then(|()| output.write_all(&tiff))
            }
            Err(e) => output.write_all(encode_error(&e).as_bytes()),
        };
        if written.and_then(|()| output.flush()).is_err() {
            return 1;
        }
        if req.len.is_none() {
            return 0;
        }
    }
}

/// `RLIMIT_AS` at the current address-space size plus the budget and 64 MB for thread stacks;
/// `RLIMIT_CPU` at `cpu_s` (soft; the hard limit a second later); a lower scheduling priority.
fn limit_self(memory: u64, cpu_s: u64) -> std::io::Result<()> {
    use rustix::process::{Resource, Rlimit, setrlimit};
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let now = pages * rustix::param::page_size() as u64;
    let bytes = now.saturating_add(memory).saturating_add(64 << 20);
    setrlimit(
        Resource::As,
        Rlimit {
            current: Some(bytes),
            maximum: Some(bytes),
        },
    )?;
    if cpu_s > 0 {
        setrlimit(
            Resource::Cpu,
            Rlimit {
                current: Some(cpu_s),
                maximum: Some(cpu_s + 1),
            },
        )?;
    }
    // Below the process that runs the calls: a render that takes a core must not delay a fax session's
    // 20 ms step (threads the render starts later inherit it).
    rustix::process::setpriority_process(None, RENDER_NICE)?;
    Ok(())
}

/// The render worker's nice value (0 = the parent's, 19 = the lowest).
const RENDER_NICE: i32 = 10;

fn encode_error(e: &DocError) -> String {
    let (code, a, b) = match e {
        DocError::UnsupportedType => ("unsupported", 0, 0),
        DocError::TooLarge { size, limit } => ("toolarge", *size, *limit),
        DocError::PasswordProtected => ("password", 0, 0),
        DocError::BadEncryption => ("encryption", 0, 0),
        DocError::CorruptPdf => ("corrupt", 0, 0),
        DocError::NoPages => ("nopages", 0, 0),
        DocError::TooManyPages { pages, limit } => ("toomany", *pages, *limit),
        DocError::TextTooLong { limit } => ("textlong", *limit, 0),
        DocError::NoSuchPage { page, pages } => ("nosuchpage", *page, *pages),
        DocError::PageTimeout { page, limit } => (
            "timeout",
            *page,
            usize::try_from(limit.as_millis()).unwrap_or(usize::MAX),
        ),
        DocError::RenderFailed { page } => ("failed", *page, 0),
        DocError::OverBudget(m) => return format!("err budget 0 0\n{m}\n"),
        other => return format!("err other 0 0\n{other}\n"),
    };
    format!("err {code} {a} {b}\n\n")
}

/// The worker's answer; `None` if there is none (it died).
fn parse_answer(job: Job, out: &[u8]) -> Option<Result<Output, DocError>> {
    let nl = out.iter().position(|&b| b == b'\n')?;
    let head = std::str::from_utf8(&out[..nl]).ok()?;
    let body = &out[nl + 1..];
    let mut words = head.split(' ');
    match words.next()? {
        "ok" => {
            let n: usize = words.next()?.parse().ok()?;
            Some(Ok(match job {
                Job::Count => Output::Pages(n),
                Job::Preview { .. } => Output::Png(body.to_vec()),
                Job::Render => Output::Tiff {
                    tiff: body.to_vec(),
                    pages: n,
                },
            }))
        }
        "err" => {
            let code = words.next()?;
            let a: usize = words.next()?.parse().unwrap_or(0);
            let b: usize = words.next()?.parse().unwrap_or(0);
            let msg = String::from_utf8_lossy(body).trim_end().to_owned();
            Some(Err(match code {
                "unsupported" => DocError::UnsupportedType,
                "toolarge" => DocError::TooLarge { size: a, limit: b },
                "password" => DocError::PasswordProtected,
                "encryption" => DocError::BadEncryption,
                "corrupt" => DocError::CorruptPdf,
                "nopages" => DocError::NoPages,
                "toomany" => DocError::TooManyPages { pages: a, limit: b },
                "textlong" => DocError::TextTooLong { limit: a },
                "nosuchpage" => DocError::NoSuchPage { page: a, pages: b },
                "timeout" => DocError::PageTimeout {
                    page: a,
                    limit: Duration::from_millis(b as u64),
                },
                "failed" => DocError::RenderFailed { page: a },
                "budget" => DocError::OverBudget(msg),
                _ => DocError::Worker(msg),
            }))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip() {
        let opts = RenderOptions {
            paper: Paper::A4,
            resolution: Resolution::Standard,
            encoding: Encoding::Mh,
            max_pages: 7,
            memory_limit: 123 << 20,
            threads: Some(1),
            ..RenderOptions::default()
        };
        let job = Job::Preview {
            page: 3,
            width: Some(200),
        };
        let h = header(job, &opts, Duration::from_secs(21));
        let Request {
            job: j,
            opts: o,
            cpu_s: cpu,
            len,
        } = parse_header(h.trim_end()).unwrap();
        assert_eq!((j, cpu, len), (job, 21, None));
        assert_eq!(
            (o.paper, o.resolution, o.encoding),
            (Paper::A4, Resolution::Standard, Encoding::Mh)
        );
        assert_eq!(
            (o.max_pages, o.memory_limit, o.threads),
            (7, 123 << 20, Some(1))
        );
        assert!(parse_header("faxline-render-1 job=count evil=1").is_none());
    }

    #[test]
    fn errors_round_trip() {
        for e in [
            DocError::TooManyPages {
                pages: 120,
                limit: 100,
            },
            DocError::NoSuchPage { page: 4, pages: 2 },
            DocError::OverBudget("an image of 60000×60000 pixels".into()),
        ] {
            let text = encode_error(&e);
            let back = parse_answer(Job::Count, text.as_bytes())
                .unwrap()
                .unwrap_err();
            assert_eq!(back.to_string(), e.to_string());
        }
    }
}
