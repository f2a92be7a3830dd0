//! Properties that hold for any sequence of commands from any actor: stock never negative, prices
//! always positive, nothing after archive or deactivation, only permitted actors change anything,
//! and replaying the recorded events rebuilds exactly the state kept along the way.

use domain::product::MAX_STOCK;
use domain::values::{
    CategorySlug, Currency, Description, DisplayName, Email, Money, ProductName, Role, Sku,
    StockReason,
};
use domain::{
    Actor, Aggregate, DomainEvent, Product, ProductCommand, ProductEvent, ProductState,
    ProductStatus, User, UserCommand, UserEvent, UserState,
};
use proptest::prelude::*;
use proptest::sample::select;
use uuid::Uuid;

const SELLER: Uuid = Uuid::from_u128(0x5e1);
const RIVAL: Uuid = Uuid::from_u128(0x41a1);
const ADMIN: Uuid = Uuid::from_u128(0xad31);
const SHOPPER: Uuid = Uuid::from_u128(0x5409);

/// Who sends a command. Actors are fixed for the whole run, as a stale token would be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Seller,
    OtherSeller,
    Admin,
    Customer,
    DeactivatedSeller,
    System,
    Anonymous,
}

impl Who {
    fn actor(self) -> Actor {
        let user = |id, role, active| Actor::User { id, role, active };
        match self {
            Who::Seller => user(SELLER, Role::Seller, true),
            Who::OtherSeller => user(RIVAL, Role::Seller, true),
            Who::Admin => user(ADMIN, Role::Admin, true),
            Who::Customer => user(SHOPPER, Role::Customer, true),
            Who::DeactivatedSeller => user(SELLER, Role::Seller, false),
            Who::System => Actor::System,
            Who::Anonymous => Actor::Anonymous,
        }
    }
}

fn who() -> impl Strategy<Value = Who> {
    select(vec![
        Who::Seller,
        Who::OtherSeller,
        Who::Admin,
        Who::Customer,
        Who::DeactivatedSeller,
        Who::System,
        Who::Anonymous,
    ])
}

/// Round-trips an event through storage, as every recorded event will be.
fn survives_storage<E: DomainEvent>(event: &E) -> Result<(), TestCaseError> {
    let stored = E::from_stored(
        event.event_type(),
        event.schema_version(),
        event.to_payload(),
    );
    let stored = stored.ok();
    prop_assert_eq!(stored.as_ref(), Some(event));
    Ok(())
}

fn money() -> impl Strategy<Value = Money> {
    (1_i64..100_000, select(vec![Currency::EUR, Currency::JPY]))
        .prop_map(|(amount, currency)| Money::new(amount, currency).expect("valid sample"))
}

fn stock_amount() -> impl Strategy<Value = i64> {
    prop_oneof![
        8 => -80_i64..80,
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
        1 => Just(MAX_STOCK),
        1 => Just(-MAX_STOCK),
    ]
}

fn product_command() -> impl Strategy<Value = ProductCommand> {
    let name = select(vec!["Mug", "Big mug", "Cup"])
        .prop_map(|s| ProductName::parse(s).expect("valid sample"));
    let description = select(vec!["", "Stoneware.", "Porcelain.\nHand-made."])
        .prop_map(|s| Description::parse(s).expect("valid sample"));
    let category =
        select(vec!["kitchen", "tea"]).prop_map(|s| CategorySlug::parse(s).expect("valid sample"));
    let create = (select(vec![SELLER, RIVAL]), money(), stock_amount()).prop_map(
        |(seller_id, price, initial_stock)| ProductCommand::Create {
            product_id: Uuid::from_u128(0x3a6),
            seller_id,
            sku: Sku::parse("MUG-1").expect("valid sample"),
            name: ProductName::parse("Mug").expect("valid sample"),
            description: Description::parse("").expect("valid sample"),
            category: CategorySlug::parse("kitchen").expect("valid sample"),
            price,
            initial_stock,
        },
    );
    let update = (
        proptest::option::of(name),
        proptest::option::of(description),
        proptest::option::of(category),
    )
        .prop_map(
            |(name, description, category)| ProductCommand::UpdateDetails {
                name,
                description,
                category,
            },
        );
    prop_oneof![
        3 => create,
        2 => update,
        2 => money().prop_map(|price| ProductCommand::ChangePrice { price }),
        6 => stock_amount().prop_map(|delta| ProductCommand::AdjustStock {
            delta,
            reason: StockReason::parse("recount").expect("valid sample"),
        }),
        2 => Just(ProductCommand::Publish),
        2 => Just(ProductCommand::Unpublish),
        1 => Just(ProductCommand::Archive),
    ]
}

/// Whether `who` may change a product in `state` at all (creating counts when it is new).
fn may_change_product(who: Who, state: &ProductState, command: &ProductCommand) -> bool {
    let own = |id| match command {
        ProductCommand::Create { seller_id, .. } => *seller_id == id,
        _ => state.seller_id == Some(id),
    };
    match who {
        Who::Admin | Who::System => true,
        Who::Seller => own(SELLER),
        Who::OtherSeller => own(RIVAL),
        Who::Customer | Who::DeactivatedSeller | Who::Anonymous => false,
    }
}

fn user_command() -> impl Strategy<Value = UserCommand> {
    let register = select(vec![
        "ada@example.com",
        "ADA@example.com",
        "grace@example.org",
    ])
    .prop_map(|email| UserCommand::Register {
        user_id: SELLER,
        email: Email::parse(email).expect("valid sample"),
        display_name: DisplayName::parse("Ada").expect("valid sample"),
    });
    prop_oneof![
        2 => register,
        3 => select(vec!["Ada", "Augusta", "A. Lovelace"]).prop_map(|name| {
            UserCommand::ChangeDisplayName { display_name: DisplayName::parse(name).expect("valid sample") }
        }),
        2 => Just(UserCommand::ChangePassword),
        3 => select(Role::ALL.to_vec()).prop_map(|role| UserCommand::AssignRole { role }),
        1 => Just(UserCommand::Deactivate),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn product_invariants_hold_for_any_command_sequence(
        steps in proptest::collection::vec((who(), product_command()), 1..60)
    ) {
        let mut state = ProductState::default();
        let mut history: Vec<ProductEvent> = Vec::new();
        for (who, command) in steps {
            let allowed = may_change_product(who, &state, &command);
            let Ok(events) = Product::decide(&state, &who.actor(), command) else {
                continue;
            };
            if !events.is_empty() {
                prop_assert!(allowed, "{who:?} changed a product it may not touch");
            }
            prop_assert_ne!(state.status, ProductStatus::Archived, "accepted after archive");
            for event in &events {
                survives_storage(event)?;
                match event {
                    ProductEvent::PriceChanged(e) => {
                        prop_assert!(e.price.amount_minor() > 0);
                        prop_assert_ne!(e.price, e.previous_price);
                    }
                    ProductEvent::StockAdjusted(e) => prop_assert_ne!(e.delta, 0),
                    _ => {}
                }
                state = Product::evolve(state, event);
            }
            history.extend(events);
            prop_assert!((0..=MAX_STOCK).contains(&state.stock), "stock {}", state.stock);
            if let Some(price) = state.price {
                prop_assert!(price.amount_minor() > 0);
            }
        }
        if let Some(at) = history.iter().position(|e| matches!(e, ProductEvent::Archived(_))) {
            prop_assert_eq!(at, history.len() - 1, "events after archive");
        }
        prop_assert_eq!(Product::fold(&history), state);
    }

    #[test]
    fn user_invariants_hold_for_any_command_sequence(
        steps in proptest::collection::vec((0_u8..6, user_command()), 1..40)
    ) {
        let mut state = UserState::default();
        let mut history: Vec<UserEvent> = Vec::new();
        for (who, command) in steps {
            let actor = match who {
                // The user as their stream says they are now, and as a stale token says.
                0 => state.as_actor().unwrap_or(Actor::Anonymous),
                1 => Actor::User { id: SELLER, role: Role::Customer, active: true },
                2 => Actor::User { id: ADMIN, role: Role::Admin, active: true },
                3 => Actor::User { id: SHOPPER, role: Role::Seller, active: true },
                4 => Actor::System,
                _ => Actor::Anonymous,
            };
            let Ok(events) = User::decide(&state, &actor, command) else {
                continue;
            };
            if !events.is_empty() && state.is_registered() {
                prop_assert!(state.active, "event for a deactivated user");
                prop_assert!(
                    matches!(actor, Actor::System | Actor::User { role: Role::Admin, .. })
                        || actor.user_id() == state.id,
                    "{actor:?} changed someone else's account"
                );
            }
            for event in &events {
                survives_storage(event)?;
                match event {
                    UserEvent::Registered(_) => prop_assert!(!state.is_registered()),
                    UserEvent::RoleAssigned(e) => {
                        let by_admin = matches!(
                            actor,
                            Actor::System | Actor::User { role: Role::Admin, active: true, .. }
                        );
                        prop_assert!(by_admin, "{:?} assigned a role", actor);
                        prop_assert_ne!(e.role, e.previous_role);
                    }
                    _ => {}
                }
                state = User::evolve(state, event);
            }
            history.extend(events);
        }
        if let Some(at) = history.iter().position(|e| matches!(e, UserEvent::Deactivated(_))) {
            prop_assert_eq!(at, history.len() - 1, "events after deactivation");
        }
        prop_assert_eq!(User::fold(&history), state);
    }
}
