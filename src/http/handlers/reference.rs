//! `/v1/reference-data` (alias `/v1/matching/reference-data`): list, upload (multipart,
//! CSV, JSON or XLSX), get, replace with a new version, delete, rows and CSV export.

use super::{csv_attachment, done, encoding, Call};
use crate::error::{Error, Result};
use crate::http::message::{
    cursor_list, page_list, Linked, Links, Request, Response, MAX_LIMIT, MAX_PAGE,
};
use crate::ingest::{self, multipart};
use crate::matcher::ReferenceTable;
use crate::service;
use crate::store::reference::StoredReference;

pub fn list(call: &Call) -> Result<Response> {
    let limit = call.req.list_limit()?;
    let page = call
        .ctx
        .store
        .list_references(call.ws()?, call.req.list_position(limit)?, limit)?;
    Ok(cursor_list(page.map(linked), limit))
}

pub fn create(call: &Call) -> Result<Response> {
    if let Some(preview) = preview(call)? {
        return Ok(preview);
    }
    let created = upload(call, None)?;
    Ok(Response::json(201, &linked(created)))
}

/// `?preview=true`: the table a body would make (name, source type, row count, columns
/// with their detected types, the first rows), read and checked exactly as an upload is,
/// and nothing stored. The review page shows it before a person saves the table.
fn preview(call: &Call) -> Result<Option<Response>> {
    match call.req.param_bool("preview")? {
        Some(true) => {}
        _ => return Ok(None),
    }
    let (name, source_type, table) = read(call.req)?;
    let types = ingest::body::column_types(&table);
    let columns: Vec<serde_json::Value> = table
        .columns
        .iter()
        .zip(types)
        .map(|(name, kind)| serde_json::json!({"name": name, "type": kind}))
        .collect();
    let rows: Vec<serde_json::Value> = (0..table.len().min(PREVIEW_ROWS))
        .map(|row| {
            let mut object = serde_json::Map::new();
            object.insert("id".into(), table.id(row).into());
            for (column, values) in table.columns.iter().zip(&table.values) {
                object
                    .entry(column.clone())
                    .or_insert_with(|| values.get(row).into());
            }
            serde_json::Value::Object(object)
        })
        .collect();
    Ok(Some(Response::ok(&serde_json::json!({
        "name": name,
        "source_type": source_type,
        "row_count": table.len(),
        "columns": columns,
        "rows": rows,
    }))))
}

/// Rows a preview shows.
const PREVIEW_ROWS: usize = 10;

pub fn get(call: &Call) -> Result<Response> {
    let table = call.ctx.store.get_reference(call.ws()?, call.id())?;
    Ok(Response::ok(&linked(table)))
}

pub fn replace(call: &Call) -> Result<Response> {
    let updated = upload(call, Some(call.id()))?;
    // Configs with `rematch_on_new_version` may have queued runs with the new version.
    call.ctx.runner.notify();
    Ok(Response::ok(&linked(updated)))
}

/// A table with its `links`.
fn linked(table: StoredReference) -> Linked<StoredReference> {
    let links = Links(vec![
        ("self", format!("/v1/reference-data/{}", table.id)),
        ("rows", format!("/v1/reference-data/{}/rows", table.id)),
    ]);
    Linked { item: table, links }
}

pub fn delete(call: &Call) -> Result<Response> {
    call.ctx.store.delete_reference(call.ws()?, call.id())?;
    Ok(done(call.id(), "deleted"))
}

pub fn rows(call: &Call) -> Result<Response> {
    let page = call.req.param_usize("page", 1, 1, MAX_PAGE)?;
    let limit = call.req.param_usize("limit", 100, 1, MAX_LIMIT)?;
    let (rows, total) = call
        .ctx
        .store
        .reference_rows(call.ws()?, call.id(), page, limit)?;
    Ok(page_list(rows, total, page, limit))
}

pub fn export(call: &Call) -> Result<Response> {
    let (stream, name) = call.ctx.store.export_reference(call.ws()?, call.id())?;
    Ok(Response::stream(200, "text/csv; charset=utf-8", stream)
        .with_header("Content-Disposition", csv_attachment(&name)))
}

/// Reads a reference table from a multipart file, a `text/csv` body or JSON, and stores it
/// as a new table or a new version of `replace`.
fn upload(call: &Call, replace: Option<&str>) -> Result<StoredReference> {
    let (name, source_type, table) = read(call.req)?;
    service::import_reference(
        &call.ctx.store,
        call.ws()?,
        replace,
        name.as_deref(),
        source_type,
        &table,
    )
}

/// A reference table from a multipart file, a `text/csv` body, JSON or an XLSX body, with
/// the name it gives and its source type.
fn read(req: &Request) -> Result<(Option<String>, &'static str, ReferenceTable)> {
    let media = req.media_type.as_deref().unwrap_or("");
    let (name, source_type, table) = match media {
        "multipart/form-data" => from_multipart(req)?,
        "text/csv" => {
            let table = ingest::reference_from_csv(
                "body",
                &req.body,
                encoding(req)?,
                req.param("id_column"),
                "id_column",
            )?;
            (req.param("name").map(String::from), "csv", table)
        }
        "application/json" => {
            let json = ingest::body::reference_from_json(&req.body)?;
            (json.name, "json", json.table)
        }
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
            let table = read_xlsx("body", &req.body, req.param("id_column"))?;
            (req.param("name").map(String::from), "xlsx", table)
        }
        "" => {
            return Err(Error::UnsupportedMediaType(
                "send reference data as multipart/form-data, text/csv or application/json".into(),
            ))
        }
        other => {
            return Err(Error::UnsupportedMediaType(format!(
                "reference data comes as multipart/form-data, text/csv or application/json, not {other}"
            )))
        }
    };
    Ok((name, source_type, table))
}

/// A multipart upload: the `file` part (CSV or XLSX) and the optional `name` and
/// `id_column` parts (or query parameters).
fn from_multipart(req: &Request) -> Result<(Option<String>, &'static str, ReferenceTable)> {
    let parts = multipart::parse(req.content_type.as_deref().unwrap_or(""), &req.body)?;
    let file = multipart::find(&parts, "file").ok_or_else(|| {
        Error::invalid(
            "body",
            "file",
            "a multipart upload needs a part named \"file\"",
        )
    })?;
    let filename = file.filename.clone().unwrap_or_else(|| "file".into());
    let lower = filename.to_ascii_lowercase();
    let xlsx = lower.ends_with(".xlsx")
        || file.content_type.as_deref()
            == Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    if lower.ends_with(".xls") {
        return Err(Error::UnsupportedMediaType(
            "legacy .xls workbooks are not read; save the sheet as .xlsx or CSV".into(),
        ));
    }
    let text_part = |name: &str| -> Result<Option<String>> {
        multipart::find(&parts, name)
            .map(|p| {
                std::str::from_utf8(p.data)
                    .map(|s| s.trim().to_string())
                    .map_err(|_| Error::invalid("body", name, "is not valid UTF-8"))
            })
            .transpose()
    };
    let id_column = text_part("id_column")?.or(req.param("id_column").map(String::from));
    let name = text_part("name")?.or(req.param("name").map(String::from));
    let id_column = id_column.as_deref().filter(|c| !c.is_empty());
    let (source_type, table) = if xlsx {
        ("xlsx", read_xlsx(&filename, file.data, id_column)?)
    } else {
        let table = ingest::reference_from_csv(
            &filename,
            file.data,
            encoding(req)?,
            id_column,
            "id_column",
        )?;
        ("csv", table)
    };
    Ok((name.or(Some(filename)), source_type, table))
}

/// An XLSX workbook's first sheet as a table.
fn read_xlsx(name: &str, bytes: &[u8], id_column: Option<&str>) -> Result<ReferenceTable> {
    ingest::xlsx::reference_from_xlsx(name, bytes, id_column, "id_column")
}

#[cfg(test)]
mod tests {
    use crate::http::handlers::testing::{Api, REFERENCE_CSV};
    use crate::http::message::Method;

    #[test]
    fn a_table_is_uploaded_listed_read_paged_exported_replaced_and_deleted() {
        let api = Api::new();
        let id = api.reference();
        let list = api.get("/v1/reference-data");
        assert_eq!(list.status, 200);
        assert_eq!(list.body["data"][0]["id"], id.as_str());
        let got = api.get(&format!("/v1/matching/reference-data/{id}"));
        assert_eq!((got.status, got.body["row_count"].as_i64()), (200, Some(3)));
        let rows = api.get(&format!("/v1/reference-data/{id}/rows?limit=2"));
        assert_eq!(rows.status, 200);
        assert_eq!(rows.body["pagination"]["total"], 3);
        assert_eq!(rows.body["data"].as_array().map(Vec::len), Some(2));
        let export = api.get(&format!("/v1/reference-data/{id}/export"));
        assert_eq!(export.status, 200);
        assert!(export.body.as_str().unwrap_or("").contains("INV-2002"));
        let replaced = api.call(
            Method::Put,
            &format!("/v1/reference-data/{id}"),
            "text/csv",
            REFERENCE_CSV,
        );
        assert_eq!(
            (replaced.status, replaced.body["version"].as_i64()),
            (200, Some(2))
        );
        let deleted = api.call(Method::Delete, &format!("/v1/reference-data/{id}"), "", "");
        assert_eq!(
            (deleted.status, deleted.body["deleted"].as_bool()),
            (200, Some(true))
        );
        assert_eq!(api.get(&format!("/v1/reference-data/{id}")).status, 404);
    }

    #[test]
    fn an_upload_needs_a_media_type_and_rows_a_limit_in_range() {
        let api = Api::new();
        let untyped = api.call(Method::Post, "/v1/reference-data", "", "id\nR1\n");
        assert_eq!(
            (untyped.status, untyped.code()),
            (415, "unsupported_media_type")
        );
        let id = api.reference();
        let rows = api.get(&format!("/v1/reference-data/{id}/rows?limit=501"));
        assert_eq!((rows.status, rows.field()), (400, "limit"));
        assert_eq!(api.get("/v1/reference-data/nope/export").status, 404);
    }
}
