//! `/v1/keys`: the workspace's keys (never a secret) and revoking one.

use super::{done, Call};
use crate::error::Result;
use crate::http::message::{cursor_list, Linked, Links, Response};
use crate::store::keys::KeyRow;

pub fn list(call: &Call) -> Result<Response> {
    let limit = call.req.list_limit()?;
    let page = call
        .ctx
        .store
        .list_keys(call.ws()?, call.req.list_position(limit)?, limit)?;
    Ok(cursor_list(page.map(linked), limit))
}

/// A key with its `links`.
fn linked(key: KeyRow) -> Linked<KeyRow> {
    let links = Links(vec![("self", format!("/v1/keys/{}", key.id))]);
    Linked { item: key, links }
}

pub fn revoke(call: &Call) -> Result<Response> {
    call.ctx.store.revoke_key(call.ws()?, call.id())?;
    Ok(done(call.id(), "revoked"))
}

#[cfg(test)]
mod tests {
    use crate::http::handlers::testing::Api;
    use crate::http::message::Method;

    #[test]
    fn keys_are_listed_without_secrets_and_revoked() {
        let api = Api::new();
        let list = api.get("/v1/keys");
        assert_eq!(list.status, 200);
        let key = &list.body["data"][0];
        assert!(
            key.get("secret").is_none() && key.get("key_hash").is_none(),
            "{key}"
        );
        let id = key["id"].as_str().unwrap_or("").to_string();
        let missing = api.call(Method::Delete, "/v1/keys/nope", "", "");
        assert_eq!(missing.status, 404);
        let revoked = api.call(Method::Delete, &format!("/v1/keys/{id}"), "", "");
        assert_eq!(
            (revoked.status, &revoked.body["revoked"]),
            (200, &true.into())
        );
        assert_eq!(api.get("/v1/keys").status, 401);
    }
}
