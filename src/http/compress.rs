//! Content codings on the wire: gzip-encoded request bodies (`Content-Encoding: gzip`) are
//! inflated before a handler sees them, within the same byte limit as any body, and large
//! answers are gzip-compressed for a client that says it accepts them (`Accept-Encoding`).
//! Pure functions over bytes and header values; `server` applies them.

use std::io::Read;

use flate2::read::{GzDecoder, GzEncoder};
use flate2::Compression;

use crate::error::{Error, Result};

/// Bodies smaller than this go out as they are: compressing them saves little and costs
/// the client a decoder.
pub const MIN_COMPRESSED_BODY: usize = 1024;

/// The body a handler reads: a request body decoded by its `Content-Encoding` (none,
/// `identity` or `gzip`), at most `limit` bytes once inflated (else 413: a small gzip body
/// must not expand past what the server would take uncompressed).
pub fn decode_body(encoding: Option<&str>, body: Vec<u8>, limit: u64) -> Result<Vec<u8>> {
    let coding = encoding.map(|e| e.trim().to_ascii_lowercase());
    match coding.as_deref() {
        None | Some("") | Some("identity") => Ok(body),
        Some("gzip" | "x-gzip") => {
            let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit as usize));
            let mut reader = GzDecoder::new(body.as_slice()).take(limit.saturating_add(1));
            reader.read_to_end(&mut out).map_err(|_| {
                Error::invalid(
                    "request headers",
                    "Content-Encoding",
                    "says gzip, but the body is not a complete gzip stream",
                )
            })?;
            if out.len() as u64 > limit {
                return Err(Error::PayloadTooLarge { limit });
            }
            Ok(out)
        }
        Some(other) => Err(Error::UnsupportedMediaType(format!(
            "Content-Encoding \"{}\" is not supported; send the body as it is or gzip-encoded",
            other.chars().take(40).collect::<String>()
        ))),
    }
}

/// Whether an `Accept-Encoding` value accepts gzip: listed (or `*`) without `q=0`.
pub fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    let Some(value) = accept_encoding else {
        return false;
    };
    let mut gzip = None;
    let mut any = None;
    for item in value.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match coding.as_str() {
            "gzip" | "x-gzip" => gzip = Some(q > 0.0),
            "*" => any = Some(q > 0.0),
            _ => {}
        }
    }
    gzip.or(any).unwrap_or(false)
}

/// Whether a media type is worth compressing (text formats, not images or archives).
pub fn compressible(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or("").trim();
    media.starts_with("text/")
        || media == "application/json"
        || media == "application/javascript"
        || media == "image/svg+xml"
}

/// gzip of a whole body. Level 1: run detail is polled, and the fastest level already
/// takes most of the size away from JSON this repetitive.
pub fn gzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() / 4 + 64);
    let mut encoder = GzEncoder::new(body, Compression::fast());
    // Reading from memory into memory cannot fail.
    let _ = encoder.read_to_end(&mut out);
    out
}

/// gzip of a body produced while it is sent (a streamed export).
pub fn gzip_stream(body: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
    Box::new(GzEncoder::new(body, Compression::fast()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inflate(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn a_gzip_body_is_inflated_within_the_limit() {
        let text = b"id,name\n1,Acme\n".repeat(100);
        let packed = gzip(&text);
        assert!(packed.len() < text.len());
        assert_eq!(
            decode_body(Some("gzip"), packed.clone(), 1 << 20).unwrap(),
            text
        );
        assert_eq!(
            decode_body(Some(" GZIP "), packed.clone(), 1 << 20).unwrap(),
            text
        );
        let Err(Error::PayloadTooLarge { limit }) = decode_body(Some("gzip"), packed, 100) else {
            panic!("an inflated body over the limit must be refused");
        };
        assert_eq!(limit, 100);
    }

    #[test]
    fn a_broken_or_unknown_coding_is_named() {
        let err = decode_body(Some("gzip"), b"not gzip".to_vec(), 1000).unwrap_err();
        assert_eq!(err.details()[0].field, "Content-Encoding");
        let err = decode_body(Some("br"), b"x".to_vec(), 1000).unwrap_err();
        assert_eq!(err.http().status, 415);
        assert_eq!(decode_body(None, b"x".to_vec(), 1000).unwrap(), b"x");
        assert_eq!(
            decode_body(Some("identity"), b"x".to_vec(), 1000).unwrap(),
            b"x"
        );
    }

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        assert!(accepts_gzip(Some("gzip, deflate, br")));
        assert!(accepts_gzip(Some("br;q=1.0, gzip;q=0.8")));
        assert!(accepts_gzip(Some("*")));
        assert!(!accepts_gzip(Some("gzip;q=0")));
        assert!(!accepts_gzip(Some("*, gzip;q=0")));
        assert!(!accepts_gzip(Some("br")));
        assert!(!accepts_gzip(Some("identity")));
        assert!(!accepts_gzip(None));
    }

    #[test]
    fn a_stream_compresses_to_the_same_text() {
        let text = b"a,b\n".repeat(5000);
        let mut packed = Vec::new();
        gzip_stream(Box::new(std::io::Cursor::new(text.clone())))
            .read_to_end(&mut packed)
            .unwrap();
        assert_eq!(inflate(&packed), text);
        assert!(compressible("application/json"));
        assert!(compressible("text/csv; charset=utf-8"));
        assert!(!compressible("image/png"));
    }
}
