//! Who may do what in the console (product.md §3): a [`Role`] per console user and the
//! [`Action`]s each role may take. The rule lives here once; every console server function asks
//! [`Role::may`] (through `Messaging::authorize`) before acting.
//!
//! Today only the platform owner exists. Account owners, editors and viewers act on the
//! accounts they own or are assigned to (issue 10): until those assignments are stored, they
//! may do nothing account-specific, which is the safe side.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    PlatformOwner,
    AccountOwner,
    Editor,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::PlatformOwner, Role::AccountOwner, Role::Editor, Role::Viewer];

    /// As stored in `console_user.role`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PlatformOwner => "platform_owner",
            Self::AccountOwner => "account_owner",
            Self::Editor => "editor",
            Self::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::PlatformOwner => "Platform owner",
            Self::AccountOwner => "Account owner",
            Self::Editor => "Editor",
            Self::Viewer => "Viewer",
        }
    }

    /// Whether this role may take `action` on an account it has `access` to.
    pub fn may(self, action: Action, access: Access) -> bool {
        use Action::*;
        match self {
            Self::PlatformOwner => true,
            Self::AccountOwner => match action {
                ManageApp => false,
                CreateAccount => true,
                ManageAccount | Publish | ManageSubscribers | View => access == Access::Owner,
            },
            Self::Editor => match action {
                Publish | ManageSubscribers | View => access == Access::Assigned,
                _ => false,
            },
            Self::Viewer => action == View && access == Access::Assigned,
        }
    }
}

/// What a console user wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// App settings, console users, the audit log.
    ManageApp,
    CreateAccount,
    /// Edit or delete an account, assign its editors and viewers.
    ManageAccount,
    /// Compose, schedule, publish, recall posts; upload their images.
    Publish,
    /// Add and remove subscribers; reply in the inbox.
    ManageSubscribers,
    /// See accounts, posts, subscribers.
    View,
}

impl Action {
    /// The refusal, as a sentence.
    pub fn refusal(self) -> &'static str {
        match self {
            Self::ManageApp => "Only the platform owner can change the app's settings.",
            Self::CreateAccount => "Your role cannot create official accounts.",
            Self::ManageAccount => "Your role cannot change or delete this official account.",
            Self::Publish => "Your role cannot publish for this official account.",
            Self::ManageSubscribers => "Your role cannot change this official account's subscribers.",
            Self::View => "You have no access to this official account.",
        }
    }
}

/// How a console user stands to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Owner,
    Assigned,
    None,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_of_product_md_section_3() {
        use Action::*;
        assert!(Role::ALL.iter().all(|r| Role::parse(r.as_str()) == Some(*r)));
        assert!(Role::PlatformOwner.may(ManageApp, Access::None));
        assert!(!Role::AccountOwner.may(ManageApp, Access::Owner));
        assert!(Role::AccountOwner.may(CreateAccount, Access::None));
        assert!(Role::AccountOwner.may(Publish, Access::Owner) && !Role::AccountOwner.may(Publish, Access::None));
        assert!(Role::Editor.may(Publish, Access::Assigned) && !Role::Editor.may(ManageAccount, Access::Assigned));
        assert!(!Role::Editor.may(CreateAccount, Access::None));
        assert!(Role::Viewer.may(View, Access::Assigned) && !Role::Viewer.may(Publish, Access::Assigned));
        assert!(!Role::Viewer.may(View, Access::None));
    }
}
