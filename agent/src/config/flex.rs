//! Deserializers that accept a value either natively (TOML integer, boolean, array) or as a string, because
//! environment overrides always arrive as strings (`FAXLINE_AMI__PORT=5038`, `FAXLINE_SIP__NUMBERS=+1555,+1556`).

use std::fmt::Display;
use std::str::FromStr;

use serde::de::{Deserialize, DeserializeOwned, Deserializer, Error};

/// A scalar (number, bool) given natively or as a string.
pub fn scalar<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + FromStr,
    T::Err: Display,
{
    match toml::Value::deserialize(d)? {
        toml::Value::String(s) => {
            let t = s.trim();
            // Booleans from the environment: accept the usual spellings (Faxbot accepted 1/true/yes).
            let normalised = match t.to_ascii_lowercase().as_str() {
                "yes" | "on" | "1" if std::any::type_name::<T>() == "bool" => "true".to_owned(),
                "no" | "off" | "0" if std::any::type_name::<T>() == "bool" => "false".to_owned(),
                _ => t.to_owned(),
            };
            normalised
                .parse::<T>()
                .map_err(|e| D::Error::custom(format!("invalid value {t:?}: {e}")))
        }
        other => T::deserialize(other).map_err(D::Error::custom),
    }
}

/// Like [`scalar`] for optional settings; an empty string means "not set".
pub fn opt_scalar<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + FromStr,
    T::Err: Display,
{
    match toml::Value::deserialize(d)? {
        toml::Value::String(s) if s.trim().is_empty() => Ok(None),
        v => scalar(v).map(Some).map_err(D::Error::custom),
    }
}

/// A list given as a TOML array or as a comma-separated string.
pub fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match toml::Value::deserialize(d)? {
        toml::Value::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| T::deserialize(toml::Value::String(p.to_owned())).map_err(D::Error::custom))
            .collect(),
        toml::Value::Array(items) => items
            .into_iter()
            .map(|v| T::deserialize(v).map_err(D::Error::custom))
            .collect(),
        other => Err(D::Error::custom(format!(
            "expected a list or a comma-separated string, got {}",
            other.type_str()
        ))),
    }
}
