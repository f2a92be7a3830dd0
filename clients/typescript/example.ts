// A product's round trip through both services with the generated types: sign in, create, read, reprice, read again.
//
// Run against a running stack (see README.md here):
//   COMMAND_API_URL=... QUERY_API_URL=... CC_EMAIL=... CC_PASSWORD=... npm run example
// Every request and response below is checked by tsc against openapi/*.json: a renamed path, a
// new required field or a removed property fails `check.sh` before it fails a customer.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths as CommandPaths } from "./generated/command-api.js";
import type { components, paths as QueryPaths } from "./generated/query-api.js";

type Product = components["schemas"]["ProductDetail"];

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

// The services answer errors as application/problem+json; its `detail` says what went wrong.
function fail(step: string, status: number, problem: unknown): never {
  throw new Error(`${step}: HTTP ${status} ${JSON.stringify(problem)}`);
}

// One token for both services: query-api shows drafts only to their seller or an admin.
function bearer(token: string): Middleware {
  return {
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  };
}

async function main(): Promise<void> {
  const command = createClient<CommandPaths>({ baseUrl: env("COMMAND_API_URL") });
  const query = createClient<QueryPaths>({ baseUrl: env("QUERY_API_URL") });

  const session = await command.POST("/v1/sessions", {
    body: { email: env("CC_EMAIL"), password: env("CC_PASSWORD") },
  });
  if (!session.data) fail("sign in", session.response.status, session.error);
  command.use(bearer(session.data.access_token));
  query.use(bearer(session.data.access_token));

  // A retried create with the same key answers the first result instead of a second product.
  const sku = `EX-${Date.now()}`;
  const created = await command.POST("/v1/products", {
    params: { header: { "Idempotency-Key": `create-${sku}` } },
    body: {
      sku,
      name: "Example kettle",
      category: "kitchen",
      price: { amount_minor: 2599, currency: "EUR" },
      stock: 10,
    },
  });
  if (!created.data) fail("create product", created.response.status, created.error);
  const id = created.data.id;
  console.log(`created ${id} at version ${created.data.version}`);

  // The read side is eventually consistent: the token makes it wait until this write is applied.
  const first = await readProduct(query, id, created.response.headers.get("Consistency-Token"));
  console.log(`read ${first.product.name} at ${formatPrice(first.product)}, ETag ${first.etag}`);

  // If-Match turns a lost update into 412 when someone changed the product since our read.
  const repriced = await command.PUT("/v1/products/{id}/price", {
    params: {
      path: { id },
      header: { "If-Match": first.etag, "Idempotency-Key": `price-${sku}` },
    },
    body: { amount_minor: 2299, currency: "EUR" },
  });
  if (!repriced.data) fail("change price", repriced.response.status, repriced.error);
  console.log(`repriced to version ${repriced.data.version}`);

  const second = await readProduct(query, id, repriced.response.headers.get("Consistency-Token"));
  console.log(`read again at ${formatPrice(second.product)}, ETag ${second.etag}`);
}

async function readProduct(
  query: ReturnType<typeof createClient<QueryPaths>>,
  id: string,
  consistencyToken: string | null,
): Promise<{ product: Product; etag: string }> {
  const header = consistencyToken ? { "Consistency-Token": consistencyToken } : {};
  const read = await query.GET("/v1/products/{id}", { params: { path: { id }, header } });
  if (!read.data) fail("read product", read.response.status, read.error);
  const etag = read.response.headers.get("ETag");
  if (!etag) throw new Error("read product: no ETag");
  return { product: read.data, etag };
}

function formatPrice(product: Product): string {
  return `${(product.price.amount_minor / 100).toFixed(2)} ${product.price.currency}`;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
