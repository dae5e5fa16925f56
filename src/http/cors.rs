//! Cross-origin requests from browser apps (`serve --cors-origin ORIGIN`, repeatable; none
//! by default, so a browser on another origin is refused as before). A preflight
//! (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered here, before
//! any key is asked for, since browsers never send credentials with one; every other answer
//! to an allowed origin carries `Access-Control-Allow-Origin` and exposes the headers a
//! client reads (request id, rate limits, file names). Keys travel in `Authorization`, never
//! in cookies, so credentials are not allowed and `*` may stand for every origin.

use super::message::{Method, Request, Response};
use crate::error::Error;

/// The request headers a browser app may send.
const ALLOWED_HEADERS: &str = "Authorization, Content-Type, Content-Encoding, Accept-Encoding";
/// The response headers a browser app may read besides the simple ones.
const EXPOSED_HEADERS: &str = "X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, \
    X-RateLimit-Reset, Retry-After, Content-Disposition, Allow";
/// How long a browser may reuse a preflight answer, in seconds.
const MAX_AGE: &str = "600";

/// The origins allowed to call the API from a browser.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cors {
    origins: Vec<String>,
}

impl Cors {
    /// Checks each origin: `*`, or `scheme://host[:port]` with no path (what browsers send).
    pub fn new(origins: &[String]) -> Result<Cors, Error> {
        let mut checked = Vec::new();
        for origin in origins {
            let origin = origin.trim().trim_end_matches('/');
            let shaped = origin == "*"
                || (origin.starts_with("http://") || origin.starts_with("https://"))
                    && !origin
                        .split_once("://")
                        .is_some_and(|(_, rest)| rest.is_empty() || rest.contains('/'));
            if !shaped {
                return Err(Error::invalid(
                    "--cors-origin",
                    "",
                    format!(
                        "\"{origin}\" is not an origin: write it as a browser sends it, \
                         like https://app.example.com or http://localhost:3000 (or * for any)"
                    ),
                ));
            }
            checked.push(origin.to_ascii_lowercase());
        }
        Ok(Cors { origins: checked })
    }

    /// Whether a browser on `origin` may call the API.
    pub fn allows(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        self.origins.iter().any(|o| o == "*" || *o == origin)
    }

    /// The answer to a CORS preflight, or `None` when the request is not one. `methods` is
    /// the `Allow` list of the route the preflight asks about (`None`: no such route).
    pub fn preflight(&self, request: &Request, methods: Option<String>) -> Option<Response> {
        let asked = &request.negotiation;
        if request.method != Method::Options || asked.cors_method.is_none() {
            return None;
        }
        let origin = asked.origin.as_deref()?;
        if !self.allows(origin) {
            let error = Error::Forbidden(format!(
                "the origin {} may not call this API from a browser; start the server \
                 with --cors-origin {0} to allow it",
                crate::error::loggable(&origin.chars().take(200).collect::<String>())
            ));
            return Some(Response::error(&error, request));
        }
        let Some(methods) = methods else {
            let error = Error::NotFound {
                what: "route",
                id: request.path.clone(),
            };
            return Some(self.decorate(request, Response::error(&error, request)));
        };
        let response = Response::bytes(204, "text/plain; charset=utf-8", Vec::new())
            .with_header("Access-Control-Allow-Origin", origin)
            .with_header(
                "Access-Control-Allow-Methods",
                format!("{methods}, OPTIONS"),
            )
            .with_header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
            .with_header("Access-Control-Max-Age", MAX_AGE)
            .with_header("Vary", "Origin");
        Some(response)
    }

    /// An answer to an allowed origin, with the headers that let its page read it.
    pub fn decorate(&self, request: &Request, response: Response) -> Response {
        match request.negotiation.origin.as_deref() {
            Some(origin) if self.allows(origin) => response
                .with_header("Access-Control-Allow-Origin", origin)
                .with_header("Access-Control-Expose-Headers", EXPOSED_HEADERS)
                .with_header("Vary", "Origin"),
            _ => response,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preflight(origin: &str) -> Request {
        let mut request = Request::new(Method::Options, "/v1/matching/configs");
        request.negotiation.origin = Some(origin.into());
        request.negotiation.cors_method = Some("POST".into());
        request
    }

    #[test]
    fn origins_are_checked_when_the_server_starts() {
        assert!(Cors::new(&["https://app.example.com".into()]).is_ok());
        assert!(Cors::new(&["http://localhost:3000/".into()]).is_ok());
        assert!(Cors::new(&["*".into()]).is_ok());
        assert!(Cors::new(&["app.example.com".into()]).is_err());
        assert!(Cors::new(&["https://app.example.com/path".into()]).is_err());
    }

    #[test]
    fn a_preflight_from_an_allowed_origin_lists_the_routes_methods() {
        let cors = Cors::new(&["https://app.example.com".into()]).unwrap();
        let answer = cors
            .preflight(
                &preflight("https://app.example.com"),
                Some("GET, POST".into()),
            )
            .unwrap();
        assert_eq!(answer.status, 204);
        assert_eq!(
            answer.header("Access-Control-Allow-Origin"),
            Some("https://app.example.com")
        );
        assert_eq!(
            answer.header("Access-Control-Allow-Methods"),
            Some("GET, POST, OPTIONS")
        );
        assert!(answer
            .header("Access-Control-Allow-Headers")
            .unwrap()
            .contains("Authorization"));
        let refused = cors
            .preflight(&preflight("https://evil.example"), Some("GET".into()))
            .unwrap();
        assert_eq!(refused.status, 403);
        assert_eq!(refused.header("Access-Control-Allow-Origin"), None);
        // Not a preflight: left to the routes.
        let plain = Request::new(Method::Options, "/v1/matching/configs");
        assert!(cors.preflight(&plain, Some("GET".into())).is_none());
    }

    #[test]
    fn no_origin_is_allowed_by_default() {
        let cors = Cors::default();
        let refused = cors
            .preflight(&preflight("http://localhost:3000"), Some("GET".into()))
            .unwrap();
        assert_eq!(refused.status, 403);
        let mut get = Request::new(Method::Get, "/v1/matching/configs");
        get.negotiation.origin = Some("http://localhost:3000".into());
        let answer = cors.decorate(&get, Response::bytes(200, "application/json", vec![]));
        assert!(answer.headers.is_empty());
        let any = Cors::new(&["*".into()]).unwrap();
        let answer = any.decorate(&get, Response::bytes(200, "application/json", vec![]));
        assert_eq!(
            answer.header("Access-Control-Allow-Origin"),
            Some("http://localhost:3000")
        );
    }
}
