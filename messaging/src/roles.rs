//! Who may do what in the console (README, Publishing from the console): a [`Role`] per console user and the
//! [`Action`]s each role may take. The rule lives here once; every console server function asks
//! [`Role::may`] (through `Messaging::authorize`) before acting.
//!
//! Account owners act on the accounts they created, editors and viewers on the ones they are
//! assigned to (`account_access`); pages ask [`Permissions`] to show only what the user may do,
//! and the server functions ask again before acting.

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

    /// Editors and viewers work on the accounts they are assigned to (owners on their own).
    pub fn works_on_assigned_accounts(self) -> bool {
        matches!(self, Self::Editor | Self::Viewer)
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

/// A console user as the Users page lists them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TeamMember {
    pub username: String,
    pub role: Role,
    /// Accounts they own or are assigned to (the platform owner: all, listed as none).
    pub accounts: Vec<String>,
    pub last_sign_in_at: Option<i64>,
    pub disabled: bool,
    /// False while an invitation is not accepted yet.
    pub has_password: bool,
}

/// How strong a new password is, with zxcvbn's advice as sentences.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PasswordRating {
    pub score: u8,
    pub acceptable: bool,
    pub feedback: Vec<String>,
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

/// What a console user may do on one account: pages show only these buttons and links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Permissions {
    pub manage_account: bool,
    pub publish: bool,
    pub manage_subscribers: bool,
}

impl Permissions {
    pub fn of(role: Role, access: Access) -> Self {
        Self {
            manage_account: role.may(Action::ManageAccount, access),
            publish: role.may(Action::Publish, access),
            manage_subscribers: role.may(Action::ManageSubscribers, access),
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

    /// Issue 10's table, cell by cell: for each action, which (role, access) pairs may.
    /// Access is how the user stands to the account in question (`None`: no account, or one
    /// they have nothing to do with).
    #[test]
    fn every_cell_of_the_permission_table() {
        use Access::{Assigned, None as NoAccess, Owner};
        use Action::*;
        use Role::*;
        let allowed = |role: Role, action: Action, access: Access| -> bool {
            match (role, action) {
                (PlatformOwner, _) => true,
                (AccountOwner, CreateAccount) => true,
                (AccountOwner, ManageAccount | Publish | ManageSubscribers | View) => access == Owner,
                (Editor, Publish | ManageSubscribers | View) => access == Assigned,
                (Viewer, View) => access == Assigned,
                _ => false,
            }
        };
        let mut cells = 0;
        for role in Role::ALL {
            for action in [ManageApp, CreateAccount, ManageAccount, Publish, ManageSubscribers, View] {
                for access in [Owner, Assigned, NoAccess] {
                    assert_eq!(role.may(action, access), allowed(role, action, access), "{role:?} {action:?} {access:?}");
                    cells += 1;
                }
            }
        }
        assert_eq!(cells, 4 * 6 * 3);
        // The rows as the issue writes them, spelled out.
        assert!(!AccountOwner.may(ManageApp, Owner) && !Editor.may(ManageApp, Assigned) && !Viewer.may(ManageApp, Assigned));
        assert!(!Editor.may(CreateAccount, NoAccess) && !Viewer.may(CreateAccount, NoAccess));
        assert!(!Editor.may(ManageAccount, Assigned) && !Viewer.may(Publish, Assigned) && !Viewer.may(ManageSubscribers, Assigned));
        assert!(!AccountOwner.may(Publish, NoAccess) && !Editor.may(View, NoAccess) && !Viewer.may(View, NoAccess));
        assert!(Role::ALL.iter().all(|r| Role::parse(r.as_str()) == Some(*r)));
    }
}
