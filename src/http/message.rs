//! Plain request and response values. Handlers take a `Request` and return a `Response`, so
//! they are tested without sockets; only `http::server` converts to and from tiny_http.

use serde_json::{json, Value};

pub use crate::error::loggable;
use crate::error::{Error, Result};
pub use crate::store::canonical_id;
use crate::store::now_iso;

/// Largest `limit` a list accepts (docs/CONTRACT.md).
/// The last `?page=` a list takes (a page past the end is an empty page): small enough to
/// say in an error message, far beyond any list (a billion pages of 500).
pub const MAX_PAGE: usize = 1_000_000_000;

pub const MAX_LIMIT: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
    Other,
}

impl Method {
    pub fn parse(text: &str) -> Method {
        match text {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "HEAD" => Method::Head,
            "OPTIONS" => Method::Options,
            _ => Method::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
            Method::Other => "OTHER",
        }
    }

    /// Whether the method changes state and so needs the `write` scope.
    pub fn writes(self) -> bool {
        !matches!(self, Method::Get | Method::Head | Method::Options)
    }
}

#[derive(Clone, Debug)]
pub struct Request {
    pub method: Method,
    /// The path without the query string, percent-decoded per segment by the router.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// The media type of Content-Type, lowercased, without parameters.
    pub media_type: Option<String>,
    /// The whole Content-Type value (multipart needs its boundary).
    pub content_type: Option<String>,
    pub authorization: Option<String>,
    pub body: Vec<u8>,
    pub request_id: String,
    /// Headers that decide how to answer rather than what.
    pub negotiation: Negotiation,
}

/// The request headers about the exchange itself: CORS and content codings.
#[derive(Clone, Debug, Default)]
pub struct Negotiation {
    /// `Origin`: the page a browser app runs on.
    pub origin: Option<String>,
    /// `Access-Control-Request-Method` of a preflight.
    pub cors_method: Option<String>,
    /// `Accept-Encoding`, all its lines joined.
    pub accept_encoding: Option<String>,
    /// `Content-Encoding` of the body.
    pub content_encoding: Option<String>,
}

impl Request {
    pub fn new(method: Method, target: &str) -> Request {
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, parse_query(query)),
            None => (target, Vec::new()),
        };
        Request {
            method,
            path: path.to_string(),
            query,
            media_type: None,
            content_type: None,
            authorization: None,
            body: Vec::new(),
            negotiation: Negotiation::default(),
            request_id: format!("req_{}", crate::store::new_id().replace('-', "")),
        }
    }

    pub fn with_content_type(mut self, value: &str) -> Request {
        self.set_content_type(value);
        self
    }

    pub fn set_content_type(&mut self, value: &str) {
        self.media_type = value
            .split(';')
            .next()
            .map(|m| m.trim().to_ascii_lowercase())
            .filter(|m| !m.is_empty());
        self.content_type = Some(value.to_string());
    }

    /// The last value of a query parameter; an empty value counts as absent.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A query parameter that holds a generated id (`config_id`, `batch_id`): a UUID in any
    /// case.
    pub fn id_param(&self, name: &str) -> Option<String> {
        self.param(name).map(|v| canonical_id(v).into_owned())
    }

    pub fn param_usize(&self, name: &str, default: usize, min: usize, max: usize) -> Result<usize> {
        match self.param(name) {
            None => Ok(default),
            Some(text) => match text.parse::<usize>() {
                Ok(n) if n >= min && n <= max => Ok(n),
                _ => Err(Error::invalid(
                    "query",
                    name,
                    format!("must be an integer from {min} to {max}, got \"{text}\""),
                )),
            },
        }
    }

    pub fn param_f64(&self, name: &str) -> Result<Option<f64>> {
        self.param(name)
            .map(|text| {
                text.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| {
                        Error::invalid("query", name, format!("must be a number, got \"{text}\""))
                    })
            })
            .transpose()
    }

    pub fn param_bool(&self, name: &str) -> Result<Option<bool>> {
        match self.param(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(text) => Err(Error::invalid(
                "query",
                name,
                format!("must be true or false, got \"{text}\""),
            )),
        }
    }

    /// `?limit=` of a cursor list: default 20, at most 500.
    pub fn list_limit(&self) -> Result<usize> {
        self.param_usize("limit", 20, 1, MAX_LIMIT)
    }

    /// Where a cursor list starts: `?cursor=` (ours) or `?page=` (1-based, as clients of
    /// the hosted APIs page; issue 17), not both.
    pub fn list_position(&self, limit: usize) -> Result<crate::store::Position<'_>> {
        use crate::store::Position;
        match (self.param("cursor"), self.param("page")) {
            (Some(_), Some(_)) => Err(Error::invalid(
                "query",
                "page",
                "give cursor or page, not both",
            )),
            (Some(cursor), None) => Ok(Position::Cursor(cursor)),
            (None, Some(_)) => Ok(Position::Page {
                page: self.param_usize("page", 1, 1, MAX_PAGE)?,
                limit,
            }),
            (None, None) => Ok(Position::First),
        }
    }

    /// The body as a JSON value; a body that is not JSON is a validation error.
    pub fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.body).map_err(|e| Error::json("body", ".", &e))
    }
}

/// `a=1&b=x%20y` into pairs (`application/x-www-form-urlencoded`, as `form_urlencoded`
/// reads it): `+` is a space, bad escapes are kept as written, invalid UTF-8 is replaced.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Decodes `%XX` escapes (and `+` as a space in queries); invalid UTF-8 is replaced.
pub fn percent_decode(text: &str, plus_is_space: bool) -> String {
    if plus_is_space {
        let spaced = text.replace('+', " ");
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8_lossy()
            .into_owned()
    } else {
        percent_encoding::percent_decode_str(text)
            .decode_utf8_lossy()
            .into_owned()
    }
}

pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// A body produced while it is sent (a large export); `body` is empty then.
    pub stream: Option<Box<dyn std::io::Read + Send>>,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("body_len", &self.body.len())
            .field("streamed", &self.stream.is_some())
            .finish()
    }
}

impl Response {
    /// The value of header `name` (any case), when the response has it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(status: u16, value: &impl serde::Serialize) -> Response {
        Response::bytes(
            status,
            "application/json",
            serde_json::to_vec(value).unwrap_or_default(),
        )
    }

    pub fn bytes(status: u16, content_type: &'static str, body: Vec<u8>) -> Response {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body,
            stream: None,
        }
    }

    pub fn stream(
        status: u16,
        content_type: &'static str,
        body: Box<dyn std::io::Read + Send>,
    ) -> Response {
        Response {
            stream: Some(body),
            ..Response::bytes(status, content_type, Vec::new())
        }
    }

    pub fn ok(value: &impl serde::Serialize) -> Response {
        Response::json(200, value)
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// the error envelope of docs/CONTRACT.md for `error`.
    pub fn error(error: &Error, request: &Request) -> Response {
        let http = error.http();
        let details: Vec<Value> = error
            .details()
            .iter()
            .map(|d| {
                // A detail always names a field: the whole input when no key is at fault.
                let field = match (d.field.as_str(), error) {
                    ("", Error::Validation { origin, .. }) => origin.as_str(),
                    (field, _) => field,
                };
                json!({"field": field, "message": d.message})
            })
            .collect();
        let body = json!({
            "statusCode": http.status,
            "code": http.code,
            "error": http.reason,
            "message": error.public_message(),
            "retryable": http.retryable,
            "request_id": request.request_id,
            "timestamp": now_iso(),
            "path": request.path,
            "details": details,
        });
        let mut response = Response::json(http.status, &body);
        if let Error::MethodNotAllowed { allowed } = error {
            response = response.with_header("Allow", allowed.as_str());
        }
        if http.status == 401 {
            response = response.with_header("WWW-Authenticate", "Bearer");
        }
        if http.status == 503 {
            response = response.with_header("Retry-After", "1");
        }
        response
    }
}

/// The links a client follows from a resource, in the order given: `{"self": ..., ...}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Links(pub Vec<(&'static str, String)>);

impl serde::Serialize for Links {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, url) in &self.0 {
            map.serialize_entry(name, url)?;
        }
        map.end()
    }
}

/// A resource as the API answers it: the stored item's fields, then its `links`.
#[derive(Debug, serde::Serialize)]
pub struct Linked<T: serde::Serialize> {
    #[serde(flatten)]
    pub item: T,
    pub links: Links,
}

/// `{"data": [...], "pagination": {total, limit, has_more, next_cursor}}`.
pub fn cursor_list(
    page: crate::store::CursorPage<impl serde::Serialize>,
    limit: usize,
) -> Response {
    Response::ok(&json!({
        "data": page.items,
        "pagination": {
            "total": page.total,
            "limit": limit,
            "has_more": page.next_cursor.is_some(),
            "next_cursor": page.next_cursor,
        }
    }))
}

/// `{"data": [...], "pagination": {total, page, limit}}`.
pub fn page_list(
    data: Vec<impl serde::Serialize>,
    total: i64,
    page: usize,
    limit: usize,
) -> Response {
    Response::ok(&json!({
        "data": data,
        "pagination": { "total": total, "page": page, "limit": limit }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_escapes_and_plus() {
        let q = parse_query("a=1&b=x%20y+z&c&d=%zz&e=%4");
        assert_eq!(q[0], ("a".into(), "1".into()));
        assert_eq!(q[1], ("b".into(), "x y z".into()));
        assert_eq!(q[2], ("c".into(), "".into()));
        assert_eq!(q[3], ("d".into(), "%zz".into()));
        assert_eq!(q[4], ("e".into(), "%4".into()));
    }

    #[test]
    fn limits_outside_the_range_are_named() {
        let req = Request::new(Method::Get, "/v1/x?limit=501");
        let err = req.list_limit().unwrap_err();
        assert_eq!(err.details()[0].field, "limit");
        assert_eq!(Request::new(Method::Get, "/v1/x").list_limit().unwrap(), 20);
    }

    #[test]
    fn error_envelope_has_every_key() {
        let req = Request::new(Method::Get, "/v1/matching/runs/x");
        let res = Response::error(
            &Error::NotFound {
                what: "run",
                id: "x".into(),
            },
            &req,
        );
        let body: Value = serde_json::from_slice(&res.body).unwrap();
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "statusCode",
                "code",
                "error",
                "message",
                "retryable",
                "request_id",
                "timestamp",
                "path",
                "details"
            ]
        );
        assert_eq!(body["statusCode"], 404);
        assert_eq!(body["code"], "not_found");
        assert_eq!(res.status, 404);
    }

    #[test]
    fn a_linked_resource_keeps_its_fields_then_its_links_in_order() {
        #[derive(serde::Serialize)]
        struct Item {
            id: &'static str,
            name: Option<&'static str>,
        }
        let linked = Linked {
            item: Item {
                id: "a",
                name: None,
            },
            links: Links(vec![
                ("self", "/v1/x/a".into()),
                ("rows", "/v1/x/a/rows".into()),
            ]),
        };
        assert_eq!(
            serde_json::to_string(&linked).unwrap(),
            r#"{"id":"a","name":null,"links":{"self":"/v1/x/a","rows":"/v1/x/a/rows"}}"#
        );
    }

    #[test]
    fn internal_errors_do_not_leak() {
        let req = Request::new(Method::Get, "/v1/x");
        let cause = r2d2_sqlite::rusqlite::Error::InvalidColumnName("secret_sql".into());
        let res = Response::error(&Error::Database(cause), &req);
        let text = String::from_utf8(res.body).unwrap();
        assert!(!text.contains("secret_sql"));
        assert_eq!(res.status, 500);
    }
}
