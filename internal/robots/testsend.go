package robots

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/notify"
)

// SendTest queues a test message to robot id of kind (the settings page's
// "send a test message"), through the outbox like any alert, so the
// administrator sees on the outbox page what the provider answered. One
// test a minute per robot: a second click within the minute is the same
// row (its dedupe key), however many servers take it.
func (s *Store) SendTest(ctx context.Context, kind string, id int64) (int64, error) {
	r, err := s.get(ctx, id)
	if err != nil {
		return 0, err
	}
	if r.Kind != kind {
		return 0, fmt.Errorf("robot %d is not a %s robot: %w", id, kind, domain.ErrNotFound)
	}
	if !r.Active {
		return 0, domain.Invalid("robots", "validation.robot_test_inactive", map[string]any{"Name": r.Name})
	}
	title := s.Catalog.T(r.Language, "robots.msg.test.title", nil)
	text := s.Catalog.T(r.Language, "robots.msg.test.text", map[string]any{"Name": plain(r.Name, 100)})
	data, _ := json.Marshal(map[string]any{"robot_id": r.ID, "robot_kind": r.Kind})
	minute := s.Clock.Now().Unix() / 60
	return s.Outbox.Enqueue(ctx, notify.Message{Channel: ChannelName, Kind: "robot.test", Recipient: fmt.Sprint(r.ID),
		Subject: title, Body: text, Entity: "robot", EntityID: fmt.Sprint(r.ID), Data: data,
		DedupeKey: fmt.Sprintf("robot_test:%d:%d", r.ID, minute)})
}
