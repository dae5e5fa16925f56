//! Request bodies as serde types: every JSON body a route takes is decoded here, at the
//! edge, with unknown keys refused and a bad field named by its path (the way `config.rs`
//! reads a config), so the use-cases behind the handlers take typed values.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::message::Request;
use crate::error::{Error, Result};
use crate::package::{
    field_ref, CheckKind, CheckSpec, PackageSpec, PassCriteria, Presence, SlotSpec, Verdict,
};
use crate::resolve::run::Band;
use crate::service::{
    BulkReview, GenerateStrategy, InputDocument, Label, PackageRunRequest, Selection, Trigger,
    TriggerRun, MAX_BULK_REVIEW, MAX_PACKAGE_DOCUMENTS,
};
use crate::store::documents::Target;
use crate::store::results::{ResultFilter, Review, ReviewStatus};
use crate::store::webhooks::EVENTS;

/// Whether a body is absent: empty or only whitespace (an optional body may be left out).
pub fn is_empty(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// Decodes a JSON body into `T`; an error names the field by its path (`band.low`).
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| Error::invalid("body", "", "is not valid UTF-8"))?;
    crate::error::refuse_array("body", text)?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        Error::json("body", &path, e.inner())
    })?;
    de.end().map_err(|e| Error::json("body", ".", &e))?;
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

/// `Some(value)` for a key that is present, even as `null` (`Some(None)`): tells "clear
/// the notes" from "leave them".
fn present<'de, D, T>(de: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// A review status as a body gives it; `field` names it in an error.
fn review_status(text: Option<&str>, field: &str) -> Result<ReviewStatus> {
    const ALLOWED: &str = "\"approved\", \"rejected\" or \"pending\"";
    match text {
        None => Err(Error::invalid(
            "body",
            field,
            format!("is required: {ALLOWED}"),
        )),
        Some(given) => ReviewStatus::parse(given).ok_or_else(|| {
            Error::invalid(
                "body",
                field,
                format!(
                    "must be {ALLOWED}, got \"{}\"",
                    given.chars().take(40).collect::<String>()
                ),
            )
        }),
    }
}

/// Notes of a review: at most 10,000 bytes.
fn checked_notes(notes: Option<Option<String>>) -> Result<Option<Option<String>>> {
    match &notes {
        Some(Some(text)) if text.len() > 10_000 => {
            Err(Error::invalid("body", "notes", "at most 10000 bytes"))
        }
        _ => Ok(notes),
    }
}

/// `POST /v1/matching/runs/:run/results/:result/review`: `{status, notes?,
/// reference_row_id?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    #[serde(default)]
    status: Option<String>,
    #[serde(default, deserialize_with = "present")]
    notes: Option<Option<String>>,
    #[serde(default)]
    reference_row_id: Option<String>,
}

impl ReviewBody {
    /// The decision, checked, made by the key `reviewed_by`.
    pub fn into_review(self, reviewed_by: &str) -> Result<Review> {
        let status = review_status(self.status.as_deref(), "status")?;
        let notes = checked_notes(self.notes)?;
        if self.reference_row_id.is_some() && status != ReviewStatus::Approved {
            return Err(Error::invalid(
                "body",
                "reference_row_id",
                "picks the approved row, so it needs \"status\": \"approved\"",
            ));
        }
        Ok(Review {
            status,
            notes,
            reference_row_id: self.reference_row_id,
            reviewed_by: reviewed_by.to_string(),
        })
    }
}

/// `POST /v1/matching/runs/:id/results/review`: `{result_ids}` or `{filter}`, with
/// `status` and `notes?`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewManyBody {
    #[serde(default)]
    result_ids: Option<Vec<String>>,
    #[serde(default)]
    filter: Option<FilterBody>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default, deserialize_with = "present")]
    notes: Option<Option<String>>,
}

/// A results filter in a body: `{status?, matched?, min_confidence?, max_confidence?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterBody {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    matched: Option<bool>,
    #[serde(default)]
    min_confidence: Option<f64>,
    #[serde(default)]
    max_confidence: Option<f64>,
}

impl ReviewManyBody {
    /// Which results, and the one decision for all of them (checked before any result is
    /// touched).
    pub fn into_bulk(self, reviewed_by: &str) -> Result<BulkReview> {
        let selection = match (self.result_ids, self.filter) {
            (Some(ids), None) => {
                if ids.is_empty() || ids.len() > MAX_BULK_REVIEW {
                    return Err(Error::invalid(
                        "body",
                        "result_ids",
                        format!("must hold 1 to {MAX_BULK_REVIEW} ids"),
                    ));
                }
                Selection::Ids(
                    ids.iter()
                        .map(|id| crate::store::canonical_id(id).into_owned())
                        .collect(),
                )
            }
            (None, Some(filter)) => Selection::Filter(ResultFilter {
                status: filter
                    .status
                    .map(|s| {
                        ReviewStatus::parse(&s).ok_or_else(|| {
                            Error::invalid("body", "filter.status", "pending, approved or rejected")
                        })
                    })
                    .transpose()?,
                matched: filter.matched,
                min_confidence: filter.min_confidence,
                max_confidence: filter.max_confidence,
                document_id: None,
            }),
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "body",
                    "result_ids",
                    "give result_ids or filter, not both",
                ))
            }
            (None, None) => {
                return Err(Error::invalid(
                    "body",
                    "result_ids",
                    "is required (or a filter)",
                ))
            }
        };
        let status = review_status(self.status.as_deref(), "status")?;
        Ok(BulkReview {
            selection,
            review: Review {
                status,
                notes: checked_notes(self.notes)?,
                reference_row_id: None,
                reviewed_by: reviewed_by.to_string(),
            },
        })
    }
}

/// `POST /v1/matching/configs/:id/run` (and `smart-run`): `{target_type?, target_value?,
/// triggered_by?}`, all optional, the body too.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerRunBody {
    #[serde(default, deserialize_with = "present")]
    target_type: Option<Option<Value>>,
    #[serde(default, deserialize_with = "present")]
    target_value: Option<Option<Value>>,
    #[serde(default)]
    triggered_by: Option<String>,
}

impl TriggerRunBody {
    pub fn into_trigger(self) -> Result<TriggerRun> {
        let target = if self.target_type.is_some() || self.target_value.is_some() {
            Some(Target::from_json(
                self.target_type.flatten().as_ref(),
                self.target_value.flatten().as_ref(),
            )?)
        } else {
            None
        };
        let triggered_by = match self.triggered_by.as_deref() {
            None => Trigger::Api,
            Some("api") => Trigger::Api,
            Some("manual") => Trigger::Manual,
            Some(_) => {
                return Err(Error::invalid(
                    "body",
                    "triggered_by",
                    "must be \"api\" or \"manual\"",
                ))
            }
        };
        Ok(TriggerRun {
            target,
            triggered_by,
        })
    }
}

/// `POST /v1/matching/strategies/generate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateStrategyBody {
    #[serde(default)]
    reference_data_id: Option<String>,
    #[serde(default)]
    target_type: Option<Value>,
    #[serde(default)]
    target_value: Option<Value>,
    /// Accepted for clients of the hosted APIs; the proposal needs no prompt.
    #[serde(default)]
    #[allow(dead_code)]
    user_prompt: Option<Value>,
    #[serde(default)]
    labels: Option<Vec<LabelBody>>,
    #[serde(default)]
    use_reviews_of: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// One labelled pair: a target document (its id or external id) and its true row, or
/// `null` for "no row".
#[derive(Debug, Deserialize)]
pub struct LabelBody {
    #[serde(default)]
    document_id: Option<String>,
    #[serde(default)]
    row_id: Option<String>,
}

impl GenerateStrategyBody {
    pub fn into_request(self) -> Result<GenerateStrategy> {
        let reference_data_id = self
            .reference_data_id
            .ok_or_else(|| Error::invalid("body", "reference_data_id", "is required"))?;
        let target = Target::from_json(self.target_type.as_ref(), self.target_value.as_ref())?;
        let labels = self
            .labels
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(i, pair)| {
                let document_id = pair.document_id.ok_or_else(|| {
                    Error::invalid("body", format!("labels[{i}].document_id"), "is required")
                })?;
                Ok(Label {
                    document_id,
                    row_id: pair.row_id,
                })
            })
            .collect::<Result<_>>()?;
        Ok(GenerateStrategy {
            reference_data_id,
            target,
            labels,
            use_reviews_of: self.use_reviews_of,
            name: self.name,
        })
    }
}

/// `POST /v1/matching/packages/configs`: `{name, document_type_configs: [{document_type,
/// matching_config_id, presence}], pass_criteria?, checks?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageConfigBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    document_type_configs: Option<Vec<SlotBody>>,
    #[serde(default)]
    pass_criteria: Option<PassCriteriaBody>,
    #[serde(default)]
    checks: Option<Vec<CheckBody>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotBody {
    #[serde(default)]
    document_type: Option<String>,
    #[serde(default)]
    matching_config_id: Option<String>,
    #[serde(default)]
    presence: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassCriteriaBody {
    #[serde(default)]
    all_required_matched: Option<bool>,
    #[serde(default)]
    min_confidence: Option<f64>,
    #[serde(default)]
    allow_review_on_expected: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    fields: Option<Vec<String>>,
    #[serde(default)]
    tolerance_pct: Option<f64>,
    #[serde(default)]
    on_fail: Option<String>,
}

/// Most document types one package config names.
pub const MAX_PACKAGE_TYPES: usize = 20;

impl PackageConfigBody {
    /// The config, checked field by field (that its matching configs exist is the
    /// service's to check).
    pub fn into_spec(self) -> Result<PackageSpec> {
        let invalid = |field: String, message: &str| Error::invalid("body", field, message);
        let name = self
            .name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty() && n.len() <= 200)
            .ok_or_else(|| invalid("name".into(), "is required: 1 to 200 characters"))?;
        let slots = self.document_type_configs.unwrap_or_default();
        if slots.is_empty() || slots.len() > MAX_PACKAGE_TYPES {
            return Err(invalid(
                "document_type_configs".into(),
                "must hold 1 to 20 document types",
            ));
        }
        let mut document_type_configs: Vec<SlotSpec> = Vec::with_capacity(slots.len());
        for (i, slot) in slots.into_iter().enumerate() {
            let at = |key: &str| format!("document_type_configs[{i}].{key}");
            let document_type = slot
                .document_type
                .filter(|t| {
                    !t.is_empty()
                        && t.len() <= 100
                        && t.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                })
                .ok_or_else(|| {
                    invalid(
                        at("document_type"),
                        "is required: 1 to 100 letters, digits, _ or -",
                    )
                })?;
            if document_type_configs
                .iter()
                .any(|s| s.document_type == document_type)
            {
                return Err(invalid(at("document_type"), "is named twice"));
            }
            let matching_config_id = slot
                .matching_config_id
                .filter(|id| !id.is_empty())
                .ok_or_else(|| invalid(at("matching_config_id"), "is required"))?;
            let presence = match slot.presence.as_deref() {
                None => Presence::Required,
                Some(text) => Presence::parse(text).ok_or_else(|| {
                    invalid(at("presence"), "must be required, expected or optional")
                })?,
            };
            document_type_configs.push(SlotSpec {
                document_type,
                matching_config_id,
                presence,
            });
        }
        let mut pass_criteria = PassCriteria::default();
        if let Some(given) = self.pass_criteria {
            if let Some(all) = given.all_required_matched {
                pass_criteria.all_required_matched = all;
            }
            if let Some(min) = given.min_confidence {
                if !(0.0..=1.0).contains(&min) {
                    return Err(invalid(
                        "pass_criteria.min_confidence".into(),
                        "a number from 0 to 1",
                    ));
                }
                pass_criteria.min_confidence = Some(min);
            }
            if let Some(allow) = given.allow_review_on_expected {
                pass_criteria.allow_review_on_expected = allow;
            }
        }
        let mut checks = Vec::new();
        for (i, check) in self.checks.unwrap_or_default().into_iter().enumerate() {
            let at = |key: &str| format!("checks[{i}].{key}");
            let kind = check
                .kind
                .as_deref()
                .and_then(CheckKind::parse)
                .ok_or_else(|| {
                    invalid(
                        at("kind"),
                        "is required: \"same_value\" or \"amount_within\"",
                    )
                })?;
            let fields = check.fields.unwrap_or_default();
            if fields.len() < 2 || fields.len() > 10 {
                return Err(invalid(at("fields"), "must name 2 to 10 fields"));
            }
            for (j, field) in fields.iter().enumerate() {
                let known = field_ref(field).is_some_and(|r| {
                    document_type_configs
                        .iter()
                        .any(|s| s.document_type == r.document_type())
                });
                if !known {
                    return Err(invalid(
                        format!("checks[{i}].fields[{j}]"),
                        "must be \"<document_type>.<field>\" or \"<document_type>.row.<column>\" with a document type of this config",
                    ));
                }
            }
            let tolerance_pct = match (kind, check.tolerance_pct) {
                (CheckKind::AmountWithin, Some(t)) if t.is_finite() && t >= 0.0 => Some(t),
                (CheckKind::AmountWithin, _) => {
                    return Err(invalid(
                        at("tolerance_pct"),
                        "is required for amount_within: a percentage, 0 or more",
                    ))
                }
                (CheckKind::SameValue, None) => None,
                (CheckKind::SameValue, Some(_)) => {
                    return Err(invalid(
                        at("tolerance_pct"),
                        "is an option of amount_within only",
                    ))
                }
            };
            let on_fail = match check.on_fail.as_deref() {
                None | Some("review") => Verdict::Review,
                Some("failed") => Verdict::Failed,
                Some(_) => return Err(invalid(at("on_fail"), "must be \"review\" or \"failed\"")),
            };
            checks.push(CheckSpec {
                kind,
                fields,
                tolerance_pct,
                on_fail,
            });
        }
        if checks.len() > 50 {
            return Err(invalid("checks".into(), "at most 50 checks"));
        }
        Ok(PackageSpec {
            name,
            document_type_configs,
            pass_criteria,
            checks,
        })
    }
}

/// `POST /v1/matching/packages/runs`: `{package_config_id, input_documents: {"<type>":
/// [{document_id, extraction_row_id?, values}]}}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageRunBody {
    #[serde(default)]
    package_config_id: Option<String>,
    #[serde(default)]
    input_documents: Option<serde_json::Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputDocumentBody {
    #[serde(default)]
    document_id: Option<String>,
    /// Accepted for clients of the hosted API; refmatch keeps the values themselves.
    #[serde(default)]
    #[allow(dead_code)]
    extraction_row_id: Option<Value>,
    #[serde(default)]
    values: Option<serde_json::Map<String, Value>>,
}

impl PackageRunBody {
    pub fn into_request(self) -> Result<PackageRunRequest> {
        let package_config_id = self
            .package_config_id
            .filter(|id| !id.is_empty())
            .ok_or_else(|| Error::invalid("body", "package_config_id", "is required"))?;
        let given = self.input_documents.ok_or_else(|| {
            Error::invalid(
                "body",
                "input_documents",
                "is required: {\"<document_type>\": [{document_id, values}]}",
            )
        })?;
        let mut input_documents = Vec::with_capacity(given.len());
        let mut total = 0;
        for (document_type, list) in given {
            let Value::Array(list) = list else {
                return Err(Error::invalid(
                    "body",
                    format!("input_documents.{document_type}"),
                    "must be an array of {document_id, values}",
                ));
            };
            let mut documents = Vec::with_capacity(list.len());
            for (i, item) in list.into_iter().enumerate() {
                let at = |key: &str| format!("input_documents.{document_type}[{i}]{key}");
                let item: InputDocumentBody =
                    serde_path_to_error::deserialize(item).map_err(|e| {
                        let path = e.path().to_string();
                        let key = if path == "." {
                            String::new()
                        } else {
                            format!(".{path}")
                        };
                        Error::invalid("body", at(&key), e.into_inner().to_string())
                    })?;
                let document_id = item
                    .document_id
                    .filter(|id| !id.is_empty() && id.len() <= 200)
                    .ok_or_else(|| {
                        Error::invalid(
                            "body",
                            at(".document_id"),
                            "is required: 1 to 200 characters",
                        )
                    })?;
                let values = item.values.unwrap_or_default();
                if values.len() > 256 {
                    return Err(Error::invalid("body", at(".values"), "at most 256 values"));
                }
                if let Some((key, _)) = values
                    .iter()
                    .find(|(_, v)| !matches!(v, Value::String(_) | Value::Number(_) | Value::Null))
                {
                    return Err(Error::invalid(
                        "body",
                        at(&format!(".values.{key}")),
                        "must be a string, number or null",
                    ));
                }
                documents.push(InputDocument {
                    document_id,
                    values,
                });
            }
            total += documents.len();
            input_documents.push((document_type, documents));
        }
        if total > MAX_PACKAGE_DOCUMENTS {
            return Err(Error::invalid(
                "body",
                "input_documents",
                format!("has {total} documents; at most {MAX_PACKAGE_DOCUMENTS} per package run"),
            ));
        }
        Ok(PackageRunRequest {
            package_config_id,
            input_documents,
        })
    }
}

/// `POST /v1/webhooks`: `{url, events, description?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    events: Option<Vec<String>>,
    #[serde(default)]
    description: Option<String>,
}

/// A webhook as asked for, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
}

impl WebhookBody {
    pub fn into_webhook(self) -> Result<NewWebhook> {
        let url = self
            .url
            .map(|u| u.trim().to_string())
            .ok_or_else(|| Error::invalid("body", "url", "is required: an http:// URL"))?;
        check_webhook_url(&url)?;
        let events = self.events.unwrap_or_default();
        if events.is_empty() {
            return Err(Error::invalid(
                "body",
                "events",
                format!("must name at least one of {}", EVENTS.join(", ")),
            ));
        }
        let mut unique: Vec<String> = Vec::with_capacity(events.len());
        for (i, event) in events.into_iter().enumerate() {
            if !EVENTS.contains(&event.as_str()) {
                return Err(Error::invalid(
                    "body",
                    format!("events[{i}]"),
                    format!("unknown event \"{event}\" ({})", EVENTS.join(", ")),
                ));
            }
            if !unique.contains(&event) {
                unique.push(event);
            }
        }
        if let Some(text) = &self.description {
            if text.len() > 1000 {
                return Err(Error::invalid("body", "description", "at most 1000 bytes"));
            }
        }
        Ok(NewWebhook {
            url,
            events: unique,
            description: self.description,
        })
    }
}

/// A receiver's URL: `http://host[:port]/path`, at most 2000 bytes. This build posts plain
/// HTTP only; put a TLS proxy in front of an https receiver.
fn check_webhook_url(url: &str) -> Result<()> {
    let invalid = |message: &str| Error::invalid("body", "url", message);
    if url.len() > 2000 {
        return Err(invalid("at most 2000 bytes"));
    }
    if url.starts_with("https://") {
        return Err(invalid(
            "https is not supported by this build: use an http:// URL (a TLS-terminating proxy can forward to an https receiver)",
        ));
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(invalid("must be an http:// URL"));
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty()
        || host.contains('@')
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(invalid(
            "must be an http:// URL with a host and no credentials or spaces",
        ));
    }
    url.parse::<ureq::http::Uri>()
        .map(|_| ())
        .map_err(|_| invalid("is not a valid URL"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_array_is_not_read_as_an_object_field_by_field() {
        let error = decode::<AiResolve>(b" [{\"low\": 0.1}]").expect_err("an array");
        assert_eq!(error.details()[0].field, "body");
        assert!(
            error.details()[0].message.contains("JSON object"),
            "{error}"
        );
    }

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
    fn a_review_tells_cleared_notes_from_untouched_ones_and_checks_its_row() {
        let cleared: ReviewBody = decode(br#"{"status": "approved", "notes": null}"#).unwrap();
        assert_eq!(cleared.into_review("k").unwrap().notes, Some(None));
        let untouched: ReviewBody = decode(br#"{"status": "pending"}"#).unwrap();
        assert_eq!(untouched.into_review("k").unwrap().notes, None);
        let other_row: ReviewBody =
            decode(br#"{"status": "rejected", "reference_row_id": "R1"}"#).unwrap();
        let Err(Error::Validation { details, .. }) = other_row.into_review("k") else {
            panic!("a row needs an approval");
        };
        assert_eq!(details[0].field, "reference_row_id");
    }

    #[test]
    fn a_bulk_review_takes_ids_or_a_filter_but_not_both() {
        let both: ReviewManyBody =
            decode(br#"{"result_ids": ["a"], "filter": {}, "status": "approved"}"#).unwrap();
        assert!(both.into_bulk("k").is_err());
        let filter: ReviewManyBody =
            decode(br#"{"filter": {"matched": true}, "status": "approved"}"#).unwrap();
        let bulk = filter.into_bulk("k").unwrap();
        assert!(matches!(
            bulk.selection,
            Selection::Filter(ResultFilter {
                matched: Some(true),
                ..
            })
        ));
        let Err(Error::Validation { details, .. }) =
            decode::<ReviewManyBody>(br#"{"filter": {"score": 1}, "status": "approved"}"#)
        else {
            panic!("an unknown filter must be refused");
        };
        assert_eq!(details[0].field, "filter.score");
    }

    #[test]
    fn a_trigger_names_who_and_which_documents() {
        let empty = TriggerRunBody::default().into_trigger().unwrap();
        assert_eq!((empty.target, empty.triggered_by), (None, Trigger::Api));
        let given: TriggerRunBody = decode(
            br#"{"target_type": "batch", "target_value": {"batch_id": "b1"}, "triggered_by": "manual"}"#,
        )
        .unwrap();
        let given = given.into_trigger().unwrap();
        assert_eq!(given.target, Some(Target::Batch("b1".into())));
        assert_eq!(given.triggered_by, Trigger::Manual);
        let cron: TriggerRunBody = decode(br#"{"triggered_by": "cron"}"#).unwrap();
        assert!(cron.into_trigger().is_err());
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
