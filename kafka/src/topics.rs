//! Topic names: one per aggregate type.

use domain::{Aggregate, product::Product, user::User};

/// The event topics. Every event of an aggregate goes to its type's topic, keyed by aggregate id,
/// so one partition holds a whole stream in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    pub user: String,
    pub product: String,
}

impl Topics {
    pub const DEFAULT_USER: &'static str = "cloudcommerce.user-events";
    pub const DEFAULT_PRODUCT: &'static str = "cloudcommerce.product-events";

    /// The topic of a stream type, `None` for a type this version does not know.
    pub fn for_stream_type(&self, stream_type: &str) -> Option<&str> {
        if stream_type == User::STREAM_TYPE {
            Some(&self.user)
        } else if stream_type == Product::STREAM_TYPE {
            Some(&self.product)
        } else {
            None
        }
    }

    /// The stream type whose events a topic carries.
    pub fn stream_type_of(&self, topic: &str) -> Option<&'static str> {
        if topic == self.user {
            Some(User::STREAM_TYPE)
        } else if topic == self.product {
            Some(Product::STREAM_TYPE)
        } else {
            None
        }
    }

    pub fn all(&self) -> [&str; 2] {
        [&self.user, &self.product]
    }
}
