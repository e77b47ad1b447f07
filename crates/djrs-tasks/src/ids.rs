//! Typed ids: a task result's id and a worker's id are different things, and the compiler
//! should say so.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The id as text.
            ///
            /// ```
            /// use djrs_tasks::{TaskId, WorkerId};
            ///
            /// assert_eq!(WorkerId::from("web-1").as_str(), "web-1");
            /// let id = TaskId::from("0190d1c4-7f3a-7cc0-9a55-1d0c2b1b7a10");
            /// assert_eq!(id.as_str(), "0190d1c4-7f3a-7cc0-9a55-1d0c2b1b7a10");
            /// ```
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id as an owned string.
            ///
            /// ```
            /// use djrs_tasks::WorkerId;
            ///
            /// let owned: String = WorkerId::from("web-1").into_string();
            /// assert_eq!(owned, "web-1");
            /// ```
            #[must_use]
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                $name(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                $name(id.to_owned())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }
    };
}

string_id!(
    /// A task result's id: a UUIDv7 in text form, unique per enqueued task.
    ///
    /// ```
    /// use djrs_tasks::TaskId;
    ///
    /// let id = TaskId::new();
    /// assert_eq!(id.len(), 36);
    /// let same: TaskId = id.as_str().into();
    /// assert_eq!(id, same);
    /// ```
    TaskId
);

string_id!(
    /// A worker's id, recorded in every attempt it makes (`djrs-<pid>-<random>` by default).
    ///
    /// ```
    /// use djrs_tasks::WorkerId;
    ///
    /// let id = WorkerId::from("worker-1");
    /// assert_eq!(id, "worker-1");
    /// assert!(WorkerId::generate().starts_with("djrs-"));
    /// ```
    WorkerId
);

impl TaskId {
    /// A new, time-ordered id.
    ///
    /// ```
    /// use djrs_tasks::TaskId;
    ///
    /// let (first, second) = (TaskId::new(), TaskId::new());
    /// assert_ne!(first, second);
    /// assert_eq!(first.as_str().chars().nth(14), Some('7')); // a version-7 UUID
    /// ```
    #[must_use]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        TaskId(uuid::Uuid::now_v7().to_string())
    }
}

impl WorkerId {
    /// `djrs-<pid>-<random>`: unique per worker, recognisable in results.
    ///
    /// ```
    /// use djrs_tasks::WorkerId;
    ///
    /// let id = WorkerId::generate();
    /// assert!(id.starts_with(&format!("djrs-{}-", std::process::id())));
    /// assert_ne!(id, WorkerId::generate());
    /// ```
    #[must_use]
    pub fn generate() -> Self {
        let random = uuid::Uuid::new_v4().simple().to_string();
        WorkerId(format!("djrs-{}-{}", std::process::id(), &random[..12]))
    }
}
