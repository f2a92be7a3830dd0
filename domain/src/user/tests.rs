//! Table tests of the user rules: given a history, when an actor sends a command, then events or
//! an error.

use uuid::Uuid;

use super::*;
use crate::refusal::Refusal;
use crate::testing::given;
use crate::values::{DisplayName, Email, Role};

const ADA: Uuid = Uuid::from_u128(0xada);
const BOB: Uuid = Uuid::from_u128(0xb0b);
const ROOT: Uuid = Uuid::from_u128(0xad31);

fn name(text: &str) -> DisplayName {
    DisplayName::parse(text).unwrap()
}

fn user(id: Uuid, role: Role) -> Actor {
    Actor::User {
        id,
        role,
        active: true,
    }
}

fn ada() -> Actor {
    user(ADA, Role::Customer)
}

fn admin() -> Actor {
    user(ROOT, Role::Admin)
}

fn register(id: Uuid) -> UserCommand {
    UserCommand::Register {
        user_id: id,
        email: Email::parse("ada@example.com").unwrap(),
        display_name: name("Ada"),
    }
}

fn registered() -> UserEvent {
    UserRegistered {
        user_id: ADA,
        email: Some(Email::parse("ada@example.com").unwrap()),
        display_name: Some(name("Ada")),
        role: Role::Customer,
    }
    .into()
}

fn verified() -> UserEvent {
    UserEmailVerified { user_id: ADA }.into()
}

fn deactivated() -> UserEvent {
    UserDeactivated { user_id: ADA }.into()
}

/// Every command but `Register`, for rules that hold for all of them.
fn changes() -> Vec<UserCommand> {
    vec![
        UserCommand::ChangeDisplayName {
            display_name: name("Augusta"),
        },
        UserCommand::ChangePassword,
        UserCommand::AssignRole { role: Role::Seller },
        UserCommand::Deactivate,
    ]
}

#[test]
fn register_by_anonymous_records_an_active_customer() {
    let state = given::<User>([])
        .when(Actor::Anonymous, register(ADA))
        .then([registered()]);
    assert_eq!(state.id, Some(ADA));
    assert_eq!(state.role, Role::Customer);
    assert!(state.active);
    assert_eq!(state.email.unwrap().as_str(), "ada@example.com");
}

#[test]
fn register_by_system_or_active_admin_is_allowed() {
    for actor in [Actor::System, admin()] {
        given::<User>([])
            .when(actor, register(ADA))
            .then([registered()]);
    }
}

#[test]
fn register_by_signed_in_non_admin_is_forbidden() {
    for role in [Role::Customer, Role::Seller] {
        given::<User>([])
            .when(user(BOB, role), register(ADA))
            .then_error(UserError::Forbidden);
    }
}

#[test]
fn register_by_deactivated_admin_is_refused() {
    let actor = Actor::User {
        id: ROOT,
        role: Role::Admin,
        active: false,
    };
    given::<User>([])
        .when(actor, register(ADA))
        .then_error(UserError::ActorDeactivated);
}

#[test]
fn register_twice_is_refused() {
    for actor in [Actor::Anonymous, Actor::System, admin()] {
        given::<User>([registered()])
            .when(actor, register(ADA))
            .then_error(UserError::AlreadyRegistered);
    }
}

#[test]
fn change_display_name_by_self_admin_or_system_records_the_new_name() {
    for actor in [ada(), admin(), Actor::System] {
        let state = given::<User>([registered()])
            .when(
                actor,
                UserCommand::ChangeDisplayName {
                    display_name: name("Augusta"),
                },
            )
            .then([UserDisplayNameChanged {
                user_id: ADA,
                display_name: Some(name("Augusta")),
            }
            .into()]);
        assert_eq!(state.display_name, Some(name("Augusta")));
    }
}

#[test]
fn change_display_name_to_the_same_name_records_nothing() {
    given::<User>([registered()])
        .when(
            ada(),
            UserCommand::ChangeDisplayName {
                display_name: name("  Ada "),
            },
        )
        .then_nothing();
}

#[test]
fn change_password_always_records_an_event_without_a_secret() {
    for actor in [ada(), admin(), Actor::System] {
        let history = [registered(), UserPasswordChanged { user_id: ADA }.into()];
        given::<User>(history)
            .when(actor, UserCommand::ChangePassword)
            .then([UserPasswordChanged { user_id: ADA }.into()]);
    }
}

#[test]
fn assign_role_by_admin_or_system_records_the_previous_role() {
    for actor in [admin(), Actor::System] {
        let state = given::<User>([registered(), verified()])
            .when(actor, UserCommand::AssignRole { role: Role::Seller })
            .then([UserRoleAssigned {
                user_id: ADA,
                role: Role::Seller,
                previous_role: Role::Customer,
            }
            .into()]);
        assert_eq!(state.role, Role::Seller);
    }
}

#[test]
fn promoting_an_unverified_address_is_refused_but_for_the_system() {
    for role in [Role::Seller, Role::Admin] {
        given::<User>([registered()])
            .when(admin(), UserCommand::AssignRole { role })
            .then_error(UserError::EmailNotVerified);
        given::<User>([registered()])
            .when(Actor::System, UserCommand::AssignRole { role })
            .then([UserRoleAssigned {
                user_id: ADA,
                role,
                previous_role: Role::Customer,
            }
            .into()]);
    }
    // Stepping down needs no proof of anything.
    let admin_role = UserRoleAssigned {
        user_id: ADA,
        role: Role::Admin,
        previous_role: Role::Customer,
    };
    given::<User>([registered(), admin_role.into()])
        .when(admin(), UserCommand::AssignRole { role: Role::Seller })
        .then([UserRoleAssigned {
            user_id: ADA,
            role: Role::Seller,
            previous_role: Role::Admin,
        }
        .into()]);
    let seller = UserRoleAssigned {
        user_id: ADA,
        role: Role::Seller,
        previous_role: Role::Customer,
    };
    given::<User>([registered(), seller.into()])
        .when(
            admin(),
            UserCommand::AssignRole {
                role: Role::Customer,
            },
        )
        .then([UserRoleAssigned {
            user_id: ADA,
            role: Role::Customer,
            previous_role: Role::Seller,
        }
        .into()]);
}

#[test]
fn verifying_records_it_once_whoever_brings_the_token() {
    for actor in [Actor::Anonymous, ada(), user(BOB, Role::Customer)] {
        let state = given::<User>([registered()])
            .when(actor, UserCommand::VerifyEmail)
            .then([verified()]);
        assert!(state.email_verified);
        given::<User>([registered(), verified()])
            .when(actor, UserCommand::VerifyEmail)
            .then_nothing();
    }
}

#[test]
fn another_verification_mail_is_for_the_user_or_an_admin_until_verified() {
    for actor in [ada(), admin()] {
        given::<User>([registered()])
            .when(actor, UserCommand::RequestEmailVerification)
            .then([UserEmailVerificationRequested { user_id: ADA }.into()]);
        given::<User>([registered(), verified()])
            .when(actor, UserCommand::RequestEmailVerification)
            .then_error(UserError::EmailAlreadyVerified);
    }
    for actor in [Actor::Anonymous, user(BOB, Role::Customer)] {
        given::<User>([registered()])
            .when(actor, UserCommand::RequestEmailVerification)
            .then_error(UserError::Forbidden);
    }
}

#[test]
fn a_reset_is_requested_and_done_for_active_accounts_only() {
    given::<User>([registered()])
        .when(Actor::Anonymous, UserCommand::RequestPasswordReset)
        .then([UserPasswordResetRequested { user_id: ADA }.into()]);
    given::<User>([registered()])
        .when(Actor::Anonymous, UserCommand::ResetPassword)
        .then([UserPasswordReset { user_id: ADA }.into()]);
    for command in [
        UserCommand::RequestPasswordReset,
        UserCommand::ResetPassword,
        UserCommand::VerifyEmail,
    ] {
        given::<User>([registered(), deactivated()])
            .when(Actor::Anonymous, command.clone())
            .then_error(UserError::Deactivated);
        given::<User>([])
            .when(Actor::Anonymous, command)
            .then_error(UserError::NotFound);
    }
}

#[test]
fn assign_the_current_role_records_nothing() {
    given::<User>([registered()])
        .when(
            admin(),
            UserCommand::AssignRole {
                role: Role::Customer,
            },
        )
        .then_nothing();
}

#[test]
fn assign_role_by_anyone_but_an_admin_is_forbidden() {
    // Including a user promoting themself, and a seller promoting a customer.
    for actor in [ada(), user(ADA, Role::Seller), user(BOB, Role::Seller)] {
        given::<User>([registered()])
            .when(actor, UserCommand::AssignRole { role: Role::Admin })
            .then_error(UserError::Forbidden);
    }
}

#[test]
fn deactivate_by_self_admin_or_system_records_it() {
    for actor in [ada(), admin(), Actor::System] {
        let state = given::<User>([registered()])
            .when(actor, UserCommand::Deactivate)
            .then([deactivated()]);
        assert!(!state.active);
    }
}

#[test]
fn changing_another_users_account_is_forbidden() {
    for command in changes() {
        given::<User>([registered()])
            .when(user(BOB, Role::Seller), command)
            .then_error(UserError::Forbidden);
    }
}

#[test]
fn changing_an_unregistered_user_is_not_found_for_admins() {
    for actor in [admin(), Actor::System] {
        for command in changes() {
            given::<User>([])
                .when(actor, command)
                .then_error(UserError::NotFound);
        }
    }
}

#[test]
fn probing_an_unregistered_user_as_a_customer_is_forbidden_not_found() {
    for command in changes() {
        given::<User>([])
            .when(user(BOB, Role::Customer), command)
            .then_error(UserError::Forbidden);
    }
}

#[test]
fn anonymous_may_do_nothing_but_register() {
    for command in changes() {
        given::<User>([registered()])
            .when(Actor::Anonymous, command)
            .then_error(UserError::Forbidden);
    }
}

#[test]
fn a_deactivated_user_can_do_nothing() {
    let history = [registered(), deactivated()];
    let as_themself = Actor::User {
        id: ADA,
        role: Role::Customer,
        active: false,
    };
    for command in changes() {
        given::<User>(history.clone())
            .when(as_themself, command.clone())
            .then_error(UserError::ActorDeactivated);
        // Nor can anyone else do anything to the account.
        given::<User>(history.clone())
            .when(admin(), command)
            .then_error(UserError::Deactivated);
    }
    given::<User>(history)
        .when(Actor::Anonymous, register(ADA))
        .then_error(UserError::AlreadyRegistered);
}

#[test]
fn a_deactivated_admin_cannot_change_other_users() {
    let actor = Actor::User {
        id: ROOT,
        role: Role::Admin,
        active: false,
    };
    for command in changes() {
        given::<User>([registered()])
            .when(actor, command)
            .then_error(UserError::ActorDeactivated);
    }
}

#[test]
fn fold_rebuilds_the_current_state() {
    let history = [
        registered(),
        UserDisplayNameChanged {
            user_id: ADA,
            display_name: Some(name("Augusta")),
        }
        .into(),
        UserRoleAssigned {
            user_id: ADA,
            role: Role::Admin,
            previous_role: Role::Customer,
        }
        .into(),
        verified(),
        deactivated(),
    ];
    let state = User::fold(&history);
    assert_eq!(
        state,
        UserState {
            id: Some(ADA),
            email: Some(Email::parse("ada@example.com").unwrap()),
            display_name: Some(name("Augusta")),
            role: Role::Admin,
            active: false,
            email_verified: true,
            erased: false,
        }
    );
    assert_eq!(
        state.as_actor(),
        Some(Actor::User {
            id: ADA,
            role: Role::Admin,
            active: false
        })
    );
}

#[test]
fn the_user_or_an_admin_erases_personal_data_once_even_after_deactivation() {
    for actor in [ada(), admin(), Actor::System] {
        let state = given::<User>([registered(), deactivated()])
            .when(actor, UserCommand::ErasePersonalData)
            .then([UserErased { user_id: ADA }.into()]);
        assert!(state.erased && !state.active);
        assert_eq!((state.email, state.display_name), (None, None));
        given::<User>([registered(), UserErased { user_id: ADA }.into()])
            .when(actor, UserCommand::ErasePersonalData)
            .then([]);
    }
}

#[test]
fn nobody_else_erases_a_user_and_an_erased_user_accepts_no_other_command() {
    for actor in [user(BOB, Role::Seller), Actor::Anonymous] {
        given::<User>([registered()])
            .when(actor, UserCommand::ErasePersonalData)
            .then_error(UserError::Forbidden);
    }
    given::<User>([])
        .when(admin(), UserCommand::ErasePersonalData)
        .then_error(UserError::NotFound);
    given::<User>([registered(), UserErased { user_id: ADA }.into()])
        .when(admin(), UserCommand::RequestEmailVerification)
        .then_error(UserError::Deactivated);
}

#[test]
fn error_codes_are_stable_and_distinct() {
    let errors = [
        UserError::NotFound,
        UserError::AlreadyRegistered,
        UserError::Deactivated,
        UserError::ActorDeactivated,
        UserError::Forbidden,
        UserError::EmailNotVerified,
        UserError::EmailAlreadyVerified,
    ];
    let codes: Vec<&str> = errors.iter().map(UserError::code).collect();
    assert_eq!(
        codes,
        [
            "not_found",
            "already_registered",
            "deactivated",
            "actor_deactivated",
            "forbidden",
            "email_not_verified",
            "email_already_verified"
        ]
    );
}
