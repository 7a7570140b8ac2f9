-- Subscribers are listed in subscribe order (get_subscriber_info and the console's Subscribers
-- page), keyset-paged by (subscribed_at, subscriber_account). Keep in step with
-- ../sqlite/0011_subscribe_order.sql.
create index subscription_in_order on subscription (account_id, subscribed_at, subscriber_account);
