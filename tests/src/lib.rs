//! Shared helpers for the workspace-level integration tests (fixture paths, pcap reading).
#![forbid(unsafe_code)]

pub mod pcap_writer;
