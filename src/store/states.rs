//! The closed sets of words the database stores in TEXT columns (deadline states, outbox statuses, review
//! decisions, token roles), each a Rust enum with its one string mapping.
//!
//! [`text_enum!`] writes the enum, `as_str`/`parse`, and diesel's `ToSql`/`FromSql` over `Text` for both
//! backends, so queries compare with `deadlines::state.eq(DeadlineState::Pending)` and rows load typed values:
//! a string literal for a state appears nowhere else in the program.

use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::{Sqlite, SqliteValue};
use serde::{Deserialize, Serialize};

/// Declares a TEXT-backed enum: `Variant = "text"` pairs are the only mapping between the two.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = Text)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored (and API) word.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The value a stored word stands for.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// "a, b or c", for error messages.
            pub fn choices() -> String {
                let words: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                match words.split_last() {
                    Some((last, [])) => (*last).to_string(),
                    Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                    None => String::new(),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ToSql<Text, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
            }
        }

        impl FromSql<Text, Pg> for $name {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                Self::parse(&text)
                    .ok_or_else(|| format!("stored {} `{text}` is unknown", stringify!($name)).into())
            }
        }

        impl ToSql<Text, Sqlite> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                out.set_value(self.as_str());
                Ok(IsNull::No)
            }
        }

        impl FromSql<Text, Sqlite> for $name {
            fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, Sqlite>>::from_sql(value)?;
                Self::parse(&text)
                    .ok_or_else(|| format!("stored {} `{text}` is unknown", stringify!($name)).into())
            }
        }
    };
}

text_enum! {
    /// What an action decided about a deadline (`deadlines.state`). `open` versus `overdue` is not stored: it
    /// follows from `due_at` and the moment of the request (`domain::status_at`).
    pub enum DeadlineState {
        /// Nothing decided yet: open or overdue.
        Pending = "pending",
        /// First filed before `due_at`.
        Submitted = "submitted",
        /// First filed at or after `due_at`.
        Late = "late",
        /// Sent back for revision, not filed again yet.
        Returned = "returned",
        /// Exempted.
        Waived = "waived",
    }
}

text_enum! {
    /// Where an email of the outbox stands (`outbox.status`).
    #[derive(Serialize, utoipa::ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum OutboxStatus {
        /// Waiting to be sent, or to be tried again.
        Pending = "pending",
        /// Accepted by the mail server.
        Sent = "sent",
        /// Refused for good; shown to operators.
        Failed = "failed",
    }
}

// A reviewer's decision on a submission (`submissions.review_decision`). The doc comments of the enums that the
// API shows are their OpenAPI descriptions: column names stay in plain comments.
text_enum! {
    #[derive(Serialize, Deserialize, utoipa::ToSchema)]
    #[schema(as = Decision)]
    #[serde(rename_all = "snake_case")]
    pub enum ReviewDecision {
        Accept = "accept",
        /// Send back for revision: the deadline is `returned` until the unit files again.
        Return = "return",
    }
}

// `tokens.role`.
text_enum! {
    /// The roles of DESIGN.md section 4.
    #[derive(Serialize, Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Role {
        Admin = "admin",
        Coordinator = "coordinator",
        Reporter = "reporter",
        Viewer = "viewer",
    }
}

// `tokens.kind`.
text_enum! {
    /// What a token is for: the API (and pages), the calendar feeds only, or one letter's filing link.
    #[derive(Serialize, Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum TokenKind {
        /// Every route, with its role's rights.
        Api = "api",
        /// Reads the `.ics` calendar feeds and nothing else; the one kind that may be passed in a URL
        /// (`?token=`), because calendar apps cannot send headers.
        Feed = "feed",
        /// The token of a letter's link: reporter rights for one unit, for 30 days.
        FilingLink = "filing_link",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serde's names (the API) and the stored words are the same strings.
    #[test]
    fn serde_names_are_the_stored_words() {
        fn check<T: Serialize + Copy + std::fmt::Display>(all: &[T]) {
            for value in all {
                let json = serde_json::to_string(value).unwrap();
                assert_eq!(json, format!("\"{value}\""));
            }
        }
        check(OutboxStatus::ALL);
        check(ReviewDecision::ALL);
        check(Role::ALL);
        check(TokenKind::ALL);
    }

    #[test]
    fn words_round_trip_and_unknown_words_are_refused() {
        for state in DeadlineState::ALL {
            assert_eq!(DeadlineState::parse(state.as_str()), Some(*state));
        }
        assert_eq!(DeadlineState::parse("Pending"), None);
        assert_eq!(Role::parse("root"), None);
        assert_eq!(OutboxStatus::choices(), "pending, sent or failed");
    }
}
