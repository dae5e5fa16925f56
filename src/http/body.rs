//! Request bodies as serde types: every JSON body a route takes is decoded here, at the
//! edge, with unknown keys refused and a bad field named by its path (the way `config.rs`
//! reads a config), so the use-cases behind the handlers take typed values.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::message::Request;
use crate::error::{Error, Result};
use crate::resolve::run::Band;

/// Whether a body is absent: empty or only whitespace (an optional body may be left out).
pub fn is_empty(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// Decodes a JSON body into `T`; an error names the field by its path (`band.low`).
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| Error::invalid("body", "", "is not valid UTF-8"))?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        Error::invalid("body", field, e.into_inner().to_string())
    })?;
    de.end()
        .map_err(|e| Error::invalid("body", "", format!("is not JSON: {e}")))?;
    Ok(value)
}

/// An optional JSON body: `T::default()` when absent, else it must say it is JSON and decode.
pub fn optional<T: DeserializeOwned + Default>(req: &Request) -> Result<T> {
    if is_empty(&req.body) {
        return Ok(T::default());
    }
    super::handlers::require_json(req)?;
    decode(&req.body)
}

/// `POST /v1/matching/runs/:id/ai-resolve`: `{band?: {low?, high?}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiResolve {
    #[serde(default)]
    pub band: Option<BandBody>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandBody {
    #[serde(default)]
    pub low: Option<f64>,
    #[serde(default)]
    pub high: Option<f64>,
}

impl AiResolve {
    /// The band asked for, bounds left out taken from the run's default.
    pub fn band(&self, threshold: f64) -> Result<Band> {
        let default = Band::default_for(threshold);
        let Some(band) = &self.band else {
            return Ok(default);
        };
        let bound = |key: &str, value: Option<f64>, fallback: f64| -> Result<f64> {
            match value {
                None => Ok(fallback),
                Some(x) if (0.0..=1.0).contains(&x) => Ok(x),
                Some(_) => Err(Error::invalid(
                    "body",
                    format!("band.{key}"),
                    "a number from 0 to 1",
                )),
            }
        };
        let low = bound("low", band.low, default.low)?;
        let high = bound("high", band.high, default.high)?;
        if low > high {
            return Err(Error::invalid(
                "body",
                "band.low",
                "must not exceed band.high",
            ));
        }
        Ok(Band { low, high })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_band_defaults_to_half_up_to_the_threshold_and_checks_its_bounds() {
        let empty: AiResolve = decode(b"{}").unwrap();
        assert_eq!(
            empty.band(0.8).unwrap(),
            Band {
                low: 0.5,
                high: 0.8
            }
        );
        assert_eq!(
            empty.band(0.3).unwrap(),
            Band {
                low: 0.3,
                high: 0.3
            }
        );
        let given: AiResolve = decode(br#"{"band": {"low": 0.2}}"#).unwrap();
        assert_eq!(
            given.band(0.8).unwrap(),
            Band {
                low: 0.2,
                high: 0.8
            }
        );
        let inverted: AiResolve = decode(br#"{"band": {"low": 0.9, "high": 0.1}}"#).unwrap();
        assert!(inverted.band(0.8).is_err());
        let out_of_range: AiResolve = decode(br#"{"band": {"high": 1.5}}"#).unwrap();
        assert!(out_of_range.band(0.8).is_err());
    }

    #[test]
    fn an_unknown_key_is_named_by_its_path() {
        let Err(Error::Validation { details, .. }) = decode::<AiResolve>(br#"{"band": {"lo": 1}}"#)
        else {
            panic!("an unknown key must be refused");
        };
        assert_eq!(details[0].field, "band.lo");
    }
}
