//! An async Asterisk Manager Interface (AMI) client.
#![forbid(unsafe_code)]
