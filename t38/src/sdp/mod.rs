//! SDP for T.38: the `m=image <port> udptl t38` stream, its `a=T38…` attributes, and
//! offer/answer negotiation including UDPTL datagram sizing. Sans-IO: bytes in, values out.
//!
//! - [`attributes`]: [`T38Attributes`], the typed `a=T38…` attribute set as a peer writes it (parse and emit).
//! - [`session`]: whole SDP bodies ([`SessionDescription`]) and our offers/answers ([`SdpBuilder`]).
//! - [`negotiate`]: [`LocalT38Config`] → [`NegotiatedT38`], the values the session and UDPTL
//!   layers run with, and the datagram arithmetic that guarantees no IFP is ever truncated.
//! - [`asterisk`]: a model of Asterisk's own arithmetic, to predict an Asterisk peer.
//!
//! ```
//! use faxline_t38::sdp::{LocalT38Config, SdpBuilder, SdpOrigin, SessionDescription};
//!
//! let offer = SessionDescription::parse(
//!     b"v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
//!       m=image 4000 udptl t38\r\na=T38FaxVersion:0\r\na=T38MaxBitRate:9600\r\n\
//!       a=T38FaxRateManagement:transferredTCF\r\na=T38FaxMaxDatagram:400\r\n\
//!       a=T38FaxUdpEC:t38UDPRedundancy\r\n",
//! )?;
//! let image = offer.image()?.expect("an image stream");
//! let negotiated = LocalT38Config::default().answer(&image.attributes)?;
//! assert_eq!(negotiated.max_bit_rate, 9600);
//! assert!(negotiated.max_ifp_send >= 72);
//!
//! let origin = SdpOrigin {
//!     username: "faxline".into(),
//!     session_id: 1,
//!     version: 1,
//!     address: "192.0.2.9".parse().unwrap(),
//! };
//! let answer = SdpBuilder::new(&origin, "faxline", origin.address)
//!     .image(5000, &negotiated.answer_attributes())
//!     .build();
//! let body = answer.to_bytes();
//! assert!(body.windows(22).any(|w| w == b"m=image 5000 udptl t38"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod asterisk;
pub mod attributes;
mod error;
pub mod negotiate;
pub mod session;

pub use attributes::{EcDepth, RateManagement, T38Attributes, UdpEc};
pub use error::{NegotiationError, SdpError};
pub use negotiate::{EcMode, LocalT38Config, NegotiatedT38, NegotiationNote};
pub use session::{AudioStream, ImageStream, SdpBuilder, SdpOrigin, SessionDescription};
