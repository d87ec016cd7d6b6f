package notify

import "context"

// Notice is something another domain tells a staff member (an SLA warning,
// an escalation): the catalog keys <Key>.title and <Key>.body rendered in
// the recipient's language with Params, on the channels their preferences
// choose for Event (plus Forced ones), linked to Link.
type Notice struct {
	Event  string // one of NoticeEvents
	Key    string
	Params map[string]any
	Link   string
	Entity string
	ID     string
	// Dedupe is the source's key: the outbox row of each recipient and
	// channel is <Dedupe>:<user>:<channel>, so telling the same thing twice
	// enqueues it once.
	Dedupe string
	Forced []string
	// TeamID is the team of the ticket it is about (0: none): a group
	// robot of one team hears only of its team's tickets.
	TeamID int64
}

// Tell enqueues n for each of userIDs in ctx's transaction (inactive users
// are skipped): it commits or rolls back with the caller's change.
func (s *Staff) Tell(ctx context.Context, userIDs []int64, n Notice) error {
	for _, id := range userIDs {
		if err := s.send(ctx, id, notice{event: n.Event, key: n.Key, params: n.Params, link: n.Link,
			entity: n.Entity, id: n.ID, dedupe: n.Dedupe, forced: n.Forced}); err != nil {
			return err
		}
	}
	// The team hears of it once (Dedupe), however many are told.
	return s.alert(ctx, Alert{Event: n.Event, Key: n.Key, Params: n.Params, Link: n.Link, Entity: n.Entity, ID: n.ID,
		TeamID: n.TeamID, Dedupe: n.Dedupe})
}
