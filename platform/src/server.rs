//! The HTTP server every service runs: the same middleware (request span, duration metrics,
//! unreadable-text guard, security headers), `/health/live`, `/metrics` (with the pool gauges
//! sampled at scrape time), `/openapi.json` and the `/docs` page rendering it when the service has
//! a document, problem+json for extractor errors and unknown routes (405 with `Allow` for a
//! documented path under another method), and our own shutdown order (signals are handled by the
//! caller, so it can drain HTTP before stopping background work). Each service adds its state and
//! routes, its readiness among them.

use std::{net::TcpListener, time::Duration};

use actix_cors::Cors;
use actix_web::{
    App, HttpResponse, HttpServer,
    dev::Server,
    middleware::{Condition, DefaultHeaders, from_fn},
    web,
};
use anyhow::Context;
use deadpool_postgres::Pool;
use futures::StreamExt;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::{
    docs_page, health, http_metrics, input_guard, pool_metrics, problem, prometheus, request_span,
    unrouted,
};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// actix worker threads; `None` is one per core.
    pub workers: Option<usize>,
    /// How long in-flight requests may take after the stop was asked for.
    pub shutdown_timeout: Duration,
    /// Browser origins allowed to call this listener cross-origin; empty (the default) answers
    /// no CORS request, so browsers keep other sites' pages out.
    pub cors_origins: Vec<String>,
}

/// What the scaffold serves on a service's behalf.
#[derive(Debug, Clone)]
pub struct Scaffold {
    /// Served at `/openapi.json`, and rendered for people at `/docs`, when present.
    pub openapi: Option<serde_json::Value>,
    /// The service's pool, whose gauges `/metrics` samples.
    pub pool: Pool,
    /// Whether this listener serves `/metrics`: the admin listener does, a public API does not
    /// (what the process is doing is for its operators, not for whoever can reach the API).
    pub serves_metrics: bool,
}

/// A service's OpenAPI document, rendered once at start-up.
#[derive(Debug, Clone)]
struct OpenApiDocument(web::Bytes);

/// What `/metrics` renders.
#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    pool: Pool,
}

/// Headers on every answer unless a route set its own. The APIs serve JSON only: nothing may be
/// sniffed into HTML, framed, or leak its URL to another site; and nothing is cached unless a
/// route says so (query-api's catalog reads do), so personal data never lands in a shared cache.
/// The one HTML page, `/docs`, replaces the policy with one that lets its own assets run.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("x-content-type-options", "nosniff"))
        .add((
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ))
        .add(("x-frame-options", "DENY"))
        .add(("referrer-policy", "no-referrer"))
        .add(("cache-control", "no-store"))
}

/// CORS for exactly `origins`: the methods and headers the APIs use, the answer headers a
/// client needs to read (version, location, read-your-writes token, back-off), no cookies.
fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            "authorization",
            "content-type",
            "idempotency-key",
            "if-match",
            "if-none-match",
            "consistency-token",
            "x-correlation-id",
            "traceparent",
        ])
        .expose_headers(["etag", "location", "consistency-token", "retry-after"])
        .max_age(600)
}

/// `CC_HTTP__CORS_ALLOWED_ORIGINS`: comma-separated origins such as `https://shop.example`.
pub fn cors_origins_from_env() -> Vec<String> {
    std::env::var("CC_HTTP__CORS_ALLOWED_ORIGINS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Binds `host:port` (port 0 picks a free one) and returns the listener with its port.
pub fn bind(host: &str, port: u16) -> anyhow::Result<(TcpListener, u16)> {
    let listener =
        TcpListener::bind((host, port)).with_context(|| format!("binding {host}:{port}"))?;
    let port = listener.local_addr()?.port();
    Ok((listener, port))
}

/// Serves `routes` (app data and routes of the service) on `listener` inside the shared
/// scaffold.
pub fn serve<F>(
    listener: TcpListener,
    options: &ServerOptions,
    scaffold: Scaffold,
    routes: F,
) -> anyhow::Result<Server>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let routes_documented = web::Data::new(
        scaffold
            .openapi
            .as_ref()
            .map(unrouted::RouteTable::from_document)
            .unwrap_or_default(),
    );
    let openapi = scaffold
        .openapi
        .map(|document| serde_json::to_vec(&document).map(|bytes| OpenApiDocument(bytes.into())))
        .transpose()
        .context("rendering the OpenAPI document")?;
    pool_metrics::describe();
    let scrape = web::Data::new(Scrape {
        handle: prometheus::install(),
        pool: scaffold.pool,
    });
    let serves_metrics = scaffold.serves_metrics;
    let cors_origins = options.cors_origins.clone();
    let mut server = HttpServer::new(move || {
        let mut app = App::new()
            .wrap(from_fn(unrouted::check_documented))
            .wrap(from_fn(input_guard::reject_unreadable_text))
            .wrap(security_headers())
            .wrap(Condition::new(
                !cors_origins.is_empty(),
                cors(&cors_origins),
            ))
            .wrap(from_fn(http_metrics::record))
            // Outermost, so everything below (metrics, extractors, handlers) logs inside it.
            .wrap(from_fn(request_span::instrument))
            .configure(problem::extractor_configs)
            .app_data(scrape.clone())
            .route("/health/live", web::get().to(health::live));
        if serves_metrics {
            app = app.route("/metrics", web::get().to(metrics));
        }
        if let Some(document) = &openapi {
            app = app
                .app_data(web::Data::new(document.clone()))
                .route("/openapi.json", web::get().to(openapi_document))
                .configure(docs_page::routes);
        }
        app.configure(routes.clone())
            .app_data(routes_documented.clone())
            .default_service(web::to(problem::not_found))
    })
    .listen(listener)?
    .disable_signals()
    .shutdown_timeout(options.shutdown_timeout.as_secs());
    if let Some(workers) = options.workers {
        server = server.workers(workers);
    }
    Ok(server.run())
}

/// The admin listener an API opens beside its public one, on `host:port` (port 0 picks a free
/// one): `/health/live`, `/metrics` and the service's `routes` (its readiness), one worker.
/// Returns the server and its port.
pub fn serve_admin<F>(
    host: &str,
    port: u16,
    shutdown_timeout: Duration,
    pool: Pool,
    routes: F,
) -> anyhow::Result<(Server, u16)>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let (listener, port) = bind(host, port)?;
    let options = ServerOptions {
        workers: Some(1),
        shutdown_timeout,
        cors_origins: Vec::new(),
    };
    let scaffold = Scaffold {
        openapi: None,
        pool,
        serves_metrics: true,
    };
    Ok((serve(listener, &options, scaffold, routes)?, port))
}

/// `GET /metrics` in the Prometheus text format, with the pool gauges sampled now.
async fn metrics(scrape: web::Data<Scrape>) -> HttpResponse {
    pool_metrics::sample(&scrape.pool);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(scrape.handle.render())
}

async fn openapi_document(document: web::Data<OpenApiDocument>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document.0.clone())
}

/// Serves until the process is asked to stop, then stops accepting connections and lets
/// in-flight requests finish within each server's shutdown timeout, in the order given (the
/// public API first, so the admin listener reports on the drain until it is done). Returns
/// early if a server fails on its own.
pub async fn until_stopped(servers: Vec<Server>) -> anyhow::Result<()> {
    let handles: Vec<_> = servers.iter().map(Server::handle).collect();
    let mut running: futures::stream::FuturesUnordered<_> =
        servers.into_iter().map(tokio::spawn).collect();
    tokio::select! {
        Some(result) = running.next() => result??,
        () = crate::shutdown::signal() => {
            for handle in &handles {
                handle.stop(true).await;
            }
            while let Some(result) = running.next().await {
                result??;
            }
        }
    }
    Ok(())
}
