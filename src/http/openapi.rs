//! The OpenAPI 3.1 document of the API, served at `/v1/openapi.json` without a key. It is
//! written by hand as JSON; the tests below keep it honest against the router: every route
//! of `routes::ROUTES` is described and nothing else, every operation answers a 2xx and
//! errors in the one envelope, and every `$ref` resolves.

/// The document, embedded in the binary.
pub const DOCUMENT: &str = include_str!("openapi.json");

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashSet};

    use serde_json::Value;

    use super::DOCUMENT;
    use crate::http::routes::ROUTES;

    /// The keys of a Path Item that are operations.
    const METHODS: &[&str] = &[
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];

    const ERROR_SCHEMA: &str = "#/components/schemas/Error";

    fn document() -> Value {
        serde_json::from_str(DOCUMENT)
            .unwrap_or_else(|e| panic!("src/http/openapi.json is not valid JSON: {e}"))
    }

    /// Every operation as `(path, method, operation)`.
    fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
        let paths = doc["paths"]
            .as_object()
            .expect("the document has a `paths` object");
        let mut out = Vec::new();
        for (path, item) in paths {
            let item = item
                .as_object()
                .unwrap_or_else(|| panic!("paths[{path}] is not an object"));
            for (key, operation) in item {
                if METHODS.contains(&key.as_str()) {
                    out.push((path.clone(), key.clone(), operation));
                }
            }
        }
        out
    }

    /// Follows `$ref`s (local JSON pointers) until a value without one.
    fn resolve<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
        for _ in 0..16 {
            let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
                return value;
            };
            value = reference
                .strip_prefix('#')
                .and_then(|pointer| doc.pointer(pointer))
                .unwrap_or_else(|| panic!("$ref {reference} does not resolve"));
        }
        panic!("a $ref chain is longer than 16 steps");
    }

    #[test]
    fn the_document_is_json_and_openapi_3_1() {
        let doc = document();
        let version = doc["openapi"].as_str().expect("`openapi` is a string");
        assert!(
            version.starts_with("3.1"),
            "openapi is {version}, not 3.1.x"
        );
        assert!(doc["info"]["title"].is_string(), "info.title");
        assert!(doc["info"]["version"].is_string(), "info.version");
        assert!(
            doc["components"]["schemas"]["Error"].is_object(),
            "components.schemas.Error"
        );
    }

    #[test]
    fn every_route_is_described_and_nothing_else() {
        let doc = document();
        let routed: BTreeSet<(String, String)> = ROUTES
            .iter()
            .flat_map(|route| {
                route.paths.iter().flat_map(move |path| {
                    route
                        .methods
                        .iter()
                        .map(move |(method, _)| (path.to_string(), method.as_str().to_lowercase()))
                })
            })
            .collect();
        let described: BTreeSet<(String, String)> = operations(&doc)
            .into_iter()
            .map(|(path, method, _)| (path, method))
            .collect();
        let missing: Vec<String> = routed
            .difference(&described)
            .map(|(path, method)| format!("{} {path}", method.to_uppercase()))
            .collect();
        let extra: Vec<String> = described
            .difference(&routed)
            .map(|(path, method)| format!("{} {path}", method.to_uppercase()))
            .collect();
        assert!(
            missing.is_empty(),
            "routes::ROUTES has routes that src/http/openapi.json does not describe: {}",
            missing.join(", ")
        );
        assert!(
            extra.is_empty(),
            "src/http/openapi.json describes routes that routes::ROUTES does not have: {}",
            extra.join(", ")
        );
    }

    #[test]
    fn operations_have_ids_summaries_and_their_path_parameters() {
        let doc = document();
        let mut ids = HashSet::new();
        for (path, method, operation) in operations(&doc) {
            let at = format!("{} {path}", method.to_uppercase());
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{at} has no operationId"));
            assert!(
                ids.insert(id.to_string()),
                "operationId {id} repeats ({at})"
            );
            for key in ["summary", "description"] {
                assert!(
                    operation[key].as_str().is_some_and(|s| !s.is_empty()),
                    "{at} has no {key}"
                );
            }
            // Path parameters may sit on the Path Item or on the operation.
            let declared: HashSet<String> =
                [&doc["paths"][&path]["parameters"], &operation["parameters"]]
                    .into_iter()
                    .filter_map(Value::as_array)
                    .flatten()
                    .map(|p| resolve(&doc, p))
                    .filter(|p| p["in"] == "path")
                    .map(|p| {
                        assert_eq!(p["required"], true, "{at}: path parameters are required");
                        p["name"].as_str().unwrap_or_default().to_string()
                    })
                    .collect();
            let templated: HashSet<String> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .map(String::from)
                .collect();
            assert_eq!(declared, templated, "{at}: path parameters");
        }
    }

    #[test]
    fn every_operation_answers_a_2xx_and_errors_in_the_one_envelope() {
        let doc = document();
        let global_security = doc["security"].as_array().is_some_and(|s| !s.is_empty());
        assert!(global_security, "security applies bearerAuth globally");
        for (path, method, operation) in operations(&doc) {
            let at = format!("{} {path}", method.to_uppercase());
            let responses = operation["responses"]
                .as_object()
                .unwrap_or_else(|| panic!("{at} has no responses"));
            assert!(
                responses.keys().any(|status| status.starts_with('2')),
                "{at} has no 2xx response"
            );
            for (status, response) in responses {
                let response = resolve(&doc, response);
                assert!(
                    response["description"].is_string(),
                    "{at} {status} has no description"
                );
                if !(status.starts_with('4') || status.starts_with('5')) {
                    continue;
                }
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(
                    schema.as_str(),
                    Some(ERROR_SCHEMA),
                    "{at} {status} does not answer the Error envelope"
                );
            }
            // Keyed routes can always answer these; the open ones say `security: []`.
            let open = operation["security"].as_array().is_some_and(Vec::is_empty);
            if !open {
                for status in ["401", "403", "429", "500"] {
                    assert!(
                        responses.contains_key(status),
                        "{at} needs a key but does not describe {status}"
                    );
                }
            }
        }
        for open in ["/healthz", "/v1/openapi.json"] {
            assert_eq!(
                doc["paths"][open]["get"]["security"],
                serde_json::json!([]),
                "GET {open} needs no key"
            );
        }
    }

    #[test]
    fn the_error_schema_is_specs_envelope() {
        let doc = document();
        let error = &doc["components"]["schemas"]["Error"];
        let required: Vec<&str> = error["required"]
            .as_array()
            .expect("Error.required")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(
            required,
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
        let codes: HashSet<&str> = error["properties"]["code"]["enum"]
            .as_array()
            .expect("Error.code is an enum")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for code in [
            "validation_error",
            "unauthorized",
            "insufficient_scope",
            "not_found",
            "method_not_allowed",
            "conflict",
            "payload_too_large",
            "unsupported_media_type",
            "rate_limited",
            "internal_error",
            "unavailable",
        ] {
            assert!(codes.contains(code), "Error.code lacks {code}");
        }
    }

    /// Collects every `$ref` string with the JSON pointer of where it stands.
    fn refs<'a>(value: &'a Value, at: &str, out: &mut Vec<(String, &'a str)>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    if key == "$ref" {
                        if let Some(target) = child.as_str() {
                            out.push((at.to_string(), target));
                        }
                    } else if key == "discriminator" {
                        // A discriminator's mapping names schemas by reference too.
                        let mapping = child["mapping"].as_object().into_iter().flatten();
                        for (name, target) in mapping {
                            if let Some(target) = target.as_str() {
                                out.push((format!("{at}/discriminator/mapping/{name}"), target));
                            }
                        }
                    } else {
                        let key = key.replace('~', "~0").replace('/', "~1");
                        refs(child, &format!("{at}/{key}"), out);
                    }
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    refs(child, &format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn every_ref_resolves_to_a_component() {
        let doc = document();
        let mut found = Vec::new();
        refs(&doc, "", &mut found);
        assert!(!found.is_empty(), "the document uses $ref");
        let broken: Vec<String> = found
            .iter()
            .filter(|(_, target)| {
                !target.starts_with("#/components/")
                    || target
                        .strip_prefix('#')
                        .and_then(|pointer| doc.pointer(pointer))
                        .is_none()
            })
            .map(|(at, target)| format!("{target} (at {at})"))
            .collect();
        assert!(
            broken.is_empty(),
            "$refs that resolve to no component: {}",
            broken.join(", ")
        );
    }
}
