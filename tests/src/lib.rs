//! Shared helpers for the workspace-level integration tests: a pcap writer, so an independent
//! dissector (tshark) reads the packets our code built.
#![forbid(unsafe_code)]

pub mod pcap_writer;
