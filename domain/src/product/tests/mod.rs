//! Table tests of the product rules: given a history, when an actor sends a command, then events
//! or an error.

use uuid::Uuid;

use super::*;
use crate::refusal::Refusal;
use crate::testing::given;
use crate::values::{
    CategorySlug, Currency, Description, Money, ProductName, Role, Sku, StockReason,
};

mod access;

const MUG: Uuid = Uuid::from_u128(0x3a6);
const SELLER: Uuid = Uuid::from_u128(0x5e1);
const RIVAL: Uuid = Uuid::from_u128(0x41a1);
const ROOT: Uuid = Uuid::from_u128(0xad31);
const SHOPPER: Uuid = Uuid::from_u128(0x5409);

fn user(id: Uuid, role: Role) -> Actor {
    Actor::User {
        id,
        role,
        active: true,
    }
}

fn seller() -> Actor {
    user(SELLER, Role::Seller)
}

fn admin() -> Actor {
    user(ROOT, Role::Admin)
}

fn eur(cents: i64) -> Money {
    Money::new(cents, Currency::EUR).unwrap()
}

fn reason(text: &str) -> StockReason {
    StockReason::parse(text).unwrap()
}

fn create(seller_id: Uuid, initial_stock: i64) -> ProductCommand {
    ProductCommand::Create {
        product_id: MUG,
        seller_id,
        sku: Sku::parse("mug-350").unwrap(),
        name: ProductName::parse("Mug").unwrap(),
        description: Description::parse("Stoneware.").unwrap(),
        category: CategorySlug::parse("kitchen").unwrap(),
        price: eur(1299),
        initial_stock,
    }
}

fn created(initial_stock: i64) -> ProductEvent {
    ProductCreated {
        product_id: MUG,
        seller_id: SELLER,
        sku: Sku::parse("MUG-350").unwrap(),
        name: ProductName::parse("Mug").unwrap(),
        description: Description::parse("Stoneware.").unwrap(),
        category: CategorySlug::parse("kitchen").unwrap(),
        price: eur(1299),
        initial_stock,
    }
    .into()
}

fn published() -> ProductEvent {
    ProductPublished { product_id: MUG }.into()
}

fn archived() -> ProductEvent {
    ProductArchived { product_id: MUG }.into()
}

fn adjust(delta: i64) -> ProductCommand {
    ProductCommand::AdjustStock {
        delta,
        reason: reason("recount"),
    }
}

/// Every command but `Create`, for rules that hold for all of them.
fn changes() -> Vec<ProductCommand> {
    vec![
        ProductCommand::UpdateDetails {
            name: Some(ProductName::parse("Big mug").unwrap()),
            description: None,
            category: None,
        },
        ProductCommand::ChangePrice { price: eur(999) },
        adjust(5),
        ProductCommand::Publish,
        ProductCommand::Unpublish,
        ProductCommand::Archive,
    ]
}

#[test]
fn create_by_the_seller_admin_or_system_records_a_draft() {
    for actor in [seller(), admin(), Actor::System] {
        let state = given::<Product>([])
            .when(actor, create(SELLER, 10))
            .then([created(10)]);
        assert_eq!(state.status, ProductStatus::Draft);
        assert_eq!(state.stock, 10);
        assert_eq!(state.seller_id, Some(SELLER));
        assert_eq!(state.sku.unwrap().as_str(), "MUG-350");
    }
}

#[test]
fn create_twice_is_refused() {
    given::<Product>([created(1)])
        .when(seller(), create(SELLER, 1))
        .then_error(ProductError::AlreadyExists);
}

#[test]
fn initial_stock_must_be_within_bounds() {
    for initial_stock in [-1, MAX_STOCK + 1, i64::MIN, i64::MAX] {
        given::<Product>([])
            .when(seller(), create(SELLER, initial_stock))
            .then_error(ProductError::InvalidInitialStock { max: MAX_STOCK });
    }
    for initial_stock in [0, MAX_STOCK] {
        given::<Product>([])
            .when(seller(), create(SELLER, initial_stock))
            .then([created(initial_stock)]);
    }
}

#[test]
fn update_details_records_the_full_new_details() {
    let state = given::<Product>([created(1)])
        .when(
            seller(),
            ProductCommand::UpdateDetails {
                name: None,
                description: Some(Description::parse("Porcelain.").unwrap()),
                category: None,
            },
        )
        .then([ProductDetailsUpdated {
            product_id: MUG,
            name: ProductName::parse("Mug").unwrap(),
            description: Description::parse("Porcelain.").unwrap(),
            category: CategorySlug::parse("kitchen").unwrap(),
        }
        .into()]);
    assert_eq!(state.description.unwrap().as_str(), "Porcelain.");
}

#[test]
fn update_details_with_the_same_values_records_nothing() {
    given::<Product>([created(1)])
        .when(
            seller(),
            ProductCommand::UpdateDetails {
                name: Some(ProductName::parse("Mug").unwrap()),
                description: None,
                category: Some(CategorySlug::parse("kitchen").unwrap()),
            },
        )
        .then_nothing();
}

#[test]
fn update_details_without_any_field_is_refused() {
    given::<Product>([created(1)])
        .when(
            seller(),
            ProductCommand::UpdateDetails {
                name: None,
                description: None,
                category: None,
            },
        )
        .then_error(ProductError::NothingToUpdate);
}

#[test]
fn change_price_records_the_previous_price() {
    let state = given::<Product>([created(1), published()])
        .when(admin(), ProductCommand::ChangePrice { price: eur(1499) })
        .then([ProductPriceChanged {
            product_id: MUG,
            previous_price: eur(1299),
            price: eur(1499),
        }
        .into()]);
    assert_eq!(state.price, Some(eur(1499)));
}

#[test]
fn change_price_to_the_same_price_records_nothing() {
    given::<Product>([created(1)])
        .when(seller(), ProductCommand::ChangePrice { price: eur(1299) })
        .then_nothing();
}

#[test]
fn adjust_stock_records_the_new_level() {
    let state = given::<Product>([created(10)])
        .when(seller(), adjust(-10))
        .then([ProductStockAdjusted {
            product_id: MUG,
            delta: -10,
            reason: reason("recount"),
            stock: 0,
        }
        .into()]);
    assert_eq!(state.stock, 0);
}

#[test]
fn stock_cannot_go_negative() {
    given::<Product>([created(10)])
        .when(seller(), adjust(-11))
        .then_error(ProductError::InsufficientStock {
            available: 10,
            requested: 11,
        });
    given::<Product>([created(10)])
        .when(Actor::System, adjust(i64::MIN))
        .then_error(ProductError::InsufficientStock {
            available: 10,
            requested: 1 << 63,
        });
}

#[test]
fn stock_cannot_exceed_the_limit() {
    for delta in [MAX_STOCK, i64::MAX] {
        given::<Product>([created(1)])
            .when(seller(), adjust(delta))
            .then_error(ProductError::StockLimitExceeded { max: MAX_STOCK });
    }
}

#[test]
fn a_zero_stock_adjustment_is_refused() {
    given::<Product>([created(1)])
        .when(seller(), adjust(0))
        .then_error(ProductError::InvalidDelta);
}

#[test]
fn publish_and_unpublish_move_between_draft_and_published() {
    let state = given::<Product>([created(1)])
        .when(seller(), ProductCommand::Publish)
        .then([published()]);
    assert_eq!(state.status, ProductStatus::Published);
    let state = given::<Product>([created(1), published()])
        .when(seller(), ProductCommand::Unpublish)
        .then([ProductUnpublished { product_id: MUG }.into()]);
    assert_eq!(state.status, ProductStatus::Draft);
}

#[test]
fn publish_when_published_and_unpublish_when_draft_record_nothing() {
    given::<Product>([created(1), published()])
        .when(seller(), ProductCommand::Publish)
        .then_nothing();
    given::<Product>([created(1)])
        .when(seller(), ProductCommand::Unpublish)
        .then_nothing();
}

#[test]
fn archive_works_from_draft_or_published() {
    for history in [vec![created(1)], vec![created(1), published()]] {
        let state = given::<Product>(history)
            .when(seller(), ProductCommand::Archive)
            .then([archived()]);
        assert_eq!(state.status, ProductStatus::Archived);
    }
}

#[test]
fn state_serialises_for_the_audit_endpoint() {
    let state = Product::fold(&[created(7), published()]);
    let json = product_state_json(&state);
    assert_eq!(json["status"], "published");
    assert_eq!(json["stock"], 7);
    assert_eq!(json["price"]["amount_minor"], 1299);
    assert_eq!(json["sku"], "MUG-350");
    assert_eq!(
        product_state_json(&ProductState::default())["status"],
        "not_created"
    );
}

#[test]
fn error_codes_are_distinct() {
    let errors = [
        ProductError::NotFound,
        ProductError::AlreadyExists,
        ProductError::Archived,
        ProductError::ActorDeactivated,
        ProductError::Forbidden,
        ProductError::InvalidInitialStock { max: MAX_STOCK },
        ProductError::InvalidDelta,
        ProductError::InsufficientStock {
            available: 1,
            requested: 2,
        },
        ProductError::StockLimitExceeded { max: MAX_STOCK },
        ProductError::NothingToUpdate,
    ];
    let mut codes: Vec<&str> = errors.iter().map(ProductError::code).collect();
    assert!(
        codes
            .iter()
            .all(|c| c.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
    );
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), errors.len());
}
