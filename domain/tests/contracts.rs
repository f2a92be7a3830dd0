//! The event contracts: every catalog example decodes, re-encodes to the same JSON and satisfies
//! its own schema, and so does a real event of every type as `decide` produces it.

use std::collections::BTreeSet;

use domain::values::{
    CategorySlug, Currency, Description, DisplayName, Email, Money, ProductName, Role, Sku,
    StockReason,
};
use domain::{
    Actor, Aggregate, DomainEvent, EventDecodeError, EventTypeInfo, Product, ProductCommand,
    ProductEvent, User, UserCommand, UserEvent,
};
use serde_json::{Value, json};
use uuid::Uuid;

fn validates(info: &EventTypeInfo, payload: &Value) {
    let schema = (info.schema)();
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("schema of {} does not compile: {e}", info.event_type));
    let errors: Vec<String> = validator
        .iter_errors(payload)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{} payload {payload} breaks its schema: {errors:?}",
        info.event_type
    );
}

/// The examples of `E` decode, keep their type, re-encode unchanged and satisfy their schemas.
fn check_catalog<E: DomainEvent>(prefix: &str) -> Vec<EventTypeInfo> {
    let catalog = E::catalog();
    let names: BTreeSet<&str> = catalog.iter().map(|info| info.event_type).collect();
    assert_eq!(names.len(), catalog.len(), "event type names are unique");
    for info in &catalog {
        assert!(info.event_type.starts_with(prefix), "{}", info.event_type);
        // Sealing personal fields moved their types to v2; every other type is at v1.
        let expected = if info.personal_fields.is_empty() {
            1
        } else {
            2
        };
        assert_eq!(info.schema_version, expected, "{}", info.event_type);
        if let Some(plaintext) = info.plaintext_version {
            let old =
                E::from_stored(info.event_type, plaintext, (info.example)()).unwrap_or_else(|e| {
                    panic!("v{plaintext} of {} does not decode: {e}", info.event_type)
                });
            assert_eq!(old.to_payload(), (info.example)(), "{}", info.event_type);
        }
        let example = (info.example)();
        let event = E::from_stored(info.event_type, info.schema_version, example.clone())
            .unwrap_or_else(|e| panic!("example of {} does not decode: {e}", info.event_type));
        assert_eq!(event.event_type(), info.event_type);
        assert_eq!(event.schema_version(), info.schema_version);
        assert_eq!(
            event.to_payload(),
            example,
            "{} round trip",
            info.event_type
        );
        validates(info, &example);
        let schema = (info.schema)();
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{}",
            info.event_type
        );
    }
    catalog
}

/// Each real event validates against the schema of its own type, and every type is covered.
fn check_real_events<E: DomainEvent>(events: &[E]) {
    let catalog = E::catalog();
    for event in events {
        let info = catalog
            .iter()
            .find(|info| info.event_type == event.event_type())
            .unwrap_or_else(|| panic!("{} is not in the catalog", event.event_type()));
        validates(info, &event.to_payload());
    }
    let seen: BTreeSet<&str> = events.iter().map(|e| e.event_type()).collect();
    let all: BTreeSet<&str> = catalog.iter().map(|info| info.event_type).collect();
    assert_eq!(seen, all, "the scenario covers every event type");
}

/// Runs commands through decide+evolve, collecting every event.
fn run<A: Aggregate>(commands: Vec<(Actor, A::Command)>) -> Vec<A::Event>
where
    A::Error: std::fmt::Debug,
{
    let mut state = A::State::default();
    let mut history = Vec::new();
    for (actor, command) in commands {
        let events = A::decide(&state, &actor, command).expect("scenario command accepted");
        state = events.iter().fold(state, A::evolve);
        history.extend(events);
    }
    history
}

#[test]
fn user_catalog_examples_round_trip_and_match_their_schemas() {
    let catalog = check_catalog::<UserEvent>("user.");
    let names: Vec<&str> = catalog.iter().map(|info| info.event_type).collect();
    assert_eq!(
        names,
        [
            "user.registered",
            "user.display_name_changed",
            "user.password_changed",
            "user.role_assigned",
            "user.deactivated",
            "user.email_verification_requested",
            "user.email_verified",
            "user.password_reset_requested",
            "user.password_reset",
            "user.erased"
        ]
    );
}

#[test]
fn product_catalog_examples_round_trip_and_match_their_schemas() {
    let catalog = check_catalog::<ProductEvent>("product.");
    let names: Vec<&str> = catalog.iter().map(|info| info.event_type).collect();
    assert_eq!(
        names,
        [
            "product.created",
            "product.details_updated",
            "product.price_changed",
            "product.stock_adjusted",
            "product.published",
            "product.unpublished",
            "product.archived"
        ]
    );
}

#[test]
fn real_user_events_match_their_schemas() {
    let ada = Uuid::now_v7();
    let admin = Actor::User {
        id: Uuid::now_v7(),
        role: Role::Admin,
        active: true,
    };
    let events = run::<User>(vec![
        (
            Actor::Anonymous,
            UserCommand::Register {
                user_id: ada,
                email: Email::parse("Grace.Hopper@Navy.example.mil").unwrap(),
                display_name: DisplayName::parse("Grace Hopper").unwrap(),
            },
        ),
        (
            admin,
            UserCommand::ChangeDisplayName {
                display_name: DisplayName::parse("Rear Admiral Hopper").unwrap(),
            },
        ),
        (admin, UserCommand::ChangePassword),
        (admin, UserCommand::RequestEmailVerification),
        (Actor::Anonymous, UserCommand::VerifyEmail),
        (Actor::Anonymous, UserCommand::RequestPasswordReset),
        (Actor::Anonymous, UserCommand::ResetPassword),
        (admin, UserCommand::AssignRole { role: Role::Seller }),
        (admin, UserCommand::Deactivate),
        (admin, UserCommand::ErasePersonalData),
    ]);
    check_real_events(&events);
}

#[test]
fn real_product_events_match_their_schemas() {
    let seller_id = Uuid::now_v7();
    let seller = Actor::User {
        id: seller_id,
        role: Role::Seller,
        active: true,
    };
    let events = run::<Product>(vec![
        (
            seller,
            ProductCommand::Create {
                product_id: Uuid::now_v7(),
                seller_id,
                sku: Sku::parse("tea-earl-grey-100g").unwrap(),
                name: ProductName::parse("Earl Grey, loose leaf, 100 g").unwrap(),
                description: Description::parse("").unwrap(),
                category: CategorySlug::parse("Tea").unwrap(),
                price: Money::new(650, Currency::GBP).unwrap(),
                initial_stock: 0,
            },
        ),
        (
            seller,
            ProductCommand::UpdateDetails {
                name: None,
                description: Some(Description::parse("Bergamot.\nBlack tea.").unwrap()),
                category: None,
            },
        ),
        (
            seller,
            ProductCommand::ChangePrice {
                price: Money::new(1200, Currency::JPY).unwrap(),
            },
        ),
        (
            seller,
            ProductCommand::AdjustStock {
                delta: 1_000_000_000,
                reason: StockReason::parse("container arrived").unwrap(),
            },
        ),
        (seller, ProductCommand::Publish),
        (seller, ProductCommand::Unpublish),
        (Actor::System, ProductCommand::Archive),
    ]);
    check_real_events(&events);
}

#[test]
fn no_user_event_schema_has_a_field_for_a_secret() {
    for info in UserEvent::catalog() {
        let schema = (info.schema)();
        let fields = schema["properties"].as_object().expect("object schema");
        for field in fields.keys() {
            for secret in ["password", "hash", "secret", "token", "salt"] {
                assert!(!field.contains(secret), "{} has {field}", info.event_type);
            }
        }
    }
}

#[test]
fn payloads_tolerate_unknown_fields() {
    let mut payload = json!({ "user_id": Uuid::nil(), "added_in_v1_1": true });
    let event = UserEvent::from_stored("user.deactivated", 1, payload.clone()).unwrap();
    payload.as_object_mut().unwrap().remove("added_in_v1_1");
    assert_eq!(event.to_payload(), payload);
}

#[test]
fn unknown_types_and_versions_are_refused() {
    let payload = json!({ "product_id": Uuid::nil() });
    for (event_type, version) in [("product.published", 2), ("product.deleted", 1)] {
        let error = ProductEvent::from_stored(event_type, version, payload.clone()).unwrap_err();
        assert!(
            matches!(error, EventDecodeError::UnknownType { .. }),
            "{error}"
        );
    }
    // A user event name is not a product event.
    assert!(ProductEvent::from_stored("user.deactivated", 1, payload).is_err());
}

#[test]
fn stored_payloads_are_validated_on_the_way_in() {
    let bad = [
        (
            "product.price_changed",
            json!({
                "product_id": Uuid::nil(),
                "previous_price": { "amount_minor": 100, "currency": "EUR" },
                "price": { "amount_minor": 0, "currency": "EUR" }
            }),
        ),
        (
            "product.stock_adjusted",
            json!({
                "product_id": Uuid::nil(), "delta": 1, "reason": "", "stock": 1
            }),
        ),
        ("product.archived", json!({})),
    ];
    for (event_type, payload) in bad {
        let error = ProductEvent::from_stored(event_type, 1, payload).unwrap_err();
        assert!(
            matches!(error, EventDecodeError::BadPayload { .. }),
            "{event_type}: {error}"
        );
    }
    let error = UserEvent::from_stored(
        "user.registered",
        1,
        json!({ "user_id": Uuid::nil(), "email": "nope", "display_name": "X", "role": "customer" }),
    )
    .unwrap_err();
    assert!(error.to_string().contains("email"), "{error}");
}
