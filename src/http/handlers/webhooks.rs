//! `/v1/webhooks`: list, create (the secret answered once), get, delete, and a webhook's
//! deliveries with their attempts, and redelivery. Posting is `webhook::Sender`'s job.

use super::{done, require_json, Call};
use crate::error::Result;
use crate::http::body::{self, WebhookBody};
use crate::http::message::{cursor_list, Linked, Links, Response};
use crate::store::webhooks::StoredWebhook;

fn linked(webhook: StoredWebhook) -> Linked<StoredWebhook> {
    let links = Links(vec![
        ("self", format!("/v1/webhooks/{}", webhook.id)),
        (
            "deliveries",
            format!("/v1/webhooks/{}/deliveries", webhook.id),
        ),
    ]);
    Linked {
        item: webhook,
        links,
    }
}

pub fn list(call: &Call) -> Result<Response> {
    let limit = call.req.list_limit()?;
    let page = call
        .ctx
        .store
        .list_webhooks(call.ws()?, call.req.list_position(limit)?, limit)?;
    Ok(cursor_list(page.map(linked), limit))
}

/// 201 with the webhook and its `secret`, which no later answer shows.
pub fn create(call: &Call) -> Result<Response> {
    require_json(call.req)?;
    let asked = body::decode::<WebhookBody>(&call.req.body)?.into_webhook()?;
    let (webhook, secret) = call.ctx.store.insert_webhook(
        call.ws()?,
        &asked.url,
        &asked.events,
        asked.description.as_deref(),
    )?;
    let mut answer = match serde_json::to_value(linked(webhook)) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => {
            return Err(crate::error::Error::Internal(
                "cannot encode a webhook".into(),
            ))
        }
    };
    answer.insert("secret".into(), secret.into());
    Ok(Response::json(201, &answer))
}

pub fn get(call: &Call) -> Result<Response> {
    let webhook = call.ctx.store.get_webhook(call.ws()?, call.id())?;
    Ok(Response::ok(&linked(webhook)))
}

/// Deletes the webhook, its secret and its deliveries; undelivered ones are not posted.
pub fn delete(call: &Call) -> Result<Response> {
    call.ctx.store.delete_webhook(call.ws()?, call.id())?;
    Ok(done(call.id(), "deleted"))
}

/// The webhook's deliveries, newest first, each with every attempt.
pub fn deliveries(call: &Call) -> Result<Response> {
    let limit = call.req.list_limit()?;
    let page = call.ctx.store.list_deliveries(
        call.ws()?,
        call.id(),
        call.req.list_position(limit)?,
        limit,
    )?;
    Ok(cursor_list(page, limit))
}

/// Makes a delivery due now, with its id and body unchanged; 202.
pub fn redeliver(call: &Call) -> Result<Response> {
    let delivery = call
        .ctx
        .store
        .redeliver(call.ws()?, call.id(), call.nth_id(1))?;
    crate::webhook::wake();
    Ok(Response::json(202, &delivery))
}

#[cfg(test)]
mod tests {
    use crate::http::handlers::testing::Api;
    use crate::http::message::Method;

    #[test]
    fn a_webhook_shows_its_secret_once_and_names_a_bad_field() {
        let api = Api::new();
        let created = api.post_json(
            "/v1/webhooks",
            r#"{"url": "http://127.0.0.1:9/hook", "events": ["run.completed", "run.completed"]}"#,
        );
        assert_eq!(created.status, 201, "{}", created.body);
        let secret = created.body["secret"].as_str().unwrap_or("");
        assert!(
            secret.starts_with("whsec_") && secret.len() == 54,
            "{secret}"
        );
        assert_eq!(created.body["events"], serde_json::json!(["run.completed"]));
        let id = created.body["id"].as_str().unwrap_or("");
        let got = api.get(&format!("/v1/webhooks/{id}"));
        assert_eq!(got.status, 200);
        assert!(got.body.get("secret").is_none(), "{}", got.body);
        assert!(!got.body.to_string().contains(secret));
        let listed = api.get("/v1/webhooks");
        assert!(!listed.body.to_string().contains(secret));
        for (body, field) in [
            (r#"{"events": ["run.completed"]}"#, "url"),
            (
                r#"{"url": "https://example.com/h", "events": ["run.completed"]}"#,
                "url",
            ),
            (
                r#"{"url": "ftp://example.com/h", "events": ["run.completed"]}"#,
                "url",
            ),
            (r#"{"url": "http://example.com/h", "events": []}"#, "events"),
            (
                r#"{"url": "http://example.com/h", "events": ["run.started"]}"#,
                "events[0]",
            ),
            (
                r#"{"url": "http://example.com/h", "events": ["run.failed"], "secret": "x"}"#,
                "secret",
            ),
        ] {
            let reply = api.post_json("/v1/webhooks", body);
            assert_eq!((reply.status, reply.field()), (400, field), "{body}");
        }
        assert_eq!(api.get("/v1/webhooks").body["pagination"]["total"], 1);
    }

    #[test]
    fn a_run_s_end_writes_one_delivery_per_subscribed_webhook() {
        let api = Api::new();
        let hook = |events: &str| {
            let reply = api.post_json(
                "/v1/webhooks",
                &format!(r#"{{"url": "http://127.0.0.1:9/h", "events": {events}}}"#),
            );
            reply.body["id"].as_str().unwrap_or("").to_string()
        };
        let completed = hook(r#"["run.completed"]"#);
        let failed = hook(r#"["run.failed", "run.cancelled"]"#);
        let run = api.completed_run();
        let deliveries = api.get(&format!("/v1/webhooks/{completed}/deliveries"));
        assert_eq!(
            deliveries.body["pagination"]["total"], 1,
            "{}",
            deliveries.body
        );
        let delivery = &deliveries.body["data"][0];
        assert_eq!(delivery["event"], "run.completed");
        assert_eq!(delivery["status"], "pending");
        assert_eq!(delivery["payload"]["data"]["id"], run.as_str());
        assert_eq!(delivery["payload"]["id"], delivery["id"]);
        let none = api.get(&format!("/v1/webhooks/{failed}/deliveries"));
        assert_eq!(none.body["pagination"]["total"], 0);
        let id = delivery["id"].as_str().unwrap_or("");
        let again = api.call(
            Method::Post,
            &format!("/v1/webhooks/{completed}/deliveries/{id}/redeliver"),
            "",
            "",
        );
        assert_eq!(
            (again.status, &again.body["status"]),
            (202, &"pending".into())
        );
        let deleted = api.call(Method::Delete, &format!("/v1/webhooks/{completed}"), "", "");
        assert_eq!(deleted.status, 200);
        assert_eq!(
            api.get(&format!("/v1/webhooks/{completed}/deliveries"))
                .status,
            404
        );
    }
}
