//! `/v1/matching/configs`: list, create (from a body or a strategy), get, replace, delete,
//! and what a config starts: a run, a smart run, a real-time match.

use super::{done, require_json, require_json_if_any, require_merge_patch, Call};
use crate::error::{Error, Result};
use crate::http::body::{self, TriggerRunBody};
use crate::http::message::{cursor_list, Linked, Links, Response};
use crate::service::{self, TriggerRun};
use crate::store::configs::ConfigRow;

pub fn list(call: &Call) -> Result<Response> {
    let limit = call.req.list_limit()?;
    let page = call
        .ctx
        .store
        .list_configs(call.ws()?, call.req.list_position(limit)?, limit)?;
    Ok(cursor_list(page.map(linked), limit))
}

pub fn create(call: &Call) -> Result<Response> {
    require_json(call.req)?;
    let created = service::create_config(&call.ctx.store, call.ws()?, &call.req.body)?;
    Ok(Response::json(201, &linked(created)))
}

pub fn get(call: &Call) -> Result<Response> {
    let config = call.ctx.store.get_config_row(call.ws()?, call.id())?;
    Ok(Response::ok(&linked(config)))
}

/// `PUT`: the whole config; a config as `GET` answered it is taken back (its read-only
/// keys, `links` among them, unchanged).
pub fn replace(call: &Call) -> Result<Response> {
    require_json(call.req)?;
    let (ws, id) = (call.ws()?, call.id());
    let body = without_links(call, &call.req.body)?;
    let replaced = service::replace_config(&call.ctx.store, ws, id, &body)?;
    Ok(Response::ok(&linked(replaced)))
}

/// `PATCH`: a JSON merge patch of the config as `GET` shows it.
pub fn patch(call: &Call) -> Result<Response> {
    require_merge_patch(call.req)?;
    let (ws, id) = (call.ws()?, call.id());
    let body = without_links(call, &call.req.body)?;
    let patched = service::patch_config(&call.ctx.store, ws, id, &body)?;
    Ok(Response::ok(&linked(patched)))
}

/// The body without a `links` object equal to the config's own (what `GET` answered);
/// other `links` are refused, as any change to a read-only key is.
fn without_links(call: &Call, bytes: &[u8]) -> Result<Vec<u8>> {
    let Ok(serde_json::Value::Object(mut body)) = serde_json::from_slice(bytes) else {
        // Not an object: the use-case names what is wrong with it.
        return Ok(bytes.to_vec());
    };
    let Some(given) = body.remove("links") else {
        return Ok(bytes.to_vec());
    };
    let current = call.ctx.store.get_config_row(call.ws()?, call.id())?;
    let links = serde_json::to_value(&linked(current).links).unwrap_or_default();
    if given != links && !given.is_null() {
        return Err(Error::invalid(
            "body",
            "links",
            "is read-only; leave it out or send it as GET answered it",
        ));
    }
    Ok(serde_json::Value::Object(body).to_string().into_bytes())
}

/// A config with its `links`. `runs` is the URL that starts a run, as the hosted APIs
/// define it (issue 17); the list of the config's runs is `runs_list`.
fn linked(config: ConfigRow) -> Linked<ConfigRow> {
    let links = Links(vec![
        ("self", format!("/v1/matching/configs/{}", config.id)),
        ("runs", format!("/v1/matching/configs/{}/run", config.id)),
        (
            "runs_list",
            format!("/v1/matching/runs?config_id={}", config.id),
        ),
        (
            "reference_data",
            format!("/v1/reference-data/{}", config.reference_data_id),
        ),
    ]);
    Linked {
        item: config,
        links,
    }
}

pub fn delete(call: &Call) -> Result<Response> {
    call.ctx.store.delete_config(call.ws()?, call.id())?;
    Ok(done(call.id(), "deleted"))
}

/// `POST /v1/matching/configs/:id/run`: queues a run, 202.
pub fn run(call: &Call) -> Result<Response> {
    let request = trigger(call)?;
    let run = service::trigger_run(&call.ctx.store, call.ws()?, call.id(), &request)?;
    call.ctx.runner.notify();
    Ok(Response::json(202, &super::runs::linked(run)))
}

/// `POST /v1/matching/configs/:id/smart-run`: a run that resolves its band when it
/// completes, 202.
pub fn smart_run(call: &Call) -> Result<Response> {
    let request = trigger(call)?;
    let ws = call.ws()?;
    let store = &call.ctx.store;
    let run = service::trigger_run(store, ws, call.id(), &request)?;
    store.set_auto_resolve(ws, &run.id)?;
    call.ctx.runner.notify();
    Ok(Response::json(202, &super::runs::linked(run)))
}

/// The optional body of a run: checked after the config is known to exist, as before the
/// body was typed, so an unknown config answers 404 whatever the body says.
fn trigger(call: &Call) -> Result<TriggerRun> {
    require_json_if_any(call.req)?;
    call.ctx.store.get_config(call.ws()?, call.id())?;
    body::optional::<TriggerRunBody>(call.req)?.into_trigger()
}

/// `POST /v1/matching/configs/:id/match`: real-time matching, nothing stored.
pub fn match_inline(call: &Call) -> Result<Response> {
    require_json(call.req)?;
    let answer = service::match_inline(
        &call.ctx.store,
        call.ctx.runner.engine(),
        call.ws()?,
        call.id(),
        &call.req.body,
    )?;
    Ok(Response::ok(&answer))
}

#[cfg(test)]
mod tests {
    use crate::http::handlers::testing::{Api, CONFIG};
    use crate::http::message::Method;

    #[test]
    fn a_config_is_created_listed_read_replaced_and_deleted() {
        let api = Api::new();
        let id = api.config();
        let list = api.get("/v1/matching/configs");
        assert_eq!(
            (list.status, &list.body["data"][0]["id"]),
            (200, &id.as_str().into())
        );
        let got = api.get(&format!("/v1/matching/configs/{id}"));
        assert_eq!(got.status, 200);
        assert_eq!(got.body["threshold"], 0.8);
        let replacement = format!("{}}}", CONFIG.replace("0.8", "0.7"));
        let replaced = api.call(
            Method::Put,
            &format!("/v1/matching/configs/{id}"),
            "application/json",
            &replacement,
        );
        assert_eq!(
            (replaced.status, &replaced.body["threshold"]),
            (200, &0.7.into())
        );
        let deleted = api.call(
            Method::Delete,
            &format!("/v1/matching/configs/{id}"),
            "",
            "",
        );
        assert_eq!(deleted.status, 200);
        assert_eq!(api.get(&format!("/v1/matching/configs/{id}")).status, 404);
    }

    #[test]
    fn a_config_names_its_bad_field_and_needs_json() {
        let api = Api::new();
        let reference = api.reference();
        let unbalanced = CONFIG.replace("\"weight\": 0.5}", "\"weight\": 0.4}");
        let body = format!("{unbalanced}, \"reference_data_id\": \"{reference}\"}}");
        let reply = api.post_json("/v1/matching/configs", &body);
        assert_eq!((reply.status, reply.code()), (400, "validation_error"));
        let unknown_table = format!("{CONFIG}, \"reference_data_id\": \"nope\"}}");
        let reply = api.post_json("/v1/matching/configs", &unknown_table);
        assert_eq!((reply.status, reply.field()), (400, "reference_data_id"));
        let text = api.call(Method::Post, "/v1/matching/configs", "text/plain", "{}");
        assert_eq!(text.status, 415);
    }

    #[test]
    fn runs_and_smart_runs_are_queued_and_a_bad_trigger_is_named() {
        let api = Api::new();
        let id = api.config();
        let run = api.call(
            Method::Post,
            &format!("/v1/matching/configs/{id}/run"),
            "",
            "",
        );
        assert_eq!((run.status, &run.body["status"]), (202, &"queued".into()));
        let smart = api.post_json(
            &format!("/v1/matching/configs/{id}/smart-run"),
            r#"{"triggered_by": "manual"}"#,
        );
        assert_eq!(smart.status, 202, "{}", smart.body);
        let bad = api.post_json(
            &format!("/v1/matching/configs/{id}/run"),
            r#"{"triggered_by": "cron"}"#,
        );
        assert_eq!((bad.status, bad.field()), (400, "triggered_by"));
        let text = api.call(
            Method::Post,
            &format!("/v1/matching/configs/{id}/run"),
            "text/plain",
            "{}",
        );
        assert_eq!(text.status, 415);
        let missing = api.call(Method::Post, "/v1/matching/configs/nope/run", "", "");
        assert_eq!(missing.status, 404);
    }

    #[test]
    fn a_real_time_match_answers_each_document_and_caps_their_number() {
        let api = Api::new();
        let id = api.config();
        let reply = api.post_json(
            &format!("/v1/matching/configs/{id}/match"),
            r#"{"documents": [{"fields": {"vendor_name": "Acme Corp", "invoice_number": "INV-2002"}}]}"#,
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body["results"][0]["matched_reference_row_id"], "R2");
        let many: Vec<String> = (0..101)
            .map(|i| format!(r#"{{"fields": {{"vendor_name": "v{i}"}}}}"#))
            .collect();
        let too_many = api.post_json(
            &format!("/v1/matching/configs/{id}/match"),
            &format!(r#"{{"documents": [{}]}}"#, many.join(",")),
        );
        assert_eq!((too_many.status, too_many.field()), (400, "documents"));
    }
}
