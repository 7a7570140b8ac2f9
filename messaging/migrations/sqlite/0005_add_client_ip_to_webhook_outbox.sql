-- The address of the client whose request caused the event: "after" callbacks report it as
-- ClientIP (rest-api.md §8). Keep in step with ../postgres/0005_add_client_ip_to_webhook_outbox.sql.
alter table webhook_outbox add column client_ip text not null default '';
