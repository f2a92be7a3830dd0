//! Who may change a product, and when nobody may: customers, other sellers, deactivated users,
//! missing and archived products.

use super::*;

#[test]
fn a_customer_cannot_create_products() {
    given::<Product>([])
        .when(user(SHOPPER, Role::Customer), create(SHOPPER, 1))
        .then_error(ProductError::Forbidden);
}

#[test]
fn anonymous_cannot_create_products() {
    given::<Product>([])
        .when(Actor::Anonymous, create(SELLER, 1))
        .then_error(ProductError::Forbidden);
}

#[test]
fn a_seller_cannot_create_a_product_for_another_seller() {
    given::<Product>([])
        .when(user(RIVAL, Role::Seller), create(SELLER, 1))
        .then_error(ProductError::Forbidden);
}

#[test]
fn a_deactivated_seller_cannot_create_products() {
    let actor = Actor::User {
        id: SELLER,
        role: Role::Seller,
        active: false,
    };
    given::<Product>([])
        .when(actor, create(SELLER, 1))
        .then_error(ProductError::ActorDeactivated);
}

#[test]
fn an_archived_product_refuses_every_command() {
    for actor in [seller(), admin(), Actor::System] {
        for command in changes() {
            given::<Product>([created(1), archived()])
                .when(actor, command)
                .then_error(ProductError::Archived);
        }
        given::<Product>([created(1), archived()])
            .when(actor, create(SELLER, 1))
            .then_error(ProductError::AlreadyExists);
    }
}

#[test]
fn a_seller_cannot_change_another_sellers_product() {
    for command in changes() {
        given::<Product>([created(1)])
            .when(user(RIVAL, Role::Seller), command)
            .then_error(ProductError::Forbidden);
    }
}

#[test]
fn customers_and_anonymous_cannot_change_products() {
    // Including the product's own seller after being demoted to customer.
    for actor in [
        user(SHOPPER, Role::Customer),
        user(SELLER, Role::Customer),
        Actor::Anonymous,
    ] {
        for command in changes() {
            given::<Product>([created(1)])
                .when(actor, command)
                .then_error(ProductError::Forbidden);
        }
    }
}

#[test]
fn a_deactivated_user_can_do_nothing() {
    for role in [Role::Seller, Role::Admin] {
        let actor = Actor::User {
            id: SELLER,
            role,
            active: false,
        };
        for command in changes() {
            given::<Product>([created(1)])
                .when(actor, command)
                .then_error(ProductError::ActorDeactivated);
        }
    }
}

#[test]
fn changing_a_product_that_does_not_exist_is_not_found() {
    for actor in [admin(), Actor::System] {
        for command in changes() {
            given::<Product>([])
                .when(actor, command)
                .then_error(ProductError::NotFound);
        }
    }
}
