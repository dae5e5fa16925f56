//! The optional language-model resolver (`serve --resolver-url`): asks an OpenAI-compatible
//! chat endpoint (a local model server) which candidate a document is. Plain HTTP/1.1 over
//! a socket with a timeout; anything unexpected is an error, and the caller falls back to
//! the built-in model. Only `http://` URLs: a local server or a proxy in front of one.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
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
        let io = |e: std::io::Error| Error::Internal(format!("the resolver endpoint: {e}"));
        let addr = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(io)?
            .next()
            .ok_or_else(|| Error::Internal("the resolver host has no address".into()))?;
        let mut stream = TcpStream::connect_timeout(&addr, self.timeout).map_err(io)?;
        stream.set_read_timeout(Some(self.timeout)).map_err(io)?;
        stream.set_write_timeout(Some(self.timeout)).map_err(io)?;
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.path,
            self.host,
            self.port,
            body.len()
        );
        stream.write_all(head.as_bytes()).map_err(io)?;
        stream.write_all(body.as_bytes()).map_err(io)?;
        let mut reader = BufReader::new(stream.take(8 << 20));
        let mut status = String::new();
        reader.read_line(&mut status).map_err(io)?;
        let code = status.split(' ').nth(1).unwrap_or("");
        if code != "200" {
            return Err(Error::Internal(format!(
                "the resolver endpoint answered {}",
                status.trim()
            )));
        }
        let mut chunked = false;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).map_err(io)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("transfer-encoding")
                    && v.trim().eq_ignore_ascii_case("chunked")
                {
                    chunked = true;
                }
            }
        }
        let mut raw = Vec::new();
        reader.read_to_end(&mut raw).map_err(io)?;
        let body = if chunked { dechunk(&raw) } else { raw };
        serde_json::from_slice(&body).map_err(|e| {
            Error::Internal(format!("the resolver endpoint's answer is not JSON: {e}"))
        })
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&data[..end])
            .ok()
            // A chunk size may carry extensions (`3;name=value`): the size ends at `;`.
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        let start = end + 2;
        if size == 0 || start + size > data.len() {
            break;
        }
        out.extend_from_slice(&data[start..start + size]);
        data = data.get(start + size + 2..).unwrap_or(&[]);
    }
    out
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

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), b"abcde");
        assert_eq!(dechunk(b"zz\r\n"), b"");
        // Issue 15: a chunk extension turned the body into nothing.
        assert_eq!(dechunk(b"3;x=y\r\nabc\r\n0\r\n\r\n"), b"abc");
    }
}
