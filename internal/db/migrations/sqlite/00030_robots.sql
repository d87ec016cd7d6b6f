-- +goose Up
-- Issue 13: group robots of DingTalk and WeCom for team alerts
-- (internal/robots). The webhook's token and DingTalk's signing secret are
-- sealed with the server's secret key, never stored plain; endpoint is a
-- custom base URL (a private gateway), '' for the provider's own host.
CREATE TABLE robots (
    id                INTEGER PRIMARY KEY,
    kind              TEXT NOT NULL,
    name              TEXT NOT NULL,
    endpoint          TEXT NOT NULL DEFAULT '',
    token             TEXT NOT NULL,
    secret            TEXT NOT NULL DEFAULT '',
    events            TEXT NOT NULL DEFAULT '[]',
    team_id           INTEGER REFERENCES teams(id) ON DELETE SET NULL,
    language          TEXT NOT NULL DEFAULT 'zh-CN',
    backlog_threshold INTEGER NOT NULL DEFAULT 10,
    active            BOOLEAN NOT NULL DEFAULT TRUE,
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL
);
CREATE INDEX robots_kind ON robots(kind, id);

-- The backlog alert's last time per robot and team (0: tickets of no
-- team): a conditional upsert lets one server, once an hour, say it.
CREATE TABLE robot_backlog (
    robot_id   INTEGER NOT NULL REFERENCES robots(id) ON DELETE CASCADE,
    team_id    INTEGER NOT NULL,
    alerted_at DATETIME NOT NULL,
    PRIMARY KEY (robot_id, team_id)
);

-- The WeCom application (企业微信自建应用) that sends staff their notices
-- one by one: one row (id 1); the secret sealed like the robots' tokens.
CREATE TABLE wecom_app (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    corp_id    TEXT NOT NULL,
    agent_id   BIGINT NOT NULL,
    secret     TEXT NOT NULL,
    endpoint   TEXT NOT NULL DEFAULT '',
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at DATETIME NOT NULL
);
-- A staff member's WeCom user id (成员 UserID), set by an administrator.
CREATE TABLE staff_wecom (
    user_id      INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    wecom_userid TEXT NOT NULL
);

-- +goose Down
DROP TABLE staff_wecom;
DROP TABLE wecom_app;
DROP TABLE robot_backlog;
DROP TABLE robots;
