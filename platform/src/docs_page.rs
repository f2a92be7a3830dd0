//! `/docs`: the API reference a person reads in a browser, rendered from the document the same
//! service serves at `/openapi.json`. The renderer is compiled into the binary, so the page works
//! wherever the service runs, with no request leaving it.
//!
//! The renderer is Swagger UI (npm `swagger-ui-dist`, pinned in `platform/docs-assets/`,
//! installed by `ci/stack/install.sh` and the Dockerfile, checked for by `build.rs`). Why it:
//! - it renders OpenAPI 3.1 (since 5.0), which both services' documents are;
//! - it is one script and one stylesheet: 1.9 MB in the binary, about 0.65 MB sent gzipped;
//! - its styles come from that stylesheet, so the page runs under a policy that allows scripts
//!   and styles from 'self' only. Redoc (styled-components) and Scalar (3.6 MB) insert `<style>`
//!   elements at run time and would need 'unsafe-inline' styles; Scalar also loads its fonts
//!   from its own CDN unless told not to, and Redoc's bundle names a CDN image;
//! - the bundle names no font, script or style host; its one default that calls out (the online
//!   validator badge) is switched off in `docs-assets/docs-page.js`.
//!
//! Each asset's URL carries a digest of its bytes, so browsers may keep it for a year and still
//! never run a stale renderer after an upgrade.

use std::sync::LazyLock;

use actix_web::{
    HttpResponse,
    http::header::{self, ContentType},
    middleware::Compress,
    web,
};
use sha2::{Digest, Sha256};

use crate::problem;

/// What the page may load: its own scripts and styles, the SVG icons Swagger UI's stylesheet
/// inlines as `data:` URLs, and (by fetch) `openapi.json` beside the page and the operations "Try it out" sends
/// to this same service. No inline script or style, no other origin, no framing.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// The URL names a digest of the content, so it never changes meaning.
const ASSET_CACHING: &str = "public, max-age=31536000, immutable";

/// One file the page loads, served at `/docs/<name>`.
#[derive(Debug)]
struct Asset {
    /// `swagger-ui.<digest>.css`: the file's stem, a digest of its bytes, its extension.
    name: String,
    content_type: &'static str,
    body: &'static [u8],
}

impl Asset {
    fn new(stem: &str, extension: &str, content_type: &'static str, body: &'static [u8]) -> Self {
        let digest: String = Sha256::digest(body)[..6]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        Self {
            name: format!("{stem}.{digest}.{extension}"),
            content_type,
            body,
        }
    }

    /// Relative to the page at `/docs`, so the page also works where a gateway serves it under a
    /// prefix (`/command-api/docs` on the one public host, k8s/gateway).
    fn url(&self) -> String {
        format!("docs/{}", self.name)
    }
}

/// The page's three assets, in the order the page names them.
struct Assets {
    stylesheet: Asset,
    renderer: Asset,
    start: Asset,
}

static ASSETS: LazyLock<Assets> = LazyLock::new(|| Assets {
    stylesheet: Asset::new(
        "swagger-ui",
        "css",
        "text/css; charset=utf-8",
        include_bytes!("../docs-assets/node_modules/swagger-ui-dist/swagger-ui.css"),
    ),
    renderer: Asset::new(
        "swagger-ui-bundle",
        "js",
        "text/javascript; charset=utf-8",
        include_bytes!("../docs-assets/node_modules/swagger-ui-dist/swagger-ui-bundle.js"),
    ),
    start: Asset::new(
        "docs-page",
        "js",
        "text/javascript; charset=utf-8",
        include_bytes!("../docs-assets/docs-page.js"),
    ),
});

/// The HTML of `/docs`. `defer` runs the two scripts in order once the page is parsed.
static PAGE: LazyLock<String> = LazyLock::new(|| {
    let assets = &*ASSETS;
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{stylesheet}">
<script src="{renderer}" defer></script>
<script src="{start}" defer></script>
</head>
<body>
<div id="api-reference"></div>
</body>
</html>
"#,
        stylesheet = assets.stylesheet.url(),
        renderer = assets.renderer.url(),
        start = assets.start.url(),
    )
});

/// Mounts `GET /docs` and `GET /docs/<asset>`; the scaffold calls it for a service that has a
/// document. Gzip here only: the renderer shrinks to about a third, and the API's own answers are
/// left as they are.
pub fn routes(config: &mut web::ServiceConfig) {
    config.service(
        web::scope("/docs")
            .wrap(Compress::default())
            .route("", web::get().to(page))
            .route("/{asset}", web::get().to(asset)),
    );
}

/// `GET /docs`. Not cached (the scaffold's `no-store` applies), so a browser always learns the
/// current asset names.
async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .insert_header((header::CONTENT_SECURITY_POLICY, PAGE_POLICY))
        .body(PAGE.as_str())
}

/// `GET /docs/<asset>`: one of the page's assets by its current name, else 404.
async fn asset(name: web::Path<String>) -> HttpResponse {
    let assets = &*ASSETS;
    let found = [&assets.stylesheet, &assets.renderer, &assets.start]
        .into_iter()
        .find(|asset| asset.name == *name);
    match found {
        Some(asset) => HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header((header::CACHE_CONTROL, ASSET_CACHING))
            .body(asset.body),
        None => problem::not_found().await,
    }
}
