//! Edge cases of the value types: what `parse` accepts, how it normalises, what it refuses, and
//! that serde goes through the same checks.

use domain::values::{
    CategorySlug, Currency, Description, DisplayName, Email, Money, Password, ProductName, Role,
    Sku, StockReason, ValueError,
};
use serde_json::json;

fn too_long(field: &'static str, max: usize) -> ValueError {
    ValueError::TooLong { field, max }
}

#[test]
fn email_is_trimmed_and_lowercased_as_a_whole() {
    let email = Email::parse("  Ada.Lovelace@Example.COM \n").unwrap();
    assert_eq!(email.as_str(), "ada.lovelace@example.com");
    assert_eq!(email, Email::parse("ada.lovelace@example.com").unwrap());
}

#[test]
fn email_refuses_what_cannot_be_an_address() {
    for input in [
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@@example.com",
        "a@b@example.com",
        "ada@.example.com",
        "ada@example.com.",
        "ada@example..com",
        "ada lovelace@example.com",
        "ada@exa\u{0}mple.com",
    ] {
        let error = Email::parse(input).unwrap_err();
        assert_eq!(error.field(), "email", "{input:?}");
        assert!(
            matches!(error, ValueError::Invalid { .. }),
            "{input:?}: {error:?}"
        );
    }
    assert_eq!(
        Email::parse("  "),
        Err(ValueError::Empty { field: "email" })
    );
}

#[test]
fn email_is_at_most_254_chars() {
    let at_limit = format!("{}@example.com", "a".repeat(254 - 12));
    assert_eq!(Email::parse(&at_limit).unwrap().as_str().len(), 254);
    let over = format!("a{at_limit}");
    assert_eq!(Email::parse(&over), Err(too_long("email", 254)));
}

#[test]
fn email_deserialises_through_validation() {
    let email: Email = serde_json::from_value(json!("ADA@X.IO")).unwrap();
    assert_eq!(serde_json::to_value(&email).unwrap(), json!("ada@x.io"));
    let error = serde_json::from_value::<Email>(json!("not an email")).unwrap_err();
    assert!(error.to_string().starts_with("email "), "{error}");
}

#[test]
fn display_name_is_trimmed_one_line_and_at_most_100_chars() {
    assert_eq!(DisplayName::parse("  Ada  ").unwrap().as_str(), "Ada");
    // Counted in chars, not bytes.
    assert!(DisplayName::parse(&"é".repeat(100)).is_ok());
    assert_eq!(
        DisplayName::parse(&"x".repeat(101)),
        Err(too_long("display_name", 100))
    );
    assert_eq!(
        DisplayName::parse(" \t "),
        Err(ValueError::Empty {
            field: "display_name"
        })
    );
    assert_eq!(
        DisplayName::parse("Ada\nLovelace"),
        Err(ValueError::ControlCharacters {
            field: "display_name"
        })
    );
}

#[test]
fn password_is_12_to_128_chars_counted_as_chars_and_kept_as_typed() {
    assert_eq!(
        Password::parse("short pass!").unwrap_err(),
        ValueError::TooShort {
            field: "password",
            min: 12
        }
    );
    assert_eq!(
        Password::parse("").unwrap_err(),
        ValueError::Empty { field: "password" }
    );
    assert!(Password::parse(&"é".repeat(12)).is_ok());
    assert!(Password::parse(&"é".repeat(11)).is_err());
    assert!(Password::parse(&"p".repeat(128)).is_ok());
    assert_eq!(
        Password::parse(&"p".repeat(129)).unwrap_err(),
        too_long("password", 128)
    );
    let password = Password::try_from(" correct horse ".to_owned()).unwrap();
    assert_eq!(password.expose(), " correct horse ");
}

#[test]
fn password_never_prints() {
    let password = Password::parse("correct horse battery").unwrap();
    assert_eq!(format!("{password:?}"), "Password(<redacted>)");
    assert_eq!(
        format!("{:?}", Some(&password)),
        "Some(Password(<redacted>))"
    );
    // Refusals do not echo the input either.
    let error = Password::parse("hunter2").unwrap_err();
    assert!(!error.to_string().contains("hunter2"));
}

#[test]
fn role_is_lowercase_on_the_wire_and_parses_case_insensitively() {
    assert_eq!(serde_json::to_value(Role::Seller).unwrap(), json!("seller"));
    assert_eq!(
        serde_json::from_value::<Role>(json!("admin")).unwrap(),
        Role::Admin
    );
    assert!(serde_json::from_value::<Role>(json!("Admin")).is_err());
    assert_eq!(" Customer ".parse::<Role>().unwrap(), Role::Customer);
    assert_eq!("root".parse::<Role>().unwrap_err().field(), "role");
    assert_eq!(Role::default(), Role::Customer);
    for role in Role::ALL {
        assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
    }
}

#[test]
fn sku_is_trimmed_uppercased_and_restricted() {
    assert_eq!(Sku::parse(" mug-350.b_2 ").unwrap().as_str(), "MUG-350.B_2");
    assert!(Sku::parse(&"A".repeat(64)).is_ok());
    assert_eq!(Sku::parse(&"A".repeat(65)), Err(too_long("sku", 64)));
    assert_eq!(Sku::parse(""), Err(ValueError::Empty { field: "sku" }));
    for input in ["-MUG", ".MUG", "_MUG", "MUG 350", "MÜG", "MUG/350"] {
        assert_eq!(Sku::parse(input).unwrap_err().field(), "sku", "{input:?}");
    }
}

#[test]
fn product_name_is_1_to_200_chars() {
    assert!(ProductName::parse(&"n".repeat(200)).is_ok());
    let error = ProductName::parse(&"n".repeat(201)).unwrap_err();
    assert_eq!(error, too_long("name", 200));
    assert_eq!(
        error.to_string(),
        "name must be at most 200 characters long"
    );
    assert_eq!(error.code(), "too_long");
    assert!(ProductName::parse("").is_err());
}

#[test]
fn description_may_be_empty_or_span_lines() {
    assert!(Description::parse("").unwrap().is_empty());
    let text = "Line one.\n\n\tLine two.\r\n";
    assert_eq!(
        Description::parse(text).unwrap().as_str(),
        "Line one.\n\n\tLine two."
    );
    assert!(Description::parse(&"d".repeat(5000)).is_ok());
    assert_eq!(
        Description::parse(&"d".repeat(5001)),
        Err(too_long("description", 5000))
    );
    assert_eq!(
        Description::parse("bell\u{7}"),
        Err(ValueError::ControlCharacters {
            field: "description"
        })
    );
}

#[test]
fn category_slug_is_lowercase_letters_digits_and_inner_dashes() {
    assert_eq!(
        CategorySlug::parse(" Home-Garden2 ").unwrap().as_str(),
        "home-garden2"
    );
    assert!(CategorySlug::parse(&"c".repeat(64)).is_ok());
    assert_eq!(
        CategorySlug::parse(&"c".repeat(65)),
        Err(too_long("category", 64))
    );
    for input in ["", "-home", "home-", "home_garden", "home garden", "café"] {
        assert_eq!(
            CategorySlug::parse(input).unwrap_err().field(),
            "category",
            "{input:?}"
        );
    }
}

#[test]
fn stock_reason_is_1_to_200_chars() {
    assert_eq!(StockReason::parse(" restock ").unwrap().as_str(), "restock");
    assert!(StockReason::parse("").is_err());
    assert_eq!(
        StockReason::parse(&"r".repeat(201)),
        Err(too_long("reason", 200))
    );
}

#[test]
fn currency_accepts_active_iso_codes_only() {
    let eur = Currency::parse(" eur ").unwrap();
    assert_eq!((eur.as_str(), eur.minor_units()), ("EUR", 2));
    assert_eq!(Currency::parse("JPY").unwrap().minor_units(), 0);
    assert_eq!(Currency::parse("KWD").unwrap().minor_units(), 3);
    for input in ["XXX", "XAU", "XTS", "ABC", "HRK", "EURO", "EU", "E1R", ""] {
        assert_eq!(
            Currency::parse(input).unwrap_err().field(),
            "currency",
            "{input:?}"
        );
    }
}

#[test]
fn currency_list_is_sorted_complete_and_matches_the_constants() {
    let codes: Vec<&str> = Currency::all().map(|c| c.as_str()).collect();
    assert!(codes.len() >= 150, "only {} currencies", codes.len());
    assert!(
        codes.windows(2).all(|pair| pair[0] < pair[1]),
        "sorted and unique"
    );
    assert!(
        codes
            .iter()
            .all(|code| code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()))
    );
    for currency in Currency::all() {
        assert_eq!(Currency::parse(currency.as_str()), Ok(currency));
        assert!(currency.minor_units() <= 3);
    }
    for constant in [Currency::EUR, Currency::USD, Currency::GBP, Currency::JPY] {
        assert_eq!(Currency::parse(constant.as_str()), Ok(constant));
    }
}

#[test]
fn money_must_be_positive() {
    for amount in [0, -1, i64::MIN] {
        assert_eq!(
            Money::new(amount, Currency::EUR),
            Err(ValueError::NotPositive {
                field: "amount_minor"
            })
        );
    }
    assert_eq!(Money::new(1, Currency::EUR).unwrap().amount_minor(), 1);
}

#[test]
fn money_serialises_as_minor_units_and_deserialises_through_validation() {
    let price = Money::new(2599, Currency::EUR).unwrap();
    let json = json!({ "amount_minor": 2599, "currency": "EUR" });
    assert_eq!(serde_json::to_value(price).unwrap(), json);
    assert_eq!(serde_json::from_value::<Money>(json).unwrap(), price);
    for bad in [
        json!({ "amount_minor": 0, "currency": "EUR" }),
        json!({ "amount_minor": -5, "currency": "EUR" }),
        json!({ "amount_minor": 100, "currency": "XXX" }),
        json!({ "amount_minor": 25.99, "currency": "EUR" }),
        json!({ "amount_minor": 100 }),
    ] {
        assert!(
            serde_json::from_value::<Money>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn money_displays_in_major_units() {
    let show = |amount, code| {
        Money::new(amount, Currency::parse(code).unwrap())
            .unwrap()
            .to_string()
    };
    assert_eq!(show(2599, "EUR"), "25.99 EUR");
    assert_eq!(show(5, "EUR"), "0.05 EUR");
    assert_eq!(show(1500, "JPY"), "1500 JPY");
    assert_eq!(show(1005, "KWD"), "1.005 KWD");
}

#[test]
fn canonical_values_satisfy_their_own_schemas() {
    fn check<T: serde::Serialize + schemars::JsonSchema>(values: &[T]) {
        let schema = schemars::schema_for!(T).to_value();
        let validator = jsonschema::validator_for(&schema).unwrap();
        for value in values {
            let json = serde_json::to_value(value).unwrap();
            assert!(validator.is_valid(&json), "{json} against {schema}");
        }
    }
    check(&[Email::parse("A.B+shop@Mail.Example.org").unwrap()]);
    check(&[Sku::parse("x").unwrap(), Sku::parse("ab-1.2_c").unwrap()]);
    check(&[
        CategorySlug::parse("a").unwrap(),
        CategorySlug::parse("home-and-garden").unwrap(),
    ]);
    check(&Currency::all().collect::<Vec<_>>());
    check(&[Money::new(1, Currency::JPY).unwrap()]);
    check(&[ProductName::parse(&"é".repeat(200)).unwrap()]);
    check(&[Description::parse("").unwrap()]);
}

#[test]
fn schemas_refuse_what_parse_refuses() {
    fn refuses<T: schemars::JsonSchema>(values: &[serde_json::Value]) {
        let schema = schemars::schema_for!(T).to_value();
        let validator = jsonschema::validator_for(&schema).unwrap();
        for value in values {
            assert!(!validator.is_valid(value), "{value} against {schema}");
        }
    }
    refuses::<Email>(&[
        json!("ada"),
        json!("a@b"),
        json!("a b@c.de"),
        json!("a@b@c.de"),
    ]);
    refuses::<Sku>(&[json!(""), json!("-A"), json!("A B"), json!("A".repeat(65))]);
    refuses::<CategorySlug>(&[json!("-a"), json!("a-"), json!("A"), json!("")]);
    refuses::<ProductName>(&[json!(""), json!("n".repeat(201))]);
    refuses::<Currency>(&[json!("eur"), json!("EURO")]);
    refuses::<Money>(&[
        json!({ "amount_minor": 0, "currency": "EUR" }),
        json!({ "amount_minor": 1 }),
        json!({ "amount_minor": 1.5, "currency": "EUR" }),
    ]);
}
