//! Shared helpers for the workspace-level integration tests: a pcap writer, so an independent
//! dissector (tshark) reads the packets our code built.
#![forbid(unsafe_code)]

/// The pcap writer now lives with the line simulator, which writes traces of failed calls too.
pub use faxline_t38::sim::pcap as pcap_writer;
