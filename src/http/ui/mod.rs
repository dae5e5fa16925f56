//! The review page: one HTML file, one stylesheet and one script, embedded in the binary so
//! that the executable alone serves it, with no build step and nothing fetched from
//! elsewhere. The page's own files need no key (docs/CONTRACT.md, API); the page then calls the API with
//! the key a person pastes, kept in the browser tab's `sessionStorage`.
//!
//! The files are served before the router so that they stay out of the API's route table
//! and its OpenAPI document, which describe the JSON API only.

use std::sync::OnceLock;

use super::message::{Method, Request, Response};
use crate::error::Error;

const INDEX: &str = include_str!("index.html");
const APP_JS: &str = include_str!("app.js");
const APP_CSS: &str = include_str!("app.css");

/// Same-origin everything, no inline script or style, no framing: the page holds an API key,
/// so nothing but its own two files may run in it.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The page's answer to `request`, or `None` when the path is not one of its files.
pub fn serve(request: &Request) -> Option<Response> {
    let path = request.path.as_str();
    let file = match path {
        "/" | "/index.html" => File::Index,
        "/ui/app.js" => File::Script,
        "/ui/app.css" => File::Style,
        _ if path.starts_with("/ui/") => {
            let error = Error::NotFound {
                what: "file",
                id: path.to_string(),
            };
            return Some(Response::error(&error, request));
        }
        _ => return None,
    };
    if !matches!(request.method, Method::Get | Method::Head) {
        let error = Error::MethodNotAllowed {
            allowed: "GET".into(),
        };
        return Some(Response::error(&error, request));
    }
    let versioned = request.param("v") == Some(version());
    let response = match file {
        File::Index => {
            Response::bytes(200, "text/html; charset=utf-8", index().as_bytes().to_vec())
                // The page names its script and stylesheet by content hash, so only the page
                // itself must be revalidated for a new binary to take effect.
                .with_header("Cache-Control", "no-cache")
        }
        File::Script | File::Style => {
            let (content_type, body) = match file {
                File::Script => ("text/javascript; charset=utf-8", APP_JS),
                _ => ("text/css; charset=utf-8", APP_CSS),
            };
            let cache = if versioned {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            Response::bytes(200, content_type, body.as_bytes().to_vec())
                .with_header("Cache-Control", cache)
        }
    };
    Some(
        response
            .with_header("Content-Security-Policy", CSP)
            .with_header("X-Content-Type-Options", "nosniff")
            .with_header("Referrer-Policy", "no-referrer")
            .with_header("X-Frame-Options", "DENY"),
    )
}

#[derive(Clone, Copy)]
enum File {
    Index,
    Script,
    Style,
}

/// A hash of the script and stylesheet, so a browser caches them until the binary changes.
fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        // FNV-1a: stable across builds and platforms, unlike std's DefaultHasher.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in APP_JS.bytes().chain(APP_CSS.bytes()) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{hash:016x}")
    })
}

fn index() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| INDEX.replace("{{version}}", version()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_its_files_are_served_with_their_types_and_a_strict_policy() {
        for (path, content_type) in [
            ("/", "text/html; charset=utf-8"),
            ("/ui/app.js", "text/javascript; charset=utf-8"),
            ("/ui/app.css", "text/css; charset=utf-8"),
        ] {
            let response = serve(&Request::new(Method::Get, path)).expect(path);
            assert_eq!(response.status, 200, "{path}");
            assert_eq!(response.content_type, content_type, "{path}");
            let csp = response.header("Content-Security-Policy").expect("CSP");
            assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe"));
            assert!(response.header("Cache-Control").is_some());
        }
    }

    #[test]
    fn the_page_names_its_files_by_hash_and_those_are_cached_for_good() {
        let page = String::from_utf8(serve(&Request::new(Method::Get, "/")).unwrap().body).unwrap();
        let src = format!("/ui/app.js?v={}", version());
        assert!(page.contains(&src), "the page loads {src}");
        assert!(!page.contains("{{"), "every placeholder is filled");
        assert!(!page.contains("<script>"), "no inline script");
        let script = serve(&Request::new(Method::Get, &src)).unwrap();
        assert_eq!(
            script.header("Cache-Control"),
            Some("public, max-age=31536000, immutable")
        );
    }

    #[test]
    fn other_paths_go_to_the_router_and_other_methods_are_refused() {
        assert!(serve(&Request::new(Method::Get, "/v1/matching/runs")).is_none());
        assert!(serve(&Request::new(Method::Get, "/healthz")).is_none());
        let post = serve(&Request::new(Method::Post, "/")).unwrap();
        assert_eq!(post.status, 405);
        let missing = serve(&Request::new(Method::Get, "/ui/nothing.js")).unwrap();
        assert_eq!(missing.status, 404);
    }
}
