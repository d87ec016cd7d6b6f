package notify

import "context"

// EventUnassignedBacklog is a team alert with no staff notice behind it: a
// team's unassigned open tickets piled up (internal/robots checks it).
const EventUnassignedBacklog = "unassigned_backlog"

// AlertEvents are the events a team alert (a group robot of DingTalk or
// WeCom) can be routed.
var AlertEvents = []string{EventMajorComplaint, EventSLAWarning, EventSLABreach, EventUnassignedBacklog}

// Alert is one staff notice as a team hears of it: once per source, not
// per recipient.
type Alert struct {
	Event  string // EventMajorComplaint, EventSLAWarning, EventSLABreach
	Key    string // the notice's catalog key (sla_notice.escalated…)
	Params map[string]any
	Link   string // a path on this server
	Entity string
	ID     string
	// TeamID is the ticket's team (0: none), for robots of one team.
	TeamID int64
	// Dedupe is the notice's source key; an alerter adds its own part
	// (the robot) so that telling again enqueues nothing new.
	Dedupe string
}

// Alerter hears of the notices of AlertEvents (the group robots; app
// wires internal/robots, which notify must not import). It runs in the
// notice's transaction and may be called more than once for one source
// (a notice told to each recipient apart): Dedupe makes it once.
type Alerter interface {
	Alert(ctx context.Context, a Alert) error
}

// alert passes n to the alerter when one is wired and n's event is a team
// alert's.
func (s *Staff) alert(ctx context.Context, a Alert) error {
	if s.Robots == nil || a.Dedupe == "" {
		return nil
	}
	switch a.Event {
	case EventMajorComplaint, EventSLAWarning, EventSLABreach:
		return s.Robots.Alert(ctx, a)
	}
	return nil
}
