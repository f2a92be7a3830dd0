//! `/v1/products`: product commands for sellers (their own products) and admins.

use actix_web::{HttpRequest, HttpResponse, web};
use domain::{
    Actor,
    product::{Product, ProductCommand},
    values::{
        CategorySlug, Currency, Description, Money, ProductName, Sku, StockReason, ValueError,
    },
};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    auth::principal::SignedIn,
    command::{
        effects::Secrets,
        http::{CommandRequest, Reply, execute},
    },
    error::ApiError,
    request::{CommandHeaders, JsonBody, json_integer},
    state::AppState,
    validation::{Fields, checked},
};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceBody {
    /// Amount in the currency's minor unit (cents for EUR), greater than zero.
    #[schema(example = 2599)]
    #[serde(deserialize_with = "json_integer")]
    pub amount_minor: i64,
    /// ISO 4217 code.
    #[schema(example = "EUR")]
    pub currency: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProductBody {
    #[schema(example = "KET-001")]
    pub sku: String,
    #[schema(example = "Kettle")]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[schema(example = "kitchen")]
    pub category: String,
    pub price: PriceBody,
    /// Initial units in stock.
    #[schema(example = 10)]
    #[serde(deserialize_with = "json_integer")]
    pub stock: i64,
    /// Admins may create a product for a seller; sellers always create their own.
    pub seller_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProductBody {
    pub name: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockAdjustmentBody {
    /// Units added (positive) or removed (negative).
    #[schema(example = -2)]
    #[serde(deserialize_with = "json_integer")]
    pub delta: i64,
    #[schema(example = "sold")]
    pub reason: String,
}

fn parse_price(fields: &mut Fields, price: &PriceBody) -> Option<Money> {
    let currency = fields.check(Currency::parse(&price.currency))?;
    fields.check(Money::new(price.amount_minor, currency))
}

/// Runs product commands against `product_id`; every route below is this plus parsing.
async fn run(
    state: &AppState,
    req: &HttpRequest,
    caller: &SignedIn,
    raw_body: &[u8],
    product_id: Uuid,
    reply: Reply,
    plan: impl Fn(&Actor) -> Result<Vec<ProductCommand>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let headers = CommandHeaders::from_request(req)?;
    let request = CommandRequest {
        caller: caller.caller(),
        headers: &headers,
        body: raw_body,
    };
    execute::<Product, _>(state, request, product_id, reply, &Secrets::none(), plan).await
}

fn single(command: ProductCommand) -> Result<Vec<ProductCommand>, ApiError> {
    Ok(vec![command])
}

/// Creates a draft product.
#[utoipa::path(post, path = "/v1/products", tag = "products", operation_id = "create_product", request_body = CreateProductBody,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = crate::command::http::Accepted),
              (status = 400, body = platform::openapi::ProblemDoc),
              (status = 401, body = platform::openapi::ProblemDoc),
              (status = 403, body = platform::openapi::ProblemDoc),
              (status = 409, description = "SKU in use", body = platform::openapi::ProblemDoc)),
    security(("bearer" = [])))]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: SignedIn,
    body: JsonBody<CreateProductBody>,
) -> Result<HttpResponse, ApiError> {
    let b = &body.value;
    let mut fields = Fields::default();
    let sku = fields.check(Sku::parse(&b.sku));
    let name = fields.check(ProductName::parse(&b.name));
    let description = fields.check(Description::parse(&b.description));
    let category = fields.check(CategorySlug::parse(&b.category));
    let price = parse_price(&mut fields, &b.price);
    fields.finish()?;
    let (sku, name, description, category, price) = (
        checked(sku)?,
        checked(name)?,
        checked(description)?,
        checked(category)?,
        checked(price)?,
    );
    let product_id = Uuid::now_v7();
    let location = format!("{}/v1/products/{product_id}", state.read_api_url);
    run(
        &state,
        &req,
        &caller,
        &body.raw,
        product_id,
        Reply::created(location),
        |actor| {
            let seller_id = b
                .seller_id
                .or_else(|| actor.user_id())
                .ok_or(ApiError::Unauthenticated)?;
            single(ProductCommand::Create {
                product_id,
                seller_id,
                sku: sku.clone(),
                name: name.clone(),
                description: description.clone(),
                category: category.clone(),
                price,
                initial_stock: b.stock,
            })
        },
    )
    .await
}

/// Changes name, description and/or category.
#[utoipa::path(patch, path = "/v1/products/{id}", tag = "products", operation_id = "update_product_details", request_body = UpdateProductBody,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = crate::command::http::Accepted),
              (status = 400, body = platform::openapi::ProblemDoc),
              (status = 404, body = platform::openapi::ProblemDoc),
              (status = 412, body = platform::openapi::ProblemDoc)),
    security(("bearer" = [])))]
pub async fn update_details(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: SignedIn,
    path: web::Path<Uuid>,
    body: JsonBody<UpdateProductBody>,
) -> Result<HttpResponse, ApiError> {
    let b = &body.value;
    let mut fields = Fields::default();
    let name = fields.check_optional(b.name.as_deref(), ProductName::parse);
    let description = fields.check_optional(b.description.as_deref(), Description::parse);
    let category = fields.check_optional(b.category.as_deref(), CategorySlug::parse);
    if b.name.is_none() && b.description.is_none() && b.category.is_none() {
        fields.fail(ValueError::Invalid {
            field: "body",
            reason: "must change name, description or category",
        });
    }
    fields.finish()?;
    run(
        &state,
        &req,
        &caller,
        &body.raw,
        path.into_inner(),
        Reply::ok(),
        |_| {
            single(ProductCommand::UpdateDetails {
                name: name.clone(),
                description: description.clone(),
                category: category.clone(),
            })
        },
    )
    .await
}

/// Sets a new price.
#[utoipa::path(put, path = "/v1/products/{id}/price", tag = "products", request_body = PriceBody,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = crate::command::http::Accepted),
              (status = 400, body = platform::openapi::ProblemDoc),
              (status = 404, body = platform::openapi::ProblemDoc),
              (status = 409, body = platform::openapi::ProblemDoc),
              (status = 412, body = platform::openapi::ProblemDoc)),
    security(("bearer" = [])))]
pub async fn change_price(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: SignedIn,
    path: web::Path<Uuid>,
    body: JsonBody<PriceBody>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let price = parse_price(&mut fields, &body.value);
    fields.finish()?;
    let price = checked(price)?;
    run(
        &state,
        &req,
        &caller,
        &body.raw,
        path.into_inner(),
        Reply::ok(),
        |_| single(ProductCommand::ChangePrice { price }),
    )
    .await
}

/// Adds or removes stock; stock never goes below zero.
#[utoipa::path(post, path = "/v1/products/{id}/stock-adjustments", tag = "products", request_body = StockAdjustmentBody,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = crate::command::http::Accepted),
              (status = 400, body = platform::openapi::ProblemDoc),
              (status = 409, description = "Not enough stock", body = platform::openapi::ProblemDoc)),
    security(("bearer" = [])))]
pub async fn adjust_stock(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: SignedIn,
    path: web::Path<Uuid>,
    body: JsonBody<StockAdjustmentBody>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let reason = fields.check(StockReason::parse(&body.value.reason));
    fields.finish()?;
    let (delta, reason) = (body.value.delta, checked(reason)?);
    run(
        &state,
        &req,
        &caller,
        &body.raw,
        path.into_inner(),
        Reply::ok(),
        |_| {
            single(ProductCommand::AdjustStock {
                delta,
                reason: reason.clone(),
            })
        },
    )
    .await
}

macro_rules! bodiless_command {
    ($name:ident, $method:ident, $path:literal, $command:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path($method, path = $path, tag = "products", operation_id = concat!(stringify!($name), "_product"),
            params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
            responses((status = 200, body = crate::command::http::Accepted),
                      (status = 404, body = platform::openapi::ProblemDoc),
                      (status = 409, body = platform::openapi::ProblemDoc),
                      (status = 412, body = platform::openapi::ProblemDoc)),
            security(("bearer" = [])))]
        pub async fn $name(
            state: web::Data<AppState>,
            req: HttpRequest,
            caller: SignedIn,
            path: web::Path<Uuid>,
        ) -> Result<HttpResponse, ApiError> {
            run(&state, &req, &caller, &[], path.into_inner(), Reply::ok(), |_| {
                single($command)
            })
            .await
        }
    };
}

bodiless_command!(
    publish,
    post,
    "/v1/products/{id}/publish",
    ProductCommand::Publish,
    "Lists the product in the public catalog."
);
bodiless_command!(
    unpublish,
    post,
    "/v1/products/{id}/unpublish",
    ProductCommand::Unpublish,
    "Takes the product out of the public catalog."
);
bodiless_command!(
    archive,
    delete,
    "/v1/products/{id}",
    ProductCommand::Archive,
    "Archives the product for good."
);
