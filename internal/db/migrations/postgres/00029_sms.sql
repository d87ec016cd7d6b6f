-- +goose Up
-- Issue 13: the SMS channel (internal/sms). Its configuration is a setting
-- (channels.sms); these are the counters several servers must share.
--
-- Messages sent per day (the day in the quiet hours' time zone): one row per
-- customer and day, and customer_id 0 for the day's total. A send reserves
-- its place (an upsert that refuses beyond the limit) before it goes to the
-- provider and gives it back when the provider refuses.
CREATE TABLE sms_counts (
    day         TEXT NOT NULL,
    customer_id BIGINT NOT NULL,
    sent        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, customer_id)
);
-- Messages and their cost per month (YYYY-MM), at the unit price set when
-- each was sent, in fen.
CREATE TABLE sms_costs (
    month TEXT PRIMARY KEY,
    sent  INTEGER NOT NULL DEFAULT 0,
    fen   BIGINT NOT NULL DEFAULT 0
);
-- Delivery receipts the provider posts (Aliyun's SmsReport, Tencent's
-- status callback): the phone's outcome of a sent outbox row. Found by the
-- provider's id for the message (outbox.provider_id: BizId, SerialNo).
CREATE TABLE sms_receipts (
    outbox_id   BIGINT PRIMARY KEY REFERENCES outbox(id) ON DELETE CASCADE,
    delivered   BOOLEAN NOT NULL,
    code        TEXT NOT NULL DEFAULT '',
    message     TEXT NOT NULL DEFAULT '',
    reported_at TIMESTAMPTZ,
    received_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX outbox_sms_provider_id ON outbox(provider_id) WHERE channel = 'sms' AND provider_id <> '';

-- +goose Down
DROP INDEX outbox_sms_provider_id;
DROP TABLE sms_receipts;
DROP TABLE sms_costs;
DROP TABLE sms_counts;
