//! `/v1/documents`: list (by batch), import (JSON, JSON Lines or CSV), get, delete.

use super::{done, encoding, Call};
use crate::error::{Error, Result};
use crate::http::message::{cursor_list, Linked, Links, Request, Response};
use crate::ingest::body::{self, NewDocument};
use crate::service;
use crate::store::documents::StoredDocument;

pub fn list(call: &Call) -> Result<Response> {
    let req = call.req;
    let limit = req.list_limit()?;
    let page = call.ctx.store.list_documents(
        call.ws()?,
        req.id_param("batch_id").as_deref(),
        req.list_position(limit)?,
        limit,
    )?;
    Ok(cursor_list(page.map(linked), limit))
}

pub fn create(call: &Call) -> Result<Response> {
    let (source_type, documents) = read(call.req)?;
    let created = service::import_documents(&call.ctx.store, call.ws()?, source_type, &documents)?;
    let links = Links(vec![(
        "documents",
        format!("/v1/documents?batch_id={}", created.batch_id),
    )]);
    Ok(Response::json(
        201,
        &Linked {
            item: created,
            links,
        },
    ))
}

pub fn get(call: &Call) -> Result<Response> {
    let document = call.ctx.store.get_document(call.ws()?, call.id())?;
    Ok(Response::ok(&linked(document)))
}

/// A document with its `links`.
fn linked(document: StoredDocument) -> Linked<StoredDocument> {
    let links = Links(vec![("self", format!("/v1/documents/{}", document.id))]);
    Linked {
        item: document,
        links,
    }
}

pub fn delete(call: &Call) -> Result<Response> {
    call.ctx.store.delete_document(call.ws()?, call.id())?;
    Ok(done(call.id(), "deleted"))
}

/// Documents from JSON, JSON Lines or CSV, with their source type.
fn read(req: &Request) -> Result<(&'static str, Vec<NewDocument>)> {
    match req.media_type.as_deref().unwrap_or("") {
        "application/json" => Ok(("json", body::documents_from_json(&req.body)?)),
        "application/x-ndjson"
        | "application/jsonl"
        | "application/x-jsonlines"
        | "application/jsonlines" => Ok(("jsonl", body::documents_from_jsonl(&req.body)?)),
        "text/csv" => Ok((
            "csv",
            body::documents_from_csv_body(
                "body",
                &req.body,
                encoding(req)?,
                req.param("id_column"),
                req.param("filename_column"),
            )?,
        )),
        other => Err(Error::UnsupportedMediaType(format!(
            "documents come as application/json, application/x-ndjson or text/csv{}",
            if other.is_empty() {
                String::new()
            } else {
                format!(", not {other}")
            }
        ))),
    }
}

#[cfg(test)]
mod tests {
    use crate::http::handlers::testing::Api;
    use crate::http::message::Method;

    #[test]
    fn documents_are_imported_listed_read_and_deleted() {
        let api = Api::new();
        let created = api.post_json(
            "/v1/documents",
            r#"{"id": "D-1", "filename": "a.pdf", "fields": {"vendor_name": "Acme"}}"#,
        );
        assert_eq!(created.status, 201, "{}", created.body);
        assert!(created.body["batch_id"].is_string());
        let list = api.get("/v1/documents");
        assert_eq!(list.status, 200);
        let id = list.body["data"][0]["id"]
            .as_str()
            .unwrap_or("")
            .to_string();
        assert_eq!(list.body["data"][0]["external_id"], "D-1");
        let got = api.get(&format!("/v1/documents/{id}"));
        assert_eq!(
            (got.status, &got.body["fields"]["vendor_name"]),
            (200, &"Acme".into())
        );
        let deleted = api.call(Method::Delete, &format!("/v1/documents/{id}"), "", "");
        assert_eq!(deleted.status, 200);
        assert_eq!(api.get(&format!("/v1/documents/{id}")).status, 404);
    }

    #[test]
    fn a_repeated_id_conflicts_and_an_unknown_media_type_is_refused() {
        let api = Api::new();
        let body = r#"{"id": "D-1", "fields": {"vendor_name": "Acme"}}"#;
        assert_eq!(api.post_json("/v1/documents", body).status, 201);
        let again = api.post_json("/v1/documents", body);
        assert_eq!((again.status, again.code()), (409, "conflict"));
        let xml = api.call(Method::Post, "/v1/documents", "application/xml", "<a/>");
        assert_eq!(xml.status, 415);
        let empty = api.post_json("/v1/documents", r#"{"documents": []}"#);
        assert_eq!(empty.status, 400);
    }
}
