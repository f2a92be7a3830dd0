//! One API across two services: a write's `Location` answers on query-api, a read's `ETag` is
//! the `If-Match` of the next write, and a write asked with `Prefer: return=representation`
//! answers exactly what the read side then serves.

use e2e::{
    Stack,
    settings::PASSWORD,
    stack::{consistency_token, product_body},
};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

const REPRESENTATION: &str = "return=representation";

fn header(response: &Response, name: &str) -> String {
    response.headers()[name].to_str().unwrap().to_owned()
}

/// What the checks need of the stack, owned, so they can run in their own task (a failed
/// assertion there still lets the test stop the projector).
#[derive(Clone)]
struct Api {
    commands: String,
    queries: String,
    http: reqwest::Client,
}

impl Api {
    fn of(stack: &Stack) -> Self {
        Self {
            commands: stack.commands.clone(),
            queries: stack.queries.clone(),
            http: stack.http.clone(),
        }
    }

    /// The command-api URL of the resource query-api serves at `url`.
    fn command_url(&self, url: &str) -> String {
        url.replace(&self.queries, &self.commands)
    }
}

async fn sign_in(api: &Api, email: &str) -> String {
    let response = api
        .http
        .post(format!("{}/v1/sessions", api.commands))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// A GET on query-api that waits for `consistency`.
async fn read(stack: &Api, url: &str, bearer: &str, consistency: &str) -> Response {
    stack
        .http
        .get(url)
        .bearer_auth(bearer)
        .header("consistency-token", consistency)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn read_then_conditional_write_then_read_across_both_services() {
    let mut stack = Stack::start().await;
    let outcome = {
        let (_, seller) = stack.seller().await;
        let stack = Api::of(&stack);
        let checks = async move {
            let stack = &stack;
            // Created with the representation asked for: the body is the product itself.
            let created = stack
                .http
                .post(format!("{}/v1/products", stack.commands))
                .bearer_auth(&seller)
                .header("prefer", REPRESENTATION)
                .json(&product_body("ONE-API-1"))
                .send()
                .await
                .unwrap();
            assert_eq!(created.status(), StatusCode::CREATED);
            assert_eq!(header(&created, "preference-applied"), REPRESENTATION);
            let location = header(&created, "location");
            let token = consistency_token(&created);
            let written: Value = created.json().await.unwrap();
            assert_eq!(written["version"], 1);
            assert_eq!(written["status"], "draft");
            assert!(location.starts_with(&stack.queries), "{location}");

            // The Location answers, with what the write said, tagged with its version.
            let first = read(stack, &location, &seller, &token).await;
            assert_eq!(first.status(), StatusCode::OK);
            let etag = header(&first, "etag");
            assert_eq!(etag, "\"1\"");
            assert_eq!(first.json::<Value>().await.unwrap(), written);

            // The read's ETag is the next write's If-Match.
            let changed = stack
                .http
                .put(format!("{}/price", stack.command_url(&location)))
                .bearer_auth(&seller)
                .header("if-match", &etag)
                .header("prefer", REPRESENTATION)
                .json(&json!({ "amount_minor": 1999, "currency": "EUR" }))
                .send()
                .await
                .unwrap();
            assert_eq!(changed.status(), StatusCode::OK);
            let token = consistency_token(&changed);
            let written: Value = changed.json().await.unwrap();
            assert_eq!(written["version"], 2);
            assert_eq!(written["price"]["amount_minor"], 1999);

            let second = read(stack, &location, &seller, &token).await;
            assert_eq!(second.status(), StatusCode::OK);
            assert_eq!(header(&second, "etag"), "\"2\"");
            assert_eq!(second.json::<Value>().await.unwrap(), written);

            // The first read's tag is stale now: the write is refused, the read is not modified.
            let stale = stack
                .http
                .put(format!("{}/price", stack.command_url(&location)))
                .bearer_auth(&seller)
                .header("if-match", &etag)
                .json(&json!({ "amount_minor": 999, "currency": "EUR" }))
                .send()
                .await
                .unwrap();
            assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
            let unchanged = stack
                .http
                .get(&location)
                .bearer_auth(&seller)
                .header("if-none-match", "\"2\"")
                .send()
                .await
                .unwrap();
            assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);

            // A token naming a version that was never written is refused at once.
            let id = location.rsplit('/').next().unwrap();
            let never = read(stack, &location, &seller, &format!("{id}:99")).await;
            assert_eq!(never.status(), StatusCode::PRECONDITION_FAILED);
            let never: Value = never.json().await.unwrap();
            assert_eq!(never["code"], "consistency_token_unknown");
        };
        tokio::spawn(checks).await
    };
    stack.stop_projector().await.unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}

#[tokio::test]
async fn an_account_is_read_where_the_sign_up_points_by_its_owner_and_admins_only() {
    let mut stack = Stack::start().await;
    let outcome = {
        let admin = stack.admin_token().await;
        let other_email = format!("one-api-{}@example.com", Uuid::new_v4().simple());
        stack.register(&other_email).await;
        let other = stack.login(&other_email, PASSWORD).await;
        let stack = Api::of(&stack);
        let checks = async move {
            let stack = &stack;
            let email = format!("one-api-{}@example.com", Uuid::new_v4().simple());
            let signed_up = stack
                .http
                .post(format!("{}/v1/users", stack.commands))
                .header("prefer", REPRESENTATION)
                .json(&json!({ "email": email, "password": PASSWORD, "display_name": "Ada" }))
                .send()
                .await
                .unwrap();
            assert_eq!(signed_up.status(), StatusCode::CREATED);
            let location = header(&signed_up, "location");
            let token = consistency_token(&signed_up);
            let written: Value = signed_up.json().await.unwrap();
            assert_eq!(written["email"], email);
            assert_eq!(written["role"], "customer");
            let user = sign_in(stack, &email).await;

            let own = read(stack, &location, &user, &token).await;
            assert_eq!(own.status(), StatusCode::OK);
            assert_eq!(header(&own, "etag"), "\"1\"");
            assert_eq!(own.json::<Value>().await.unwrap(), written);
            let by_admin = read(stack, &location, &admin, &token).await;
            assert_eq!(by_admin.status(), StatusCode::OK);

            // Someone else's account is hidden, not forbidden.
            let hidden = read(stack, &location, &other, &token).await;
            assert_eq!(hidden.status(), StatusCode::NOT_FOUND);

            // A conditional change of the display name, answered as the account now is.
            let renamed = stack
                .http
                .patch(stack.command_url(&location))
                .bearer_auth(&user)
                .header("if-match", "\"1\"")
                .header("prefer", REPRESENTATION)
                .json(&json!({ "display_name": "Ada L." }))
                .send()
                .await
                .unwrap();
            assert_eq!(renamed.status(), StatusCode::OK);
            let token = consistency_token(&renamed);
            let written: Value = renamed.json().await.unwrap();
            assert_eq!(written["display_name"], "Ada L.");
            let again = read(stack, &location, &user, &token).await;
            assert_eq!(again.json::<Value>().await.unwrap(), written);
        };
        tokio::spawn(checks).await
    };
    stack.stop_projector().await.unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}
