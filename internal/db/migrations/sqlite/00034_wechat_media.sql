-- +goose Up
-- Issue 13: images and voice from followers (internal/wechat). The callback
-- records the message on the ticket at once and a row here; a background
-- job (wechat_media) downloads the file from the platform and attaches it.
-- Unique per account and MsgId: the platform's retries of a callback never
-- make a second row (nor a second attachment).
CREATE TABLE wechat_media (
    id            INTEGER PRIMARY KEY,
    account       TEXT NOT NULL,
    msg_id        TEXT NOT NULL,
    ticket_id     INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    message_id    INTEGER NOT NULL REFERENCES ticket_messages(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,             -- image | voice
    media_id      TEXT NOT NULL,
    format        TEXT NOT NULL DEFAULT '',  -- voice: amr, speex
    state         TEXT NOT NULL DEFAULT 'pending', -- pending | attached | expired | failed
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT NOT NULL DEFAULT '',
    note          TEXT NOT NULL DEFAULT '',  -- catalog key of the line under the message (expired, refused…)
    attachment_id INTEGER,
    created_at    DATETIME NOT NULL,
    done_at       DATETIME,
    UNIQUE (account, msg_id)
);
CREATE INDEX wechat_media_message ON wechat_media(message_id);
CREATE INDEX wechat_media_pending ON wechat_media(created_at) WHERE state = 'pending';

-- A reply the 客服消息 API would not take (the 48-hour window closed, the
-- follower unsubscribed) and no reply template: which other channel took
-- it (reach's choice, '' when none could) and why, once per reply message.
CREATE TABLE wechat_reply_fallbacks (
    message_id INTEGER PRIMARY KEY REFERENCES ticket_messages(id) ON DELETE CASCADE,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    reason     TEXT NOT NULL,             -- window_closed | unsubscribed
    channel    TEXT NOT NULL DEFAULT '',  -- sms | email | '' (unreachable)
    choice     TEXT NOT NULL DEFAULT '',  -- reach's catalog keys, skipped first, comma-separated
    created_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE wechat_reply_fallbacks;
DROP TABLE wechat_media;
