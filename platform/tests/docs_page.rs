//! `/docs`: the page names only its own assets, each asset answers with its type and a long
//! cache life, and inside the real scaffold the page gets its own Content-Security-Policy (the
//! scaffold's default would stop every script) while a service without a document has no page.

// A failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::Duration,
};

use actix_web::{App, http::StatusCode, test};
use platform::{
    db::DbSettings,
    server::{self, Scaffold, ServerOptions},
};
use serde_json::json;

/// The `src`/`href` values of an HTML page.
fn linked_urls(html: &str) -> Vec<&str> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attribute| html.split(attribute).skip(1))
        .filter_map(|rest| rest.split('"').next())
        .collect()
}

#[tokio::test]
async fn the_page_loads_only_its_own_assets_which_answer_with_their_type_and_a_year_of_cache() {
    let app = test::init_service(App::new().configure(platform::docs_page::routes)).await;

    let page = test::call_service(&app, test::TestRequest::get().uri("/docs").to_request()).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        page.headers().get("content-type").unwrap(),
        "text/html; charset=utf-8"
    );
    let policy = page.headers().get("content-security-policy").unwrap();
    let policy = policy.to_str().unwrap().to_owned();
    assert!(policy.contains("script-src 'self';"), "{policy}");
    assert!(policy.contains("style-src 'self';"), "{policy}");
    assert!(!policy.contains("unsafe"), "{policy}");
    let html = String::from_utf8(test::read_body(page).await.to_vec()).unwrap();

    let urls = linked_urls(&html);
    let assets: Vec<&str> = urls
        .iter()
        .copied()
        .filter(|url| url.starts_with("docs/"))
        .collect();
    assert_eq!(assets.len(), 3, "{html}");
    // Everything else is the empty `data:` icon that keeps browsers from asking for one.
    assert!(
        urls.iter()
            .all(|url| url.starts_with("docs/") || *url == "data:,"),
        "{html}"
    );

    for url in assets {
        let (expected_type, least_size) = if url.ends_with(".css") {
            ("text/css; charset=utf-8", 100_000)
        } else if url.contains("swagger-ui-bundle") {
            ("text/javascript; charset=utf-8", 1_000_000)
        } else {
            ("text/javascript; charset=utf-8", 200)
        };
        // Relative to the page at /docs, as a browser resolves it.
        let url = format!("/{url}");
        let response =
            test::call_service(&app, test::TestRequest::get().uri(&url).to_request()).await;
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            expected_type
        );
        assert_eq!(
            response.headers().get("cache-control").unwrap(),
            "public, max-age=31536000, immutable"
        );
        let size = test::read_body(response).await.len();
        assert!(size >= least_size, "{url}: {size} bytes");
    }
}

#[tokio::test]
async fn an_asset_by_another_name_is_not_found_and_the_renderer_is_gzipped_when_asked() {
    let app = test::init_service(App::new().configure(platform::docs_page::routes)).await;
    let stale = test::TestRequest::get()
        .uri("/docs/swagger-ui-bundle.000000000000.js")
        .to_request();
    assert_eq!(
        test::call_service(&app, stale).await.status(),
        StatusCode::NOT_FOUND
    );

    let page = test::call_service(&app, test::TestRequest::get().uri("/docs").to_request()).await;
    let html = String::from_utf8(test::read_body(page).await.to_vec()).unwrap();
    let renderer = linked_urls(&html)
        .into_iter()
        .find(|url| url.contains("swagger-ui-bundle"))
        .unwrap()
        .to_owned();
    let request = test::TestRequest::get()
        .uri(&format!("/{renderer}"))
        .insert_header(("accept-encoding", "gzip"))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.headers().get("content-encoding").unwrap(), "gzip");
    let size = test::read_body(response).await.len();
    assert!(size < 700_000, "{size} bytes gzipped");
}

/// `GET path` on `127.0.0.1:port` over a plain connection: the status line and headers
/// (lower-cased), without the body.
fn head_of(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer);
    answer
        .split("\r\n\r\n")
        .next()
        .unwrap()
        .to_ascii_lowercase()
}

/// Serves the scaffold on a free loopback port, with `openapi` as the service's document.
fn serve(openapi: Option<serde_json::Value>) -> u16 {
    let settings = DbSettings {
        // Never connected to: nothing here asks the pool for a connection.
        url: "postgres://nobody@127.0.0.1:1/nothing".to_owned().into(),
        password: None,
        pool_size: 1,
        statement_timeout: Duration::from_secs(1),
        acquire_timeout: Duration::from_secs(1),
        application_name: "docs-page-test".to_owned(),
        tls: platform::db_tls::TlsOverride::default(),
    };
    let scaffold = Scaffold {
        openapi,
        pool: settings.pool().unwrap(),
        serves_metrics: false,
    };
    let options = ServerOptions {
        workers: Some(1),
        shutdown_timeout: Duration::from_secs(1),
        cors_origins: Vec::new(),
    };
    let (listener, port) = server::bind("127.0.0.1", 0).unwrap();
    let server = server::serve(listener, &options, scaffold, |_| {}).unwrap();
    tokio::spawn(server);
    port
}

#[tokio::test]
async fn in_the_scaffold_the_page_has_its_own_policy_and_only_a_documented_service_has_one() {
    // A path parameter at the root would match `/docs` too if the document said so; it does not.
    let document = json!({
        "openapi": "3.1.0",
        "info": { "title": "things", "version": "1" },
        "paths": { "/v1/things/{id}": { "get": { "security": [{ "bearer": [] }] } } },
    });
    let documented = serve(Some(document));
    let undocumented = serve(None);

    let (page, missing) = tokio::task::spawn_blocking(move || {
        (head_of(documented, "/docs"), head_of(undocumented, "/docs"))
    })
    .await
    .unwrap();
    assert!(page.starts_with("http/1.1 200"), "{page}");
    assert!(page.contains("content-security-policy: default-src 'none'; script-src 'self';"));
    assert_eq!(page.matches("content-security-policy").count(), 1, "{page}");
    // The scaffold's other headers still apply.
    assert!(page.contains("x-content-type-options: nosniff"), "{page}");
    assert!(page.contains("x-frame-options: deny"), "{page}");
    assert!(page.contains("cache-control: no-store"), "{page}");
    assert!(missing.starts_with("http/1.1 404"), "{missing}");
}
