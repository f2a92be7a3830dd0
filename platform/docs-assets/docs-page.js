// Starts the API reference at /docs: Swagger UI renders the document this same service serves at
// /openapi.json. It is a file of its own, not an inline script, so that the page's
// Content-Security-Policy can allow scripts from 'self' only (see platform/src/docs_page.rs).
"use strict";

window.ui = SwaggerUIBundle({
  // Relative: /docs reads /openapi.json, and the same page served under a prefix
  // (/command-api/docs on the one public host) reads that prefix's document.
  url: "openapi.json",
  dom_id: "#api-reference",
  // Swagger UI's default sends the document's URL to an online validator and shows its badge;
  // the page must make no request beyond its own service.
  validatorUrl: null,
  // Links to an operation (#/products/listProducts) open it, so they can be shared.
  deepLinking: true,
});
