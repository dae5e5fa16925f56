//! `/v1/matching/strategies`: generate a proposal, read it, merge-patch it.

use super::{require_json, require_merge_patch, Call};
use crate::error::Result;
use crate::http::body::{self, GenerateStrategyBody};
use crate::http::message::{Linked, Links, Response};
use crate::service;
use crate::store::strategies::StoredStrategy;

pub fn generate(call: &Call) -> Result<Response> {
    require_json(call.req)?;
    let request = body::decode::<GenerateStrategyBody>(&call.req.body)?.into_request()?;
    let created = service::generate_strategy(
        &call.ctx.store,
        call.ws()?,
        &request,
        call.ctx.runner.pool(),
    )?;
    Ok(Response::json(201, &linked(created)))
}

/// A strategy with its `links`.
fn linked(strategy: StoredStrategy) -> Linked<StoredStrategy> {
    let links = Links(vec![(
        "self",
        format!("/v1/matching/strategies/{}", strategy.id),
    )]);
    Linked {
        item: strategy,
        links,
    }
}

pub fn get(call: &Call) -> Result<Response> {
    let strategy = call.ctx.store.get_strategy(call.ws()?, call.id())?;
    Ok(Response::ok(&linked(strategy)))
}

/// A JSON merge patch of the strategy, as `application/merge-patch+json` or JSON.
pub fn patch(call: &Call) -> Result<Response> {
    require_merge_patch(call.req)?;
    let patched = service::patch_strategy(&call.ctx.store, call.ws()?, call.id(), &call.req.body)?;
    Ok(Response::ok(&linked(patched)))
}

#[cfg(test)]
mod tests {
    use crate::http::handlers::testing::Api;
    use crate::http::message::Method;

    #[test]
    fn a_strategy_is_generated_read_and_patched() {
        let api = Api::new();
        api.documents();
        let reference = api.reference();
        let created = api.post_json(
            "/v1/matching/strategies/generate",
            &format!(r#"{{"reference_data_id": "{reference}"}}"#),
        );
        assert_eq!(created.status, 201, "{}", created.body);
        let id = created.body["id"].as_str().unwrap_or("").to_string();
        let got = api.get(&format!("/v1/matching/strategies/{id}"));
        assert_eq!(got.status, 200);
        let patched = api.call(
            Method::Patch,
            &format!("/v1/matching/strategies/{id}"),
            "application/merge-patch+json",
            r#"{"threshold": 0.75}"#,
        );
        assert_eq!(patched.status, 200, "{}", patched.body);
        assert_eq!(patched.body["strategy"]["threshold"], 0.75);
    }

    #[test]
    fn generating_needs_a_table_and_patching_a_patch() {
        let api = Api::new();
        let missing = api.post_json("/v1/matching/strategies/generate", "{}");
        assert_eq!(
            (missing.status, missing.field()),
            (400, "reference_data_id")
        );
        let text = api.call(
            Method::Patch,
            "/v1/matching/strategies/x",
            "text/plain",
            "{}",
        );
        assert_eq!(text.status, 415);
        assert_eq!(api.get("/v1/matching/strategies/nope").status, 404);
    }
}
