//! Limits on how many items one call may carry (docs/rest-api.md §3–4).

use crate::error::InvalidField;

/// `account_import`-family batches (`Accounts`, `CheckItem`, `DeleteItem`).
pub const USER_BATCH_MAX: usize = 100;
/// `get_official_account_info`'s `OfficialAccountIdList`.
pub const ACCOUNT_INFO_BATCH_MAX: usize = 50;

/// A batch must have 1..=`max` items.
pub fn check_batch(field: &str, len: usize, max: usize) -> Result<(), InvalidField> {
    if len == 0 {
        return Err(InvalidField::new(field, "must not be empty"));
    }
    if len > max {
        return Err(InvalidField::new(field, format!("at most {max} items (got {len})")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_of_exactly_the_maximum_is_accepted_and_one_more_rejected() {
        assert!(check_batch("Accounts", USER_BATCH_MAX, USER_BATCH_MAX).is_ok());
        let err = check_batch("Accounts", USER_BATCH_MAX + 1, USER_BATCH_MAX).unwrap_err();
        assert_eq!(err.rule, "at most 100 items (got 101)");
        assert!(check_batch("OfficialAccountIdList", 51, ACCOUNT_INFO_BATCH_MAX).is_err());
    }

    #[test]
    fn an_empty_batch_is_rejected() {
        assert_eq!(check_batch("Accounts", 0, USER_BATCH_MAX).unwrap_err().rule, "must not be empty");
    }
}
