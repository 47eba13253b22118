//! A scripted Asterisk PBX for tests: it answers `Originate` by running the *given* `extensions.conf` (the one the
//! agent generates) on simulated channels, with the Asterisk 20 semantics the fax flow depends on, and raises the
//! AMI events real Asterisk would (Newchannel, OriginateResponse, FAXStatus, SendFAX, UserEvent, Hangup):
//!
//! - Local channels: `Originate Local/<exten>@<context>/n` gives `;1` (Uniqueid = `ChannelId`, it runs the
//!   `Application`, e.g. Wait) and `;2` (runs the dialplan; the Originate's variables are on both). `;2`'s
//!   `Answer()` answers `;1` (OriginateResponse, reason 4); `;1` hangs up after `;2`.
//! - `Dial(PJSIP/<number>@<endpoint>,<secs>,U(ctx^args))`: the far end ([`FarEnd`], chosen by the test per call)
//!   answers or not (`DIALSTATUS`, `HANGUPCAUSE` on the caller as app_dial sets them). An answered trunk channel
//!   runs the `U()` routine. `GOSUB_RESULT=ABORT` hangs up both legs (the trunk first, in the caller's thread). A
//!   routine that ends abnormally — an application returned non-zero, or the channel hung up — makes app_dial
//!   *bridge* the trunk with the caller: if the far end is still up this is a silent call
//!   ([`ObservedCall::silent_bridge`]) held until the far end gives up ([`Pbx::far_end_patience`]); when the
//!   bridge ends, both channels hang up *concurrently* (the bridge thread and the caller's thread).
//! - Hangup handlers (`CHANNEL(hangup_handler_push)`) run last-pushed first when their channel hangs up, on that
//!   channel, whatever ended it; then the `Hangup` event is raised and the channel is gone. Channels that hang
//!   up concurrently run their handlers interleaved priority by priority in an order the PBX draws from its seed,
//!   so every race the real threads can run into happens here too: `SHARED(VAR,<chan>)=` to a channel that is
//!   already gone fails (`func_global.c: Channel '…' not found!`), a `UserEvent` may read variables another
//!   channel has not written yet.
//! - `SendFAX(<file>,<opts>)` checks the file as Asterisk's user would (`access()`: [`Pbx::asterisk_user`]),
//!   failing with `FAXERROR=FILE_ERROR` and returning -1 (`res_fax.c: access failure`), else sends the TIFF's
//!   pages to the far end ([`FaxBehaviour`]) and sets res_fax's variables. It returns -1 whenever the channel
//!   hung up during the fax — also when the receiver hung up first after the last page, the normal end of a fax.
//!   `TryExec(App(args))` runs an application and always continues (`TRYSTATUS`).
//!
//! What the far end received is recorded per call ([`ObservedCall`]), so tests compare it with what the agent
//! stored. Only the applications and functions the generated dialplan uses are provided; anything else fails
//! the call and is recorded in [`ObservedCall::errors`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::ServerConn;
use super::dialplan::{self, Dialplan, Scope};
use crate::message::Message;

/// The number dialled and the attempt it belongs to (the Local channel's `FAXLINE_JOB`, if set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialed {
    /// The attempt's job token.
    pub job: String,
    /// The number in `Dial(PJSIP/<number>@…)`.
    pub number: String,
}

/// How the far end treats a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FarEnd {
    /// Busy (cause 17).
    Busy,
    /// Rings until the Dial timeout (cause 19).
    NoAnswer,
    /// Congestion (cause 34).
    Congestion,
    /// The trunk refuses the call with this Q.850 cause (1 for a SIP 404, 27, 38, 88, …): `CHANUNAVAIL`.
    Unavailable {
        /// Q.850 cause.
        cause: u16,
    },
    /// Answers and behaves as a fax receiver.
    Answer(FaxBehaviour),
}

/// An answering fax receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaxBehaviour {
    /// Receives every page. With `hangs_up_first` it hangs up after the last page (the normal end of a fax:
    /// SendFAX then returns -1), else it waits for us to hang up.
    Receive {
        /// The receiver hangs up first.
        hangs_up_first: bool,
    },
    /// Hangs up after receiving `pages` pages (e.g. 0: hangs up during training).
    DropAfter {
        /// Pages received before the hang-up.
        pages: u32,
    },
}

/// What one call did, as the scripted far end and Asterisk's log observed it (the agent's side of
/// the same call is in its journal and its reports).
#[derive(Debug, Clone, Default)]
pub struct ObservedCall {
    /// The Originate's `ChannelId`.
    pub channel_id: String,
    /// The attempt's job token (`FAXLINE_JOB`).
    pub job: String,
    /// The number dialled, if the dialplan got as far as `Dial`.
    pub number: Option<String>,
    /// Pages the far end received, and whether the fax completed (`None`: no fax reached it).
    pub received: Option<(u32, bool)>,
    /// The answered trunk was bridged with the caller while the far end was still up (a silent call).
    pub silent_bridge: bool,
    /// Asterisk's ERROR log lines for this call (failed `SHARED()` writes, `access failure`, dialplan errors).
    pub errors: Vec<String>,
    /// A verbose trace: which application ran on which channel, in order.
    pub trace: Vec<String>,
    /// Every channel of the call is gone.
    pub finished: bool,
}

/// The scripted PBX. Share it (`Arc`) between the connection task and the test.
pub struct Pbx {
    plan: Dialplan,
    far_end: Box<dyn Fn(&Dialed) -> FarEnd + Send + Sync>,
    /// Asterisk's uid and gid, for `SendFAX`'s `access()` check (`None`: any file this process can read).
    asterisk_user: Option<(u32, u32)>,
    patience: Duration,
    seed: u64,
    next_channel: AtomicU32,
    records: Mutex<Vec<ObservedCall>>,
}

impl std::fmt::Debug for Pbx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pbx")
            .field("asterisk_user", &self.asterisk_user)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

/// Output of a simulated call: events, and pauses (a silent bridge held until the far end gives up).
enum Out {
    Event(Message),
    Pause(Duration),
}

impl Pbx {
    /// A PBX running `plan`; `far_end` decides each dialled call. Seed 0, patience 2 s, files readable by this
    /// process.
    pub fn new(plan: Dialplan, far_end: impl Fn(&Dialed) -> FarEnd + Send + Sync + 'static) -> Pbx {
        Pbx {
            plan,
            far_end: Box::new(far_end),
            asterisk_user: None,
            patience: Duration::from_secs(2),
            seed: 0,
            next_channel: AtomicU32::new(0),
            records: Mutex::new(Vec::new()),
        }
    }

    /// SendFAX checks files as this uid/gid (permission bits, as `access(R_OK)` for a non-root user).
    pub fn asterisk_user(mut self, uid: u32, gid: u32) -> Pbx {
        self.asterisk_user = Some((uid, gid));
        self
    }

    /// How long an answered far end waits in a silent call before it hangs up.
    pub fn far_end_patience(mut self, d: Duration) -> Pbx {
        self.patience = d;
        self
    }

    /// Seeds the interleaving of concurrent hangups (each call draws from `seed` and its ChannelId).
    pub fn seed(mut self, seed: u64) -> Pbx {
        self.seed = seed;
        self
    }

    /// What every call did so far.
    pub fn records(&self) -> Vec<ObservedCall> {
        self.records.lock().expect("records lock").clone()
    }

    /// Plays Asterisk on `conn` (already logged in) until the client closes: Originates run the dialplan (many at
    /// once, each call's events in its own order, calls interleaved); `Status` lists no channels; `Hangup` is
    /// acknowledged.
    pub async fn serve(self: Arc<Self>, mut conn: ServerConn) -> std::io::Result<()> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
        loop {
            tokio::select! {
                action = conn.next_action() => {
                    let Some(action) = action? else { return Ok(()) };
                    let name = action.get("Action").unwrap_or("").to_ascii_lowercase();
                    match name.as_str() {
                        "originate" => {
                            conn.respond(&action, "Success", "Originate successfully queued").await?;
                            let outs = self.run_originate(&action);
                            let tx = tx.clone();
                            tokio::spawn(async move {
                                for out in outs {
                                    match out {
                                        Out::Event(m) => {
                                            if tx.send(m).is_err() {
                                                return;
                                            }
                                        }
                                        Out::Pause(d) => tokio::time::sleep(d).await,
                                    }
                                    tokio::task::yield_now().await;
                                }
                            });
                        }
                        "status" => {
                            conn.respond(&action, "Success", "Channel status will follow").await?;
                            let mut h = vec![("Event", "StatusComplete")];
                            if let Some(id) = action.action_id() {
                                h.push(("ActionID", id));
                            }
                            h.extend([("EventList", "Complete"), ("ListItems", "0"), ("Items", "0")]);
                            conn.send(&Message::from_pairs(h)).await?;
                        }
                        "hangup" => conn.respond(&action, "Success", "Channel Hungup").await?,
                        _ => conn.respond(&action, "Error", "Invalid/unknown command").await?,
                    }
                }
                Some(ev) = rx.recv() => conn.send(&ev).await?,
            }
        }
    }

    /// Runs one `Originate` to the end at once and returns its events (a silent bridge's wait is skipped), for
    /// tests that check the dialplan without an AMI client.
    pub fn play(&self, originate: &Message) -> Vec<Message> {
        self.run_originate(originate)
            .into_iter()
            .filter_map(|o| match o {
                Out::Event(m) => Some(m),
                Out::Pause(_) => None,
            })
            .collect()
    }

    fn run_originate(&self, originate: &Message) -> Vec<Out> {
        let id = originate.get("ChannelId").unwrap_or("originate").to_owned();
        let mut sim = Sim::new(self, &id, originate);
        sim.originate(originate);
        sim.record.finished = sim.chans.iter().all(|c| c.gone);
        self.records
            .lock()
            .expect("records lock")
            .push(sim.record.clone());
        sim.out
    }
}

/// SplitMix64: a seeded, dependency-free source for the interleavings.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[derive(Debug, Clone)]
struct Chan {
    name: String,
    uniqueid: String,
    linkedid: String,
    vars: HashMap<String, String>,
    /// Hangup handler locations, in push order (run from the end).
    handlers: Vec<String>,
    up: bool,
    hung_up: bool,
    gone: bool,
    cause: u16,
    /// The other half of a Local channel pair.
    local_peer: Option<usize>,
    location: (String, String, usize),
}

#[derive(Debug, Clone)]
struct Frame {
    context: String,
    exten: String,
    prio: usize,
    args: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The channel's own PBX: ends when an application fails, the priorities run out, or the channel hangs up.
    Pbx,
    /// A Gosub routine run by another channel's thread (Dial U()): ends at Return, or abnormally.
    Routine,
    /// A hangup handler: runs on a hung-up channel, ends at Return.
    Handler,
}

enum Flow {
    Next,
    Jump(usize),
    Return,
    Fail,
}

/// How a thread ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Returned,
    Abnormal,
}

struct Sim<'p> {
    pbx: &'p Pbx,
    chans: Vec<Chan>,
    out: Vec<Out>,
    record: ObservedCall,
    rng: Rng,
    originate_action_id: Option<String>,
    originate_answered: bool,
    /// The answered far end's behaviour.
    fax_far_end: Option<FaxBehaviour>,
    /// The callee whose bridge with the caller ended (it hangs up together with the caller).
    bridged: Option<usize>,
}

fn hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// `ctx,ext,prio(args)` (hangup handler and Gosub locations).
fn location(s: &str) -> Option<Frame> {
    let (loc, args) = match s.split_once('(') {
        Some((l, a)) => (l, a.strip_suffix(')')?),
        None => (s, ""),
    };
    let mut parts = loc.split(',');
    let (context, exten, prio) = (parts.next()?, parts.next()?, parts.next()?);
    let args = if args.is_empty() {
        Vec::new()
    } else {
        args.split(',').map(str::to_owned).collect()
    };
    Some(Frame {
        context: context.trim().to_owned(),
        exten: exten.trim().to_owned(),
        prio: prio.trim().parse().ok()?,
        args,
    })
}

/// The pages of a TIFF (its IFD chain), `None` if it is not a readable TIFF.
fn tiff_pages(path: &Path) -> Option<u32> {
    let b = std::fs::read(path).ok()?;
    let le = match b.get(..4)? {
        [b'I', b'I', 42, 0] => true,
        [b'M', b'M', 0, 42] => false,
        _ => return None,
    };
    let u16_at = |o: usize| -> Option<usize> {
        let s: [u8; 2] = b.get(o..o + 2)?.try_into().ok()?;
        Some(usize::from(if le {
            u16::from_le_bytes(s)
        } else {
            u16::from_be_bytes(s)
        }))
    };
    let u32_at = |o: usize| -> Option<usize> {
        let s: [u8; 4] = b.get(o..o + 4)?.try_into().ok()?;
        usize::try_from(if le {
            u32::from_le_bytes(s)
        } else {
            u32::from_be_bytes(s)
        })
        .ok()
    };
    let mut off = u32_at(4)?;
    let mut pages = 0;
    while off != 0 && pages < 10_000 {
        let n = u16_at(off)?;
        pages += 1;
        off = u32_at(off + 2 + n * 12)?;
    }
    Some(pages)
}

/// `access(path, R_OK)` for a non-root `uid`/`gid` (permission bits; no ACLs, no supplementary groups).
fn readable_by(path: &Path, uid: u32, gid: u32) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(m) = std::fs::metadata(path) else {
        return false;
    };
    let mode = m.mode();
    if m.uid() == uid {
        mode & 0o400 != 0
    } else if m.gid() == gid {
        mode & 0o040 != 0
    } else {
        mode & 0o004 != 0
    }
}

impl<'p> Sim<'p> {
    fn new(pbx: &'p Pbx, id: &str, originate: &Message) -> Sim<'p> {
        Sim {
            pbx,
            chans: Vec::new(),
            out: Vec::new(),
            record: ObservedCall {
                channel_id: id.to_owned(),
                ..ObservedCall::default()
            },
            rng: Rng(pbx.seed ^ hash(id)),
            originate_action_id: originate.action_id().map(str::to_owned),
            originate_answered: false,
            fax_far_end: None,
            bridged: None,
        }
    }

    fn error(&mut self, line: String) {
        self.record.errors.push(line);
    }

    fn snapshot(&self, c: usize) -> Vec<(String, String)> {
        let ch = &self.chans[c];
        let (state, desc) = if ch.up { ("6", "Up") } else { ("4", "Ring") };
        vec![
            ("Channel".into(), ch.name.clone()),
            ("ChannelState".into(), state.into()),
            ("ChannelStateDesc".into(), desc.into()),
            (
                "CallerIDNum".into(),
                ch.vars
                    .get("CALLERID(num)")
                    .cloned()
                    .unwrap_or_else(|| "<unknown>".into()),
            ),
            ("CallerIDName".into(), "<unknown>".into()),
            ("ConnectedLineNum".into(), "<unknown>".into()),
            ("ConnectedLineName".into(), "<unknown>".into()),
            ("Language".into(), "en".into()),
            ("AccountCode".into(), String::new()),
            ("Context".into(), ch.location.0.clone()),
            ("Exten".into(), ch.location.1.clone()),
            ("Priority".into(), ch.location.2.to_string()),
            ("Uniqueid".into(), ch.uniqueid.clone()),
            ("Linkedid".into(), ch.linkedid.clone()),
        ]
    }

    fn event(
        &mut self,
        name: &str,
        privilege: &str,
        c: Option<usize>,
        extra: Vec<(String, String)>,
    ) {
        let mut pairs: Vec<(String, String)> = vec![
            ("Event".into(), name.into()),
            ("Privilege".into(), privilege.into()),
        ];
        if let Some(c) = c {
            pairs.extend(self.snapshot(c));
        }
        pairs.extend(extra);
        self.out.push(Out::Event(Message::from_pairs(
            pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )));
    }

    fn new_channel(
        &mut self,
        name: String,
        uniqueid: String,
        linkedid: String,
        location: (String, String, usize),
    ) -> usize {
        self.chans.push(Chan {
            name,
            uniqueid,
            linkedid,
            vars: HashMap::new(),
            handlers: Vec::new(),
            up: false,
            hung_up: false,
            gone: false,
            cause: 16,
            local_peer: None,
            location,
        });
        let c = self.chans.len() - 1;
        self.event("Newchannel", "call,all", Some(c), Vec::new());
        c
    }

    fn originate(&mut self, o: &Message) {
        let id = self.record.channel_id.clone();
        let channel = o.get("Channel").unwrap_or("");
        let Some((exten, context)) = channel
            .strip_prefix("Local/")
            .and_then(|r| r.strip_suffix("/n").or(Some(r)))
            .and_then(|r| r.split_once('@'))
        else {
            self.error(format!("Originate: unsupported channel {channel}"));
            return;
        };
        let (exten, context) = (exten.to_owned(), context.to_owned());
        let n = self.pbx.next_channel.fetch_add(1, Ordering::Relaxed);
        let base = format!("Local/{exten}@{context}-{n:08x}");
        let app = (
            o.get("Application").unwrap_or("").to_owned(),
            String::new(),
            1,
        );
        let one = self.new_channel(format!("{base};1"), id.clone(), id.clone(), app);
        let two = self.new_channel(
            format!("{base};2"),
            format!("{id}-2"),
            id.clone(),
            (context.clone(), exten.clone(), 1),
        );
        self.chans[one].local_peer = Some(two);
        self.chans[two].local_peer = Some(one);
        for v in o.get_all("Variable") {
            // Originate splits each Variable value on commas into NAME=value pairs.
            for pair in v.split(',') {
                if let Some((k, val)) = pair.split_once('=') {
                    for c in [one, two] {
                        self.chans[c].vars.insert(k.to_owned(), val.to_owned());
                    }
                }
            }
        }
        if let Some(job) = self.chans[two].vars.get("FAXLINE_JOB") {
            self.record.job = job.clone();
        }
        let mut pbx = Thread::new(
            two,
            Frame {
                context,
                exten,
                prio: 1,
                args: Vec::new(),
            },
            Kind::Pbx,
        );
        self.run(&mut pbx);
        // The ;2 half's dialplan ended: it hangs up (with any peer whose bridge ended with it), then ;1.
        if !self.chans[two].gone {
            let peers: Vec<usize> = self.bridged.take().into_iter().collect();
            let mut group = vec![two];
            group.extend(peers);
            self.hang_up_together(&group);
        }
        if !self.originate_answered {
            self.originate_response(false, one);
        }
        self.hang_up_together(&[one]);
    }

    fn originate_response(&mut self, success: bool, one: usize) {
        let mut h: Vec<(String, String)> = Vec::new();
        if let Some(id) = &self.originate_action_id {
            h.push(("ActionID".into(), id.clone()));
        }
        h.push((
            "Response".into(),
            if success { "Success" } else { "Failure" }.into(),
        ));
        h.push(("Channel".into(), self.chans[one].name.clone()));
        h.push(("Application".into(), self.chans[one].location.0.clone()));
        h.push(("Data".into(), String::new()));
        h.push(("Reason".into(), if success { "4" } else { "1" }.into()));
        h.push(("Uniqueid".into(), self.chans[one].uniqueid.clone()));
        h.push(("CallerIDNum".into(), "<unknown>".into()));
        h.push(("CallerIDName".into(), "<unknown>".into()));
        self.event("OriginateResponse", "call,all", None, h);
    }

    /// Runs a thread to its end.
    fn run(&mut self, t: &mut Thread) -> End {
        loop {
            if let Some(end) = self.step(t) {
                return end;
            }
        }
    }

    /// One priority of `t`; `Some` when the thread ended.
    fn step(&mut self, t: &mut Thread) -> Option<End> {
        let Some(p) = self
            .pbx
            .plan
            .priority(&t.frame.context, &t.frame.exten, t.frame.prio)
            .cloned()
        else {
            return Some(if t.kind == Kind::Pbx {
                End::Returned
            } else {
                End::Abnormal
            });
        };
        let c = t.chan;
        self.chans[c].location = (t.frame.context.clone(), t.frame.exten.clone(), t.frame.prio);
        let data = {
            let mut scope = ChanScope {
                sim: self,
                chan: c,
                args: &t.frame.args,
            };
            dialplan::substitute(&p.data, &mut scope)
        };
        let flow = match data {
            Ok(data) => {
                self.record.trace.push(format!(
                    "[{}@{}:{}] {}(\"{}\", \"{}\")",
                    t.frame.exten, t.frame.context, t.frame.prio, p.app, self.chans[c].name, data
                ));
                self.app(c, &p.app, &data, &t.frame)
            }
            Err(e) => {
                self.error(format!("{}: {e}", self.chans[c].name));
                Flow::Fail
            }
        };
        match flow {
            Flow::Next => t.frame.prio += 1,
            Flow::Jump(prio) => t.frame.prio = prio,
            Flow::Return => return Some(End::Returned),
            Flow::Fail => return Some(End::Abnormal),
        }
        if self.chans[c].hung_up && t.kind != Kind::Handler {
            // A hung-up channel's PBX or routine stops after the running application.
            return Some(End::Abnormal);
        }
        None
    }

    /// Hangs up `chans` at the same moment: each runs its hangup handlers in its own thread, interleaved in an
    /// order drawn from the seed; a channel is gone (Hangup event) when its handlers have finished.
    fn hang_up_together(&mut self, chans: &[usize]) {
        struct H {
            chan: usize,
            running: Option<Thread>,
        }
        let mut threads: Vec<H> = Vec::new();
        for &chan in chans {
            if !self.chans[chan].gone {
                self.chans[chan].hung_up = true;
                let cause = self.chans[chan].cause.to_string();
                self.chans[chan]
                    .vars
                    .entry("HANGUPCAUSE".into())
                    .or_insert(cause);
                threads.push(H {
                    chan,
                    running: None,
                });
            }
        }
        while !threads.is_empty() {
            let i = self.rng.below(threads.len());
            let chan = threads[i].chan;
            if let Some(mut t) = threads[i].running.take() {
                if self.step(&mut t).is_none() {
                    threads[i].running = Some(t);
                }
                continue;
            }
            match self.chans[chan].handlers.pop() {
                Some(loc) => match location(&loc) {
                    Some(frame) => {
                        threads[i].running = Some(Thread::new(chan, frame, Kind::Handler));
                    }
                    None => self.error(format!("bad hangup handler location {loc}")),
                },
                None => {
                    let cause = self.chans[chan].cause;
                    let text = if cause == 16 {
                        "Normal Clearing"
                    } else {
                        "Other"
                    };
                    self.event(
                        "Hangup",
                        "call,all",
                        Some(chan),
                        vec![
                            ("Cause".into(), cause.to_string()),
                            ("Cause-txt".into(), text.into()),
                        ],
                    );
                    self.chans[chan].gone = true;
                    threads.swap_remove(i);
                }
            }
        }
    }

    fn app(&mut self, c: usize, app: &str, data: &str, frame: &Frame) -> Flow {
        match app.to_ascii_lowercase().as_str() {
            "noop" => Flow::Next,
            "set" => self.set(c, data),
            "gotoif" => match dialplan::goto_if(data).1 {
                None => Flow::Next,
                Some(dest) => self.goto(frame, &dest),
            },
            "goto" => self.goto(frame, data),
            "answer" => {
                self.chans[c].up = true;
                if let Some(one) = self.chans[c].local_peer
                    && !self.originate_answered
                {
                    self.chans[one].up = true;
                    self.originate_answered = true;
                    self.originate_response(true, one);
                }
                Flow::Next
            }
            "hangup" => Flow::Fail,
            "return" => Flow::Return,
            "userevent" => {
                let mut parts = data.split(',');
                let name = parts.next().unwrap_or("").to_owned();
                let mut h = vec![("UserEvent".to_owned(), name)];
                for p in parts {
                    let (k, v) = p.split_once(':').unwrap_or((p, ""));
                    h.push((k.trim().to_owned(), v.trim().to_owned()));
                }
                self.event("UserEvent", "user,all", Some(c), h);
                Flow::Next
            }
            "tryexec" => {
                // app_exec.c: split at the first '(' and the last ')', substitute the arguments once more, run
                // the application, set TRYSTATUS, and always continue.
                let (inner, args) = match data.split_once('(') {
                    Some((a, rest)) => (a, rest.rfind(')').map_or(rest, |i| &rest[..i])),
                    None => (data, ""),
                };
                let args = {
                    let mut scope = ChanScope {
                        sim: self,
                        chan: c,
                        args: &frame.args,
                    };
                    dialplan::substitute(args, &mut scope)
                };
                let ok = match args {
                    Ok(args) => !matches!(self.app(c, inner, &args, frame), Flow::Fail),
                    Err(e) => {
                        self.error(format!("TryExec: {e}"));
                        false
                    }
                };
                self.chans[c].vars.insert(
                    "TRYSTATUS".into(),
                    if ok { "SUCCESS" } else { "FAILED" }.into(),
                );
                Flow::Next
            }
            "sendfax" => self.send_fax(c, data),
            "dial" => self.dial(c, data),
            other => {
                self.error(format!(
                    "No application '{other}' (not provided by the scripted PBX)"
                ));
                Flow::Fail
            }
        }
    }

    fn goto(&mut self, frame: &Frame, dest: &str) -> Flow {
        let parts: Vec<&str> = dest.split(',').collect();
        let (ctx, ext, label) = match parts.as_slice() {
            [l] => (frame.context.as_str(), frame.exten.as_str(), *l),
            [e, l] => (frame.context.as_str(), *e, *l),
            [c, e, l] => (*c, *e, *l),
            _ => ("", "", ""),
        };
        if ctx != frame.context || ext != frame.exten {
            self.error(format!(
                "Goto to another extension ({dest}) is not modelled"
            ));
            return Flow::Fail;
        }
        match self.pbx.plan.label(ctx, ext, label) {
            Some(p) => Flow::Jump(p),
            None => {
                self.error(format!(
                    "Priority '{label}' must be a number > 0, or valid label"
                ));
                Flow::Fail
            }
        }
    }

    fn set(&mut self, c: usize, data: &str) -> Flow {
        let Some((name, value)) = data.split_once('=') else {
            self.error(format!("Set requires an '=' ({data})"));
            return Flow::Next;
        };
        if name == "CHANNEL(hangup_handler_push)" {
            self.chans[c].handlers.push(value.to_owned());
        } else if let Some(args) = name
            .strip_prefix("SHARED(")
            .and_then(|a| a.strip_suffix(')'))
        {
            let (var, target) = match args.split_once(',') {
                Some((v, t)) => (v, Some(t)),
                None => (args, None),
            };
            let target = match target {
                None => Some(c),
                Some(t) => self.chans.iter().position(|ch| ch.name == t && !ch.gone),
            };
            match target {
                Some(t) => {
                    self.chans[t].vars.insert(format!("SHARED({var})"), value.to_owned());
                }
                None => self.error(format!(
                    "func_global.c: Channel '{}' not found!  Variable '{var}' not set to '{value}'.",
                    target_name(args)
                )),
            }
        } else {
            self.chans[c].vars.insert(name.to_owned(), value.to_owned());
        }
        Flow::Next
    }

    fn dial(&mut self, c: usize, data: &str) -> Flow {
        let mut args = data.splitn(3, ',');
        let target = args.next().unwrap_or("");
        let _timeout = args.next();
        let opts = args.next().unwrap_or("");
        let Some((number, endpoint)) = target
            .strip_prefix("PJSIP/")
            .and_then(|t| t.split_once('@'))
        else {
            self.error(format!("Dial: unsupported target {target}"));
            return Flow::Fail;
        };
        self.record.number = Some(number.to_owned());
        let dialed = Dialed {
            job: self.chans[c]
                .vars
                .get("FAXLINE_JOB")
                .cloned()
                .unwrap_or_default(),
            number: number.to_owned(),
        };
        let (status, cause, behaviour) = match (self.pbx.far_end)(&dialed) {
            FarEnd::Busy => ("BUSY", 17, None),
            FarEnd::NoAnswer => ("NOANSWER", 19, None),
            FarEnd::Congestion => ("CONGESTION", 34, None),
            FarEnd::Unavailable { cause } => ("CHANUNAVAIL", cause, None),
            FarEnd::Answer(b) => ("ANSWER", 16, Some(b)),
        };
        self.chans[c]
            .vars
            .insert("DIALSTATUS".into(), status.into());
        let Some(behaviour) = behaviour else {
            self.chans[c]
                .vars
                .insert("HANGUPCAUSE".into(), cause.to_string());
            self.chans[c].cause = cause;
            return Flow::Next;
        };
        let n = self.pbx.next_channel.fetch_add(1, Ordering::Relaxed);
        let linkedid = self.chans[c].linkedid.clone();
        let uid = format!("{}-t{n}", self.chans[c].linkedid);
        let trunk = self.new_channel(
            format!("PJSIP/{endpoint}-{n:08x}"),
            uid,
            linkedid,
            (String::new(), String::new(), 1),
        );
        self.chans[trunk].up = true;
        self.fax_far_end = Some(behaviour);
        self.chans[c].vars.insert("HANGUPCAUSE".into(), "16".into());
        // U(ctx^arg1^arg2...): Gosub(ctx,s,1(args)) on the answered channel, in the caller's thread.
        let routine = opts
            .find("U(")
            .and_then(|i| opts[i + 2..].rfind(')').map(|j| &opts[i + 2..i + 2 + j]));
        let end = match routine {
            Some(r) => {
                let mut parts = r.split('^');
                let ctx = parts.next().unwrap_or("").to_owned();
                let frame = Frame {
                    context: ctx,
                    exten: "s".into(),
                    prio: 1,
                    args: parts.map(str::to_owned).collect(),
                };
                let mut t = Thread::new(trunk, frame, Kind::Routine);
                self.run(&mut t)
            }
            None => End::Returned,
        };
        let abort = end == End::Returned
            && self.chans[trunk]
                .vars
                .get("GOSUB_RESULT")
                .map(String::as_str)
                == Some("ABORT");
        if abort {
            // app_dial: ABORT hangs up both legs: the callee now, then Dial returns -1.
            self.hang_up_together(&[trunk]);
            return Flow::Fail;
        }
        // Anything else: app_dial bridges the caller with the callee.
        if !self.chans[trunk].hung_up {
            self.record.silent_bridge = true;
            self.out.push(Out::Pause(self.pbx.patience));
            self.chans[trunk].hung_up = true;
        }
        // The bridge ends with the callee's hangup: it and the caller hang up concurrently.
        self.bridged = Some(trunk);
        Flow::Fail
    }

    fn send_fax(&mut self, c: usize, data: &str) -> Flow {
        let (file, opts) = data.split_once(',').unwrap_or((data, ""));
        let path = Path::new(file);
        let readable = match self.pbx.asterisk_user {
            Some((uid, gid)) => readable_by(path, uid, gid),
            None => std::fs::File::open(path).is_ok(),
        };
        let localid = self.chans[c]
            .vars
            .get("FAXOPT(localstationid)")
            .cloned()
            .unwrap_or_default();
        let set = |sim: &mut Sim, vals: &[(&str, String)]| {
            for (k, v) in vals {
                sim.chans[c].vars.insert((*k).to_owned(), v.clone());
            }
        };
        if !readable {
            self.error(format!(
                "res_fax.c: access failure.  Verify '{file}' exists and check permissions."
            ));
            set(
                self,
                &[
                    ("FAXSTATUS", "FAILED".into()),
                    ("FAXERROR", "FILE_ERROR".into()),
                    ("FAXSTATUSSTRING", "error reading file".into()),
                    ("FAXMODE", "audio".into()),
                    ("FAXPAGES", "0".into()),
                    ("FAXBITRATE", String::new()),
                    ("FAXRESOLUTION", String::new()),
                    ("REMOTESTATIONID", String::new()),
                    ("LOCALSTATIONID", localid),
                ],
            );
            return Flow::Fail;
        }
        let total = tiff_pages(path).unwrap_or(0);
        let (pages, complete, far_end_hangs_up) = match self.fax_far_end {
            Some(FaxBehaviour::DropAfter { pages }) => (pages.min(total), false, true),
            Some(FaxBehaviour::Receive { hangs_up_first }) => (total, total > 0, hangs_up_first),
            None => (0, false, false),
        };
        if opts.contains('s') {
            for stage in [
                "T.38 Negotiated",
                "Allocating Resources",
                "FAX Transmission In Progress",
            ] {
                self.event(
                    "FAXStatus",
                    "call,all",
                    Some(c),
                    vec![
                        ("Operation".into(), "send".into()),
                        ("Status".into(), stage.into()),
                        ("LocalStationID".into(), localid.clone()),
                        ("FileName".into(), file.into()),
                    ],
                );
            }
        }
        self.record.received = Some((pages, complete));
        let success = complete;
        set(
            self,
            &[
                (
                    "FAXSTATUS",
                    if success { "SUCCESS" } else { "FAILED" }.into(),
                ),
                (
                    "FAXERROR",
                    if success && far_end_hangs_up {
                        "HANGUP".into()
                    } else if success {
                        String::new()
                    } else {
                        "The call dropped prematurely".into()
                    },
                ),
                (
                    "FAXSTATUSSTRING",
                    if success {
                        "OK".into()
                    } else {
                        "The call dropped prematurely".into()
                    },
                ),
                ("FAXMODE", "T38".into()),
                ("FAXPAGES", pages.to_string()),
                ("FAXBITRATE", "14400".into()),
                ("FAXRESOLUTION", "8031x7700".into()),
                (
                    "REMOTESTATIONID",
                    if pages > 0 {
                        "+1 555 0199".into()
                    } else {
                        String::new()
                    },
                ),
                ("LOCALSTATIONID", localid.clone()),
            ],
        );
        self.event(
            "SendFAX",
            "call,all",
            Some(c),
            vec![
                ("LocalStationID".into(), localid),
                (
                    "RemoteStationID".into(),
                    self.chans[c].vars["REMOTESTATIONID"].clone(),
                ),
                ("PagesTransferred".into(), pages.to_string()),
                ("Resolution".into(), "8031x7700".into()),
                ("TransferRate".into(), "14400".into()),
                ("FileName".into(), file.into()),
            ],
        );
        if far_end_hangs_up {
            self.chans[c].hung_up = true;
            return Flow::Fail;
        }
        Flow::Next
    }
}

fn target_name(args: &str) -> &str {
    args.split_once(',').map_or("", |(_, t)| t)
}

#[derive(Debug, Clone)]
struct Thread {
    chan: usize,
    frame: Frame,
    kind: Kind,
}

impl Thread {
    fn new(chan: usize, frame: Frame, kind: Kind) -> Thread {
        Thread { chan, frame, kind }
    }
}

struct ChanScope<'a, 'p> {
    sim: &'a mut Sim<'p>,
    chan: usize,
    args: &'a [String],
}

impl Scope for ChanScope<'_, '_> {
    fn var(&mut self, name: &str) -> Option<String> {
        if let Some(n) = name
            .strip_prefix("ARG")
            .and_then(|n| n.parse::<usize>().ok())
        {
            return self.args.get(n.checked_sub(1)?).cloned();
        }
        let ch = &self.sim.chans[self.chan];
        match name {
            "CHANNEL" => Some(ch.name.clone()),
            "UNIQUEID" => Some(ch.uniqueid.clone()),
            "EXTEN" => Some(ch.location.1.clone()),
            _ => ch
                .vars
                .get(name)
                .or_else(|| self.sim.pbx.plan.globals.get(name))
                .cloned(),
        }
    }

    fn func(&mut self, name: &str, args: &str) -> Result<String, String> {
        let ch = &self.sim.chans[self.chan];
        Ok(match name {
            "LEN" => args.chars().count().to_string(),
            "FILTER" => {
                let (allowed, s) = args.split_once(',').ok_or("FILTER needs two arguments")?;
                let mut set = Vec::new();
                let a: Vec<char> = allowed.chars().collect();
                let mut i = 0;
                while i < a.len() {
                    if i + 2 < a.len() && a[i + 1] == '-' {
                        set.push(a[i]..=a[i + 2]);
                        i += 3;
                    } else {
                        set.push(a[i]..=a[i]);
                        i += 1;
                    }
                }
                s.chars()
                    .filter(|c| set.iter().any(|r| r.contains(c)))
                    .collect()
            }
            "IF" => {
                let (cond, rest) = args.split_once('?').ok_or("IF without '?'")?;
                let (t, f) = rest.split_once(':').unwrap_or((rest, ""));
                if !cond.trim().is_empty() && cond.trim() != "0" {
                    t.to_owned()
                } else {
                    f.to_owned()
                }
            }
            "URIENCODE" => dialplan::uri_encode(args),
            "STAT" => {
                let (flag, path) = args.split_once(',').ok_or("STAT needs two arguments")?;
                if flag != "e" {
                    return Err(format!("STAT({flag}) is not modelled"));
                }
                if Path::new(path).exists() { "1" } else { "0" }.to_owned()
            }
            "SHARED" => {
                let (var, target) = match args.split_once(',') {
                    Some((v, t)) => (v, Some(t)),
                    None => (args, None),
                };
                let chan = match target {
                    None => Some(ch),
                    Some(t) => self.sim.chans.iter().find(|c| c.name == t && !c.gone),
                };
                chan.and_then(|c| c.vars.get(&format!("SHARED({var})")).cloned())
                    .unwrap_or_default()
            }
            "CALLERID" | "FAXOPT" => ch
                .vars
                .get(&format!("{name}({args})"))
                .cloned()
                .unwrap_or_default(),
            other => return Err(format!("Function {other} not registered")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dialplan in the shape of the agent's: `;2` dials with a `U()` routine that runs SendFAX.
    fn plan(routine: &str) -> Dialplan {
        Dialplan::parse(&format!(
            "[out]\n\
             exten => send,1,Set(CHANNEL(hangup_handler_push)=res,dial,1)\n \
             same => n,Answer()\n \
             same => n,Dial(PJSIP/${{DEST}}@trunk,30,U(sub^${{CHANNEL}}^${{FILE}}))\n \
             same => n,Hangup()\n\
             [sub]\n{routine}\n\
             [res]\n\
             exten => dial,1,UserEvent(R,Who: dial,Status: ${{SHARED(ST)}},Dial: ${{DIALSTATUS}})\n \
             same => n,Return()\n\
             exten => fax,1,UserEvent(R,Who: fax,Status: ${{FAXSTATUS}})\n \
             same => n,Return()\n\
             [copy]\n\
             exten => s,1,Set(SHARED(ST,${{ARG1}})=${{FAXSTATUS}})\n \
             same => n,Set(SHARED(ST,${{ARG1}})=${{FAXSTATUS}})\n \
             same => n,Return()\n"
        ))
        .unwrap()
    }

    fn originate(id: &str, file: &Path) -> Message {
        let file = format!("FILE={}", file.display());
        Message::from_pairs([
            ("Action", "Originate"),
            ("ActionID", "a1"),
            ("Channel", "Local/send@out/n"),
            ("Application", "Wait"),
            ("Data", "60"),
            ("Variable", "DEST=+15551234567"),
            ("Variable", file.as_str()),
            ("ChannelId", id),
        ])
    }

    fn user_events(events: &[Message]) -> Vec<(String, String)> {
        events
            .iter()
            .filter(|m| m.get("Event") == Some("UserEvent"))
            .map(|m| {
                (
                    m.get("Who").unwrap_or("").to_owned(),
                    m.get("Status").unwrap_or("").to_owned(),
                )
            })
            .collect()
    }

    fn tiff(dir: &Path, pages: usize) -> std::path::PathBuf {
        let p = dir.join("f.tif");
        let mut b = b"II*\0".to_vec();
        b.extend_from_slice(&8u32.to_le_bytes());
        for i in 0..pages {
            let next = if i + 1 == pages {
                0
            } else {
                8 + (i as u32 + 1) * 6
            };
            b.extend_from_slice(&[0, 0]);
            b.extend_from_slice(&next.to_le_bytes());
        }
        std::fs::write(&p, b).unwrap();
        p
    }

    const RECEIVER: FarEnd = FarEnd::Answer(FaxBehaviour::Receive {
        hangs_up_first: true,
    });

    #[test]
    fn abort_hangs_up_both_legs_and_handlers_report_from_their_own_channel() {
        let dir = tempfile_dir();
        let file = tiff(&dir, 3);
        let pbx = Pbx::new(
            plan(
                "exten => s,1,Set(CHANNEL(hangup_handler_push)=res,fax,1)\n \
                 same => n,TryExec(SendFAX(${ARG2},s))\n \
                 same => n,Set(GOSUB_RESULT=ABORT)\n \
                 same => n,Return()",
            ),
            |_| RECEIVER,
        );
        let events = pbx.play(&originate("c1", &file));
        let rec = &pbx.records()[0];
        assert!(rec.errors.is_empty(), "{:?}", rec.errors);
        assert_eq!(rec.received, Some((3, true)));
        assert!(!rec.silent_bridge && rec.finished);
        let ue = user_events(&events);
        assert!(ue.contains(&("fax".into(), "SUCCESS".into())), "{ue:?}");
        assert_eq!(ue.len(), 2);
        // Newchannel ×3, OriginateResponse, FAXStatus ×3, SendFAX, 2 UserEvents, Hangup ×3.
        let hangups = events
            .iter()
            .filter(|m| m.get("Event") == Some("Hangup"))
            .count();
        assert_eq!(hangups, 3);
        assert_eq!(
            events
                .iter()
                .find(|m| m.get("Event") == Some("OriginateResponse"))
                .unwrap()
                .get("Reason"),
            Some("4")
        );
    }

    #[test]
    fn a_failed_routine_bridges_the_legs_and_concurrent_handlers_race() {
        let dir = tempfile_dir();
        let file = tiff(&dir, 1);
        let routine = "exten => s,1,Set(CHANNEL(hangup_handler_push)=copy,s,1(${ARG1}))\n \
                       same => n,SendFAX(${ARG2},)\n \
                       same => n,Set(GOSUB_RESULT=ABORT)\n \
                       same => n,Return()";
        // The far end still up after SendFAX failed (unreadable file): a silent bridge.
        let pbx = Pbx::new(plan(routine), |_| RECEIVER)
            .asterisk_user(65000, 65000)
            .far_end_patience(Duration::ZERO);
        std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        pbx.play(&originate("c1", &file));
        let rec = &pbx.records()[0];
        assert!(rec.silent_bridge);
        assert!(rec.errors[0].starts_with("res_fax.c: access failure"));
        // The receiver hangs up first: SendFAX returns -1, the bridge ends at once, both channels' handlers run
        // concurrently. Over many seeds the ;2 report sometimes comes before the copy, and a copy sometimes
        // targets a channel already gone.
        std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
        let pbx = Pbx::new(plan(routine), |_| RECEIVER).seed(3);
        let mut statuses = std::collections::BTreeSet::new();
        for i in 0..40 {
            let events = pbx.play(&originate(&format!("c{i}"), &file));
            statuses.extend(user_events(&events).into_iter().map(|(_, s)| s));
        }
        assert!(
            statuses.contains("SUCCESS") && statuses.contains(""),
            "{statuses:?}"
        );
        let records = pbx.records();
        assert!(records.iter().all(|r| !r.silent_bridge && r.finished));
        assert!(
            records
                .iter()
                .flat_map(|r| &r.errors)
                .any(|e| e.contains("not found!  Variable 'ST' not set to 'SUCCESS'")),
        );
    }

    #[test]
    fn unanswered_calls_set_dialstatus_and_cause() {
        let dir = tempfile_dir();
        let file = tiff(&dir, 1);
        let pbx = Pbx::new(plan("exten => s,1,Return()"), |_| FarEnd::Unavailable {
            cause: 1,
        });
        let events = pbx.play(&originate("c1", &file));
        let ev = events
            .iter()
            .find(|m| m.get("Event") == Some("UserEvent"))
            .unwrap();
        assert_eq!(ev.get("Dial"), Some("CHANUNAVAIL"));
        let two = events
            .iter()
            .find(|m| m.get("Event") == Some("Hangup") && m.get("Channel").unwrap().ends_with(";2"))
            .unwrap();
        assert_eq!(two.get("Cause"), Some("1"));
        assert_eq!(pbx.records()[0].received, None);
    }

    /// A fresh directory under the system temp dir (this crate has no tempfile dependency).
    fn tempfile_dir() -> std::path::PathBuf {
        static N: AtomicU32 = AtomicU32::new(0);
        let d = std::env::temp_dir().join(format!(
            "faxline-pbx-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
