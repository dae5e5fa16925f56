//! The optional language-model resolver (`serve --resolver-url`): asks an OpenAI-compatible
//! chat endpoint (a local model server) which candidate a document is, through `ureq` with
//! one deadline for the whole call; anything unexpected is an error, and the caller falls
//! back to the built-in model. Only `http://` URLs (ureq is built without TLS): a local
//! server or a proxy in front of one.

use std::time::Duration;

use serde_json::{json, Value};

use crate::error::{Error, Result};

/// Where and how the chat endpoint is asked.
#[derive(Clone, Debug)]
pub struct Endpoint {
    host: String,
    port: u16,
    path: String,
    pub model: String,
    pub timeout: Duration,
    /// Most documents asked about per run.
    pub max_calls: usize,
}

impl Endpoint {
    /// Parses `http://host[:port]/path`.
    pub fn parse(url: &str, model: &str, timeout: Duration, max_calls: usize) -> Result<Endpoint> {
        let invalid = |why: &str| Error::invalid("--resolver-url", "", format!("\"{url}\" {why}"));
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| invalid("must start with http:// (put TLS in a proxy)"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/v1/chat/completions"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| invalid("has a bad port"))?),
            None => (authority, 80),
        };
        if host.is_empty() {
            return Err(invalid("has no host"));
        }
        Ok(Endpoint {
            host: host.to_string(),
            port,
            path: path.to_string(),
            model: model.to_string(),
            timeout,
            max_calls,
        })
    }

    /// Asks which of `candidates` (`(row id, values)`) the document (`values`) is. Returns
    /// the chosen row id (or `None` for "none of them") and the model's confidence.
    pub fn choose(
        &self,
        document: &Value,
        candidates: &[(String, Value)],
    ) -> Result<(Option<String>, f64)> {
        let listing: Vec<Value> = candidates
            .iter()
            .map(|(id, values)| json!({"reference_row_id": id, "values": values}))
            .collect();
        let request = json!({
            "model": self.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": "You match business documents to reference rows. \
                    Answer with JSON only: {\"reference_row_id\": <one of the candidates' ids or null>, \
                    \"confidence\": <0..1>}."},
                {"role": "user", "content": json!({"document": document, "candidates": listing}).to_string()},
            ],
        });
        let reply = self.post(&request.to_string())?;
        let content = reply["choices"][0]["message"]["content"]
            .as_str()
            .ok_or_else(|| Error::Internal("the chat answer has no message content".into()))?;
        let start = content.find('{').unwrap_or(0);
        let end = content.rfind('}').map_or(content.len(), |i| i + 1);
        let answer: Value = serde_json::from_str(content.get(start..end).unwrap_or(""))
            .map_err(|e| Error::Internal(format!("the chat answer is not JSON: {e}")))?;
        let confidence = answer["confidence"]
            .as_f64()
            .filter(|c| c.is_finite())
            .ok_or_else(|| Error::Internal("the chat answer has no confidence".into()))?
            .clamp(0.0, 1.0);
        let row = match &answer["reference_row_id"] {
            Value::Null => None,
            Value::String(id) if candidates.iter().any(|(c, _)| c == id) => Some(id.clone()),
            other => {
                return Err(Error::Internal(format!(
                    "the chat answer names {other}, not a candidate"
                )))
            }
        };
        Ok((row, confidence))
    }

    fn post(&self, body: &str) -> Result<Value> {
        let failed = |e: ureq::Error| Error::Internal(format!("the resolver endpoint: {e}"));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        let url = format!("http://{}:{}{}", self.host, self.port, self.path);
        let mut response = agent
            .post(&url)
            .header("Content-Type", "application/json")
            .send(body)
            .map_err(failed)?;
        if response.status() != 200 {
            return Err(Error::Internal(format!(
                "the resolver endpoint answered {}",
                response.status()
            )));
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(8 << 20)
            .read_to_vec()
            .map_err(failed)?;
        serde_json::from_slice(&body).map_err(|e| {
            Error::Internal(format!("the resolver endpoint's answer is not JSON: {e}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_plain_http_with_a_default_path() {
        let e = Endpoint::parse("http://127.0.0.1:8081", "m", Duration::from_secs(1), 5).unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.path.as_str()),
            ("127.0.0.1", 8081, "/v1/chat/completions")
        );
        assert!(Endpoint::parse("https://x", "m", Duration::from_secs(1), 5).is_err());
        assert!(Endpoint::parse("http://:80/x", "m", Duration::from_secs(1), 5).is_err());
        assert!(Endpoint::parse("http://h:port/x", "m", Duration::from_secs(1), 5).is_err());
    }

    /// A one-shot server on port 0 that answers `reply` to the first request.
    fn answering(reply: &'static [u8]) -> u16 {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let _ = stream.write_all(reply);
        });
        port
    }

    #[test]
    fn a_chunked_answer_with_chunk_extensions_is_read_whole() {
        // Issue 15: the hand-written client turned `3;x=y` into an empty body.
        let port = answering(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
              3;x=y\r\n{\"a\r\n4\r\n\": 1\r\n1\r\n}\r\n0\r\n\r\n",
        );
        let e = Endpoint::parse(
            &format!("http://127.0.0.1:{port}/x"),
            "m",
            Duration::from_secs(5),
            1,
        )
        .unwrap();
        assert_eq!(e.post("{}").unwrap(), json!({"a": 1}));
    }

    #[test]
    fn an_answer_other_than_200_is_an_error() {
        let port =
            answering(b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        let e = Endpoint::parse(
            &format!("http://127.0.0.1:{port}/x"),
            "m",
            Duration::from_secs(5),
            1,
        )
        .unwrap();
        let error = e.post("{}").unwrap_err().to_string();
        assert!(error.contains("503"), "{error}");
    }
}
