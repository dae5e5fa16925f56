//! The HTTP API (docs/CONTRACT.md, API). `message` holds the plain request and response values and
//! the error envelope, `routes` the route table and the front door (keys, rate limits, the
//! error envelope), `handlers` one module of handlers per resource, `body` the typed JSON
//! request bodies, `ui` the review page's embedded
//! files, `server` the socket side (accept loop, bounded request reading, tiny_http's response
//! writer); only `server` knows tiny_http. Handlers reach the database only through `service` and `store`.
//! `cors` answers browser apps on other origins, `compress` the content codings (gzip
//! request bodies in, gzip answers out).

pub mod body;
pub mod compress;
pub mod cors;
pub mod handlers;
pub mod limits;
pub mod message;
pub mod openapi;
pub mod routes;
pub mod server;
pub mod ui;

pub use routes::Context;
pub use server::{Server, ServerOptions};
