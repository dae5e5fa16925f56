//! The route table and the front door of the v1 API. `ROUTES` is the one list of routes:
//! matching a path, the `Allow` header of a 405, the label a request counts under in
//! `/metrics` and the OpenAPI completeness test all read it. `handle` authenticates, applies
//! the rate limit, finds the route's handler for the method and turns an error into the
//! envelope of `docs/API.md` in one place. The handlers themselves, one module per
//! resource, live in `handlers`.

use super::handlers::{
    self, configs, documents, keys, packages, reference, results, runs, strategies, webhooks,
};
use super::limits::{Metrics, RateLimiter, RateState};
use super::message::{canonical_id, loggable, percent_decode, Method, Request, Response};
use crate::error::{Error, Result};
use crate::runner::Runner;
use crate::store::keys::ApiKey;
use crate::store::Store;
use std::sync::Arc;

pub use super::handlers::Call;

/// What every handler can reach.
pub struct Context {
    pub store: Store,
    pub runner: Arc<Runner>,
    pub limiter: RateLimiter,
    pub metrics: Metrics,
    /// `/metrics` without a key (`serve --metrics-open`).
    pub metrics_open: bool,
    /// Origins of browser apps allowed to call the API (`serve --cors-origin`).
    pub cors: super::cors::Cors,
}

/// A request's answer with what the access log and metrics need.
pub struct Handled {
    pub response: Response,
    pub key_id: Option<String>,
    /// The key's workspace, which the request counts for in `/metrics`.
    pub workspace: Option<i64>,
    pub route: &'static str,
}

/// A handler: a plain function from a request (with its key and path ids) to a response.
pub type Handler = fn(&Call) -> Result<Response>;

/// Who may call a route without an API key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Every method needs a key with the method's scope.
    Key,
    /// No key, whatever the method (`/healthz`).
    Open,
    /// `GET` needs no key (`/v1/openapi.json`).
    OpenGet,
    /// `GET` needs no key when the server was started with `--metrics-open`.
    OpenGetWhenMetricsOpen,
}

/// One route of the API.
pub struct Route {
    /// The route's name in metrics.
    pub label: &'static str,
    /// Path templates in the OpenAPI document's spelling, aliases after the first; a
    /// `{name}` segment matches any one segment.
    pub paths: &'static [&'static str],
    /// The methods it answers, each with its handler.
    pub methods: &'static [(Method, Handler)],
    pub access: Access,
}

impl Route {
    fn handler(&self, method: Method) -> Option<Handler> {
        self.methods
            .iter()
            .find(|(m, _)| *m == method)
            .map(|(_, handler)| *handler)
    }

    /// The `Allow` header: the route's methods, in the table's order.
    pub fn allowed(&self) -> String {
        let names: Vec<&str> = self.methods.iter().map(|(m, _)| m.as_str()).collect();
        names.join(", ")
    }
}

use Method::{Delete, Get, Patch, Post, Put};

/// Every route. A path is matched against the templates in this order, so a literal
/// segment (`strategies/generate`) comes before the template that would also take it
/// (`strategies/{id}`).
pub const ROUTES: &[Route] = &[
    Route {
        label: "healthz",
        paths: &["/healthz"],
        methods: &[(Get, handlers::health)],
        access: Access::Open,
    },
    Route {
        label: "metrics",
        paths: &["/metrics"],
        methods: &[(Get, handlers::metrics)],
        access: Access::OpenGetWhenMetricsOpen,
    },
    Route {
        label: "openapi",
        paths: &["/v1/openapi.json"],
        methods: &[(Get, handlers::openapi)],
        access: Access::OpenGet,
    },
    Route {
        label: "reference_data",
        paths: &["/v1/reference-data", "/v1/matching/reference-data"],
        methods: &[(Get, reference::list), (Post, reference::create)],
        access: Access::Key,
    },
    Route {
        label: "reference_data_item",
        paths: &[
            "/v1/reference-data/{id}",
            "/v1/matching/reference-data/{id}",
        ],
        methods: &[
            (Get, reference::get),
            (Put, reference::replace),
            (Delete, reference::delete),
        ],
        access: Access::Key,
    },
    Route {
        label: "reference_data_rows",
        paths: &[
            "/v1/reference-data/{id}/rows",
            "/v1/matching/reference-data/{id}/rows",
        ],
        methods: &[(Get, reference::rows)],
        access: Access::Key,
    },
    Route {
        label: "reference_data_export",
        paths: &[
            "/v1/reference-data/{id}/export",
            "/v1/matching/reference-data/{id}/export",
        ],
        methods: &[(Get, reference::export)],
        access: Access::Key,
    },
    Route {
        label: "documents",
        paths: &["/v1/documents"],
        methods: &[(Get, documents::list), (Post, documents::create)],
        access: Access::Key,
    },
    Route {
        label: "document",
        paths: &["/v1/documents/{id}"],
        methods: &[(Get, documents::get), (Delete, documents::delete)],
        access: Access::Key,
    },
    Route {
        label: "configs",
        paths: &["/v1/matching/configs"],
        methods: &[(Get, configs::list), (Post, configs::create)],
        access: Access::Key,
    },
    Route {
        label: "config",
        paths: &["/v1/matching/configs/{id}"],
        methods: &[
            (Get, configs::get),
            (Put, configs::replace),
            (Patch, configs::patch),
            (Delete, configs::delete),
        ],
        access: Access::Key,
    },
    Route {
        label: "config_run",
        paths: &["/v1/matching/configs/{id}/run"],
        methods: &[(Post, configs::run)],
        access: Access::Key,
    },
    Route {
        label: "config_smart_run",
        paths: &["/v1/matching/configs/{id}/smart-run"],
        methods: &[(Post, configs::smart_run)],
        access: Access::Key,
    },
    Route {
        label: "config_match",
        paths: &["/v1/matching/configs/{id}/match"],
        methods: &[(Post, configs::match_inline)],
        access: Access::Key,
    },
    Route {
        label: "runs",
        paths: &["/v1/matching/runs"],
        methods: &[(Get, runs::list)],
        access: Access::Key,
    },
    Route {
        label: "run_detail",
        paths: &["/v1/matching/runs/{id}"],
        methods: &[(Get, runs::get)],
        access: Access::Key,
    },
    Route {
        label: "run_progress",
        paths: &["/v1/matching/runs/{id}/progress"],
        methods: &[(Get, runs::progress)],
        access: Access::Key,
    },
    Route {
        label: "run_cancel",
        paths: &["/v1/matching/runs/{id}/cancel"],
        methods: &[(Post, runs::cancel)],
        access: Access::Key,
    },
    Route {
        label: "run_histogram",
        paths: &["/v1/matching/runs/{id}/histogram"],
        methods: &[(Get, runs::histogram)],
        access: Access::Key,
    },
    Route {
        label: "run_ai_resolve",
        paths: &["/v1/matching/runs/{id}/ai-resolve"],
        methods: &[(Post, runs::ai_resolve)],
        access: Access::Key,
    },
    Route {
        label: "run_results",
        paths: &["/v1/matching/runs/{id}/results"],
        methods: &[(Get, results::list)],
        access: Access::Key,
    },
    Route {
        label: "run_results_export",
        paths: &["/v1/matching/runs/{id}/results/export"],
        methods: &[(Get, results::export)],
        access: Access::Key,
    },
    Route {
        label: "results_bulk_review",
        paths: &["/v1/matching/runs/{id}/results/review"],
        methods: &[(Post, results::review_many)],
        access: Access::Key,
    },
    Route {
        label: "result_review",
        paths: &["/v1/matching/runs/{runId}/results/{resultId}/review"],
        methods: &[(Post, results::review)],
        access: Access::Key,
    },
    Route {
        label: "strategy_generate",
        paths: &["/v1/matching/strategies/generate"],
        methods: &[(Post, strategies::generate)],
        access: Access::Key,
    },
    Route {
        label: "strategy",
        paths: &["/v1/matching/strategies/{id}"],
        methods: &[(Get, strategies::get), (Patch, strategies::patch)],
        access: Access::Key,
    },
    Route {
        label: "package_configs",
        paths: &["/v1/matching/packages/configs"],
        methods: &[
            (Get, packages::list_configs),
            (Post, packages::create_config),
        ],
        access: Access::Key,
    },
    Route {
        label: "package_config",
        paths: &["/v1/matching/packages/configs/{id}"],
        methods: &[
            (Get, packages::get_config),
            (Delete, packages::delete_config),
        ],
        access: Access::Key,
    },
    Route {
        label: "package_runs",
        paths: &["/v1/matching/packages/runs"],
        methods: &[(Get, packages::list_runs), (Post, packages::create_run)],
        access: Access::Key,
    },
    Route {
        label: "package_run",
        paths: &["/v1/matching/packages/runs/{id}"],
        methods: &[(Get, packages::get_run)],
        access: Access::Key,
    },
    Route {
        label: "webhooks",
        paths: &["/v1/webhooks"],
        methods: &[(Get, webhooks::list), (Post, webhooks::create)],
        access: Access::Key,
    },
    Route {
        label: "webhook",
        paths: &["/v1/webhooks/{id}"],
        methods: &[(Get, webhooks::get), (Delete, webhooks::delete)],
        access: Access::Key,
    },
    Route {
        label: "webhook_deliveries",
        paths: &["/v1/webhooks/{id}/deliveries"],
        methods: &[(Get, webhooks::deliveries)],
        access: Access::Key,
    },
    Route {
        label: "webhook_redeliver",
        paths: &["/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver"],
        methods: &[(Post, webhooks::redeliver)],
        access: Access::Key,
    },
    Route {
        label: "keys",
        paths: &["/v1/keys"],
        methods: &[(Get, keys::list)],
        access: Access::Key,
    },
    Route {
        label: "key",
        paths: &["/v1/keys/{id}"],
        methods: &[(Delete, keys::revoke)],
        access: Access::Key,
    },
];

/// Finds the route of a path and the ids in it (percent-decoded).
pub(crate) fn resolve(path: &str) -> Option<(&'static Route, Vec<String>)> {
    let segments: Vec<String> = path
        .trim_end_matches('/')
        .split('/')
        .skip(1)
        .map(|s| {
            let segment = percent_decode(s, false);
            match canonical_id(&segment) {
                std::borrow::Cow::Owned(id) => id,
                std::borrow::Cow::Borrowed(_) => segment,
            }
        })
        .collect();
    ROUTES.iter().find_map(|route| {
        route.paths.iter().find_map(|template| {
            let parts: Vec<&str> = template.split('/').skip(1).collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut ids = Vec::new();
            for (part, segment) in parts.iter().zip(&segments) {
                if part.starts_with('{') {
                    ids.push(segment.clone());
                } else if part != segment {
                    return None;
                }
            }
            Some((route, ids))
        })
    })
}

/// Answers one request. Never panics outward: `server` also catches panics around it.
pub fn handle(ctx: &Context, request: &Request) -> Handled {
    if let Some(response) = super::ui::serve(request) {
        return Handled {
            response,
            key_id: None,
            workspace: None,
            route: "review_page",
        };
    }
    let mut key = None;
    let mut rate = None;
    let resolved = resolve(&request.path);
    let route = resolved.as_ref().map_or("unknown", |(r, _)| r.label);
    let methods = resolved.as_ref().map(|(r, _)| r.allowed());
    if let Some(response) = ctx.cors.preflight(request, methods) {
        return Handled {
            response,
            key_id: None,
            workspace: None,
            route,
        };
    }
    let mut response = match dispatch(ctx, request, resolved, &mut key, &mut rate) {
        Ok(response) => response,
        Err(error) => {
            if error.http().status >= 500 {
                log::info!(
                    "{} {} {}: {}",
                    request.request_id,
                    request.method.as_str(),
                    loggable(&request.path),
                    loggable(&error.to_string())
                );
            }
            Response::error(&error, request)
        }
    };
    if let Some(rate) = rate {
        response = response
            .with_header("X-RateLimit-Limit", rate.limit.to_string())
            .with_header("X-RateLimit-Remaining", rate.remaining.to_string())
            .with_header("X-RateLimit-Reset", rate.reset.to_string());
        if let Some(after) = rate.retry_after {
            response = response.with_header("Retry-After", after.to_string());
        }
    }
    Handled {
        response: ctx.cors.decorate(request, response),
        key_id: key.as_ref().map(|k| k.id.clone()),
        workspace: key.map(|k| k.workspace.0),
        route,
    }
}

/// Decides from the head alone whether a request's body may be read at all: the key must
/// exist and have the method's scope. Nothing else is checked (the handler does it), and
/// no rate-limit token is taken.
pub fn admit(ctx: &Context, request: &Request) -> Result<()> {
    authenticate(ctx, request, effective(request.method)).map(|_| ())
}

/// `HEAD` is answered as `GET`.
fn effective(method: Method) -> Method {
    if method == Method::Head {
        Method::Get
    } else {
        method
    }
}

fn authenticate(ctx: &Context, request: &Request, method: Method) -> Result<ApiKey> {
    let header = request.authorization.as_deref().ok_or_else(|| {
        Error::Unauthorized("send an API key as Authorization: Bearer <key>".into())
    })?;
    let secret = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Error::Unauthorized("the Authorization header must be Bearer <key>".into())
        })?;
    let key = ctx.store.authenticate(secret)?;
    // Best effort: a busy database must not fail the request itself.
    let _ = ctx.store.touch_key(&key.id);
    let allowed = if method.writes() {
        key.scopes.write
    } else {
        key.scopes.read
    };
    if !allowed {
        let needed = if method.writes() { "write" } else { "read" };
        return Err(Error::Forbidden(format!(
            "this API key lacks the \"{needed}\" scope"
        )));
    }
    Ok(key)
}

fn dispatch(
    ctx: &Context,
    req: &Request,
    resolved: Option<(&'static Route, Vec<String>)>,
    key_out: &mut Option<ApiKey>,
    rate: &mut Option<RateState>,
) -> Result<Response> {
    let method = effective(req.method);
    if let Some((route, ids)) = &resolved {
        let open = match route.access {
            Access::Key => false,
            Access::Open => true,
            Access::OpenGet => method == Get,
            Access::OpenGetWhenMetricsOpen => ctx.metrics_open && method == Get,
        };
        if open {
            let handler = route
                .handler(method)
                .ok_or_else(|| Error::MethodNotAllowed {
                    allowed: route.allowed(),
                })?;
            return handler(&Call {
                ctx,
                req,
                key: None,
                ids: ids.clone(),
            });
        }
    }
    let key = authenticate(ctx, req, method)?;
    *key_out = Some(key.clone());
    *rate = ctx.limiter.take(&key.id);
    if let Some(after) = rate.and_then(|r| r.retry_after) {
        return Err(Error::RateLimited { retry_after: after });
    }
    let (route, ids) = resolved.ok_or_else(|| Error::NotFound {
        what: "route",
        id: req.path.clone(),
    })?;
    let handler = route
        .handler(method)
        .ok_or_else(|| Error::MethodNotAllowed {
            allowed: route.allowed(),
        })?;
    handler(&Call {
        ctx,
        req,
        key: Some(&key),
        ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(path: &str) -> Option<(&'static str, Vec<String>)> {
        resolve(path).map(|(route, ids)| (route.label, ids))
    }

    #[test]
    fn routes_resolve_with_ids_and_aliases() {
        assert_eq!(
            resolved("/v1/matching/runs/abc/results/def/review"),
            Some(("result_review", vec!["abc".into(), "def".into()]))
        );
        assert_eq!(
            resolved("/v1/matching/reference-data/x%20y"),
            Some(("reference_data_item", vec!["x y".into()]))
        );
        assert_eq!(
            resolved("/v1/reference-data/"),
            Some(("reference_data", vec![]))
        );
        assert_eq!(resolved("/v1/nothing"), None);
        assert_eq!(resolved("/"), None);
    }

    #[test]
    fn a_literal_segment_wins_over_a_template() {
        assert_eq!(
            resolved("/v1/matching/strategies/generate"),
            Some(("strategy_generate", vec![]))
        );
        assert_eq!(
            resolved("/v1/matching/strategies/s1"),
            Some(("strategy", vec!["s1".into()]))
        );
    }

    #[test]
    fn labels_are_unique_and_allow_lists_follow_the_table() {
        let mut labels: Vec<&str> = ROUTES.iter().map(|r| r.label).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), ROUTES.len());
        let config = ROUTES.iter().find(|r| r.label == "config").unwrap();
        assert_eq!(config.allowed(), "GET, PUT, PATCH, DELETE");
        let strategy = ROUTES.iter().find(|r| r.label == "strategy").unwrap();
        assert_eq!(strategy.allowed(), "GET, PATCH");
    }
}
