//! The line simulator: two fax sessions joined by a channel model (latency, jitter, reordering,
//! duplication, random and Gilbert–Elliott loss) on a simulated clock, carrying real UDPTL
//! packets with the wire core's error correction, or G.711 audio. Same seed, same call.
//!
//! The call and the channel are sans-IO: they run on a step counter and read no clock. The
//! [`meter`] times their steps and reads `/proc`; [`run_realtime`] paces many calls on the
//! [`tick_pool`](crate::tick_pool).
//!
//! ```no_run
//! # use faxline_t38::sim::{Call, CallConfig, ChannelModel, Loss};
//! # use faxline_t38::udptl::{ErrorCorrection, RedundancyDepth};
//! let mut config = CallConfig::t38("doc.tif".into(), "out.tif".into(), 3,
//!     ErrorCorrection::Redundancy(RedundancyDepth::uniform(3)));
//! config.forward = ChannelModel::with_loss(Loss::Random(0.05));
//! let report = Call::new(config)?.run();
//! println!("{} pages in {:?}", report.receiver.pages, report.line_time);
//! # Ok::<(), faxline_t38::sim::SimError>(())
//! ```

mod call;
mod channel;
mod driver;
pub mod meter;
pub mod pcap;

pub use call::{
    Call, CallConfig, CallReport, LineCapture, LinkStats, STEP, Side, SimError, Transport,
};
pub use channel::{Channel, ChannelModel, ChannelStats, Loss, SentPacket, SimRng};
pub use driver::{DriverConfig, DriverReport, run_realtime};
pub use meter::{process_cpu_time, resident_kib};
