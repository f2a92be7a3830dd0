//! HTTP routes of command-api, and the table that mounts them.

pub mod email_verification;
pub mod health;
pub mod jwks;
pub mod openapi;
pub mod password_resets;
pub mod products;
pub mod request_schemas;
pub mod sessions;
pub mod users;

use actix_web::web;

/// Mounts every route; the scaffold adds `/health/live`, `/openapi.json` and the 404.
/// `/health/ready` stays here too, with the verdict alone, for load balancers that check the API
/// port.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/health/ready", web::get().to(health::ready))
        .route("/.well-known/jwks.json", web::get().to(jwks::jwks))
        .service(
            web::scope("/v1")
                .route("/users", web::post().to(users::register))
                .route("/users/{id}", web::patch().to(users::update))
                .route("/users/{id}", web::delete().to(users::deactivate))
                .route("/users/{id}/role", web::put().to(users::assign_role))
                .route(
                    "/users/{id}/personal-data",
                    web::delete().to(users::erase_personal_data),
                )
                .route(
                    "/users/{id}/email-verification",
                    web::post().to(email_verification::verify),
                )
                .route(
                    "/users/{id}/email-verification-requests",
                    web::post().to(email_verification::request_mail),
                )
                .route("/password-resets", web::post().to(password_resets::request))
                .route(
                    "/password-resets/{token}",
                    web::post().to(password_resets::reset),
                )
                .route("/sessions", web::post().to(sessions::sign_in))
                .route("/sessions/refresh", web::post().to(sessions::refresh))
                .route("/sessions/current", web::delete().to(sessions::sign_out))
                .route("/products", web::post().to(products::create))
                .route("/products/{id}", web::patch().to(products::update_details))
                .route("/products/{id}", web::delete().to(products::archive))
                .route(
                    "/products/{id}/price",
                    web::put().to(products::change_price),
                )
                .route(
                    "/products/{id}/stock-adjustments",
                    web::post().to(products::adjust_stock),
                )
                .route("/products/{id}/publish", web::post().to(products::publish))
                .route(
                    "/products/{id}/unpublish",
                    web::post().to(products::unpublish),
                ),
        );
}

/// The admin listener's own route; the scaffold adds `/health/live` and `/metrics`.
pub fn configure_admin(config: &mut web::ServiceConfig) {
    config.route("/health/ready", web::get().to(health::ready_details));
}
