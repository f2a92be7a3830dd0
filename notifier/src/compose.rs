//! The mails themselves: subject, a text part and an HTML part from the templates in
//! `templates/`, with the links the shop's site serves. Values put into HTML are escaped (a
//! display name is whatever the user typed); the text part states the token and the API call
//! too, for clients without a browser.
//!
//! Links carry the token in the fragment (`#...`), which browsers never send to a server, so no
//! access log of the site or a proxy records it.

use lettre::{
    Address, Message,
    message::{Mailbox, MultiPart},
};
use uuid::Uuid;

use crate::{request::MailKind, tokens::Token};

/// Where a user's mail goes (from `notifier.recipients`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub email: String,
    pub display_name: String,
}

/// Builds every mail the notifier sends.
#[derive(Debug, Clone)]
pub struct Composer {
    from: Mailbox,
    link_base_url: String,
}

/// A mail that cannot be written for this recipient, ever.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// The stored address is not one SMTP can carry. The address itself is not in the message.
    #[error("the recipient's address cannot be used in a mail")]
    InvalidAddress,
    #[error("a mail of kind {0} needs a token")]
    MissingToken(&'static str),
    #[error("building the message: {0}")]
    Build(String),
}

struct Template {
    subject: &'static str,
    text: &'static str,
    html: &'static str,
}

fn template(kind: MailKind) -> Template {
    match kind {
        MailKind::EmailVerification => Template {
            subject: "Confirm your email address",
            text: include_str!("templates/email_verification.txt"),
            html: include_str!("templates/email_verification.html"),
        },
        MailKind::PasswordReset => Template {
            subject: "Reset your password",
            text: include_str!("templates/password_reset.txt"),
            html: include_str!("templates/password_reset.html"),
        },
        MailKind::PasswordChanged => Template {
            subject: "Your password was changed",
            text: include_str!("templates/password_changed.txt"),
            html: include_str!("templates/password_changed.html"),
        },
    }
}

impl Composer {
    /// `from` as `Name <address>`; `link_base_url` without a trailing slash.
    pub fn new(from: &str, link_base_url: &str) -> anyhow::Result<Self> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| anyhow::anyhow!("CC_MAIL__FROM is not a mailbox: {e}"))?;
        Ok(Self {
            from,
            link_base_url: link_base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// The link a mail of `kind` carries; `None` for a notice.
    pub fn link(&self, kind: MailKind, user_id: Uuid, token: &Token) -> Option<String> {
        let base = &self.link_base_url;
        let token = token.expose();
        match kind {
            MailKind::EmailVerification => {
                Some(format!("{base}/verify-email#user={user_id}&token={token}"))
            }
            MailKind::PasswordReset => Some(format!("{base}/reset-password#token={token}")),
            MailKind::PasswordChanged => None,
        }
    }

    pub fn compose(
        &self,
        kind: MailKind,
        user_id: Uuid,
        recipient: &Recipient,
        token: Option<&Token>,
    ) -> Result<Message, ComposeError> {
        let address: Address = recipient
            .email
            .parse()
            .map_err(|_| ComposeError::InvalidAddress)?;
        let link = match (kind.carries_token(), token) {
            (true, None) => return Err(ComposeError::MissingToken(kind.label())),
            (_, Some(token)) => self.link(kind, user_id, token).unwrap_or_default(),
            (false, None) => String::new(),
        };
        let user_id = user_id.to_string();
        let values = [
            ("display_name", recipient.display_name.as_str()),
            ("link", link.as_str()),
            ("token", token.map(Token::expose).unwrap_or_default()),
            ("user_id", user_id.as_str()),
            ("site", self.link_base_url.as_str()),
        ];
        let template = template(kind);
        let text = render(template.text, &values, |value| value.to_owned());
        let html = render(template.html, &values, escape_html);
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(Some(recipient.display_name.clone()), address))
            .subject(template.subject)
            .multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|e| ComposeError::Build(e.to_string()))
    }
}

/// `template` with every `{{name}}` replaced by its value, passed through `encode`. One pass
/// over the template: a value is never read again, so a display name that contains
/// `{{link}}` stays text instead of becoming a link.
fn render(template: &str, values: &[(&str, &str)], encode: impl Fn(&str) -> String) -> String {
    let mut rendered = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        rendered.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let value = after.find("}}").and_then(|end| {
            let name = &after[..end];
            values
                .iter()
                .find(|(known, _)| *known == name)
                .map(|(_, value)| (value, end))
        });
        match value {
            Some((value, end)) => {
                rendered.push_str(&encode(value));
                rest = &after[end + 2..];
            }
            None => {
                rendered.push_str("{{");
                rest = after;
            }
        }
    }
    rendered.push_str(rest);
    rendered
}

/// Text as HTML text or attribute value.
fn escape_html(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_that_looks_like_a_placeholder_stays_text() {
        let values = [
            ("display_name", "{{link}} {{token}}"),
            ("link", "https://x/#t"),
        ];
        let rendered = render("Hi {{display_name}}: {{link}} {{unknown}}", &values, |v| {
            v.to_owned()
        });
        assert_eq!(rendered, "Hi {{link}} {{token}}: https://x/#t {{unknown}}");
    }

    fn composer() -> Composer {
        Composer::new(
            "CloudCommerce <no-reply@cloudcommerce.dev>",
            "https://shop.example/",
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn recipient(display_name: &str) -> Recipient {
        Recipient {
            email: "ada@example.com".to_owned(),
            display_name: display_name.to_owned(),
        }
    }

    fn formatted(message: &Message) -> String {
        String::from_utf8_lossy(&message.formatted()).into_owned()
    }

    #[test]
    fn links_carry_the_token_in_the_fragment() {
        let token = Token::draw();
        let user = Uuid::now_v7();
        let composer = composer();
        assert_eq!(
            composer.link(MailKind::EmailVerification, user, &token),
            Some(format!(
                "https://shop.example/verify-email#user={user}&token={}",
                token.expose()
            ))
        );
        assert_eq!(
            composer.link(MailKind::PasswordReset, user, &token),
            Some(format!(
                "https://shop.example/reset-password#token={}",
                token.expose()
            ))
        );
    }

    #[test]
    fn every_template_is_filled_and_the_display_name_is_escaped_in_html() {
        let token = Token::draw();
        for kind in [
            MailKind::EmailVerification,
            MailKind::PasswordReset,
            MailKind::PasswordChanged,
        ] {
            let values = [
                ("display_name", "<b>Ada & \"Co\"</b>"),
                ("link", "L"),
                ("token", token.expose()),
                ("user_id", "U"),
                ("site", "S"),
            ];
            let template = template(kind);
            for (text, encode) in [
                (render(template.text, &values, str::to_owned), "text"),
                (render(template.html, &values, escape_html), "html"),
            ] {
                assert!(!text.contains("{{"), "{kind:?} {encode}: {text}");
            }
            let html = render(template.html, &values, escape_html);
            assert!(!html.contains("<b>Ada"), "{html}");
            assert!(
                html.contains("&lt;b&gt;Ada &amp; &quot;Co&quot;&lt;/b&gt;"),
                "{html}"
            );
        }
    }

    #[test]
    fn a_verification_mail_is_addressed_and_states_the_token() {
        let token = Token::draw();
        let message = composer()
            .compose(
                MailKind::EmailVerification,
                Uuid::now_v7(),
                &recipient("Ada"),
                Some(&token),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let raw = formatted(&message);
        assert!(raw.contains("Subject: Confirm your email address"), "{raw}");
        assert!(
            raw.contains("To: \"Ada\" <ada@example.com>")
                || raw.contains("To: Ada <ada@example.com>"),
            "{raw}"
        );
        assert!(raw.contains("multipart/alternative"), "{raw}");
    }

    #[test]
    fn a_token_mail_without_a_token_or_to_a_bad_address_cannot_be_composed() {
        let composer = composer();
        let user = Uuid::now_v7();
        assert!(matches!(
            composer.compose(MailKind::PasswordReset, user, &recipient("Ada"), None),
            Err(ComposeError::MissingToken(_))
        ));
        let bad = Recipient {
            email: "not an address".to_owned(),
            display_name: "Ada".to_owned(),
        };
        assert!(matches!(
            composer.compose(MailKind::PasswordChanged, user, &bad, None),
            Err(ComposeError::InvalidAddress)
        ));
    }
}
