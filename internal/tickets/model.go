package tickets

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/domain"
)

// Kinds of request (SPEC section 3).
var Types = []string{"consultation", "fault", "complaint", "return", "exchange", "repair", "suggestion", "other"}

// Channels a request arrives by.
var Channels = []string{"phone", "email", "wechat", "web", "chat", "walk_in", "social", "sms", "wecom"}

// Severities, lowest first (seed 004: 一般 / 重要 / 紧急重大).
var Severities = []string{"general", "important", "urgent"}

// SeverityRank orders severities for sorting (higher is more severe).
func SeverityRank(s string) int { return slices.Index(Severities, s) + 1 }

// Responsibilities a complaint can be put down to.
var Responsibilities = []string{"product", "service", "communication", "external"}

// CompensationKinds a complaint can be settled with.
var CompensationKinds = []string{"coupon", "vip_upgrade", "extended_service", "other"}

// Limits on free text, in characters.
const (
	MaxSubject     = 200
	MaxText        = 20000
	MaxMessageBody = 50000
	MaxTags        = 20
	MaxTagLen      = 30
)

// Complaint holds what seed 004 asks to record of a complaint (五清楚，一报告).
type Complaint struct {
	Against        string        `json:"against"`        // who or what is complained about
	OccurredAt     *time.Time    `json:"occurred_at"`    // when it happened
	Place          string        `json:"place"`          // where
	WantedRemedy   string        `json:"wanted_remedy"`  // the remedy the customer wants
	Facts          string        `json:"facts"`          // verified facts
	Responsibility string        `json:"responsibility"` // product, service, communication, external
	RootCause      string        `json:"root_cause"`
	Solution       string        `json:"solution"`     // offered
	Alternatives   string        `json:"alternatives"` // offered besides
	Compensation   *Compensation `json:"compensation"`
	CallbackResult string        `json:"callback_result"`
	// ReportedAt is when a major complaint was reported to management
	// (at creation, for an urgent one).
	ReportedAt *time.Time `json:"reported_at"`
}

// Compensation is what the company gave; Value in integer fen (分).
type Compensation struct {
	Kind  string `json:"kind"`
	Value int64  `json:"value"`
	Note  string `json:"note"`
}

// Ticket is one customer request.
type Ticket struct {
	ID              int64          `json:"id"`
	Number          string         `json:"number"`
	CustomerID      int64          `json:"customer_id"`
	CustomerName    string         `json:"customer_name"`
	CustomerNumber  string         `json:"customer_number"`
	CustomerTier    string         `json:"customer_tier"`
	OwnedProductID  *int64         `json:"owned_product_id"`
	CategoryID      *int64         `json:"category_id"`
	Type            string         `json:"type"`
	Channel         string         `json:"channel"`
	Severity        string         `json:"severity"`
	State           string         `json:"state"`
	Subject         string         `json:"subject"`
	Description     string         `json:"description"`
	Expectation     string         `json:"expectation"`
	Complaint       *Complaint     `json:"complaint"`
	MajorComplaint  bool           `json:"major_complaint"`
	Tags            []string       `json:"tags"`
	Custom          map[string]any `json:"custom"`
	OwnerID         *int64         `json:"owner_id"`
	OwnerName       string         `json:"owner_name"`
	TeamID          *int64         `json:"team_id"`
	TeamName        string         `json:"team_name"`
	CreatedBy       *int64         `json:"created_by"`
	MergedInto      *int64         `json:"merged_into"`
	ReopenCount     int            `json:"reopen_count"`
	TimeSpent       int            `json:"time_spent_minutes"`
	FirstResponseAt *time.Time     `json:"first_response_at"`
	ResolvedAt      *time.Time     `json:"resolved_at"`
	ClosedAt        *time.Time     `json:"closed_at"`
	Confirmation    string         `json:"confirmation"`
	LastMessageID   int64          `json:"last_message_id"`
	Version         int            `json:"version"`
	CreatedAt       time.Time      `json:"created_at"`
	UpdatedAt       time.Time      `json:"updated_at"`
	// SLADueAt is the earliest due time of the ticket's running or breached
	// SLA timers (past when breached), SLADueTarget that target's kind
	// (first_response, resolution, customer_update, commitment); nil and ""
	// when no timer runs. Kept by internal/ticketsla (SetSLADue).
	SLADueAt     *time.Time `json:"sla_due_at"`
	SLADueTarget string     `json:"sla_due_target"`
	// Highlight marks what a search (List with q) matched; nil otherwise.
	Highlight *Highlight `json:"highlight,omitempty"`
}

// Open tells whether the ticket still needs work.
func (t Ticket) Open() bool { return IsOpen(t.State) }

// Input is what intake records.
type Input struct {
	CustomerID     int64      `json:"customer_id"`
	OwnedProductID *int64     `json:"owned_product_id"`
	CategoryID     *int64     `json:"category_id"`
	Type           string     `json:"type"`
	Channel        string     `json:"channel"`
	Severity       string     `json:"severity"`
	Subject        string     `json:"subject"`
	Description    string     `json:"description"`
	Expectation    string     `json:"expectation"`
	Complaint      *Complaint `json:"complaint"`
	Tags           []string   `json:"tags"`
	// Custom holds the values of the admin's ticket fields for the type.
	Custom map[string]any `json:"custom"`
	// team is the team the source names (CreateByMail: the mailbox's),
	// ahead of the routing rules; never from a client.
	team *int64
}

func checkLen(v *domain.ValidationError, field, s string, max int) {
	if utf8.RuneCountInString(s) > max {
		v.Add(field, "validation.too_long", map[string]any{"Max": max})
	}
}

func checkOneOf(v *domain.ValidationError, field, s string, values []string) {
	if s == "" {
		v.Add(field, "validation.required", nil)
	} else if !slices.Contains(values, s) {
		v.Add(field, "validation.one_of", map[string]any{"Values": strings.Join(values, ", ")})
	}
}

// normalize trims the input and checks everything that needs no database.
func (in *Input) normalize() error {
	var v domain.ValidationError
	in.Subject = strings.TrimSpace(in.Subject)
	in.Description = strings.TrimSpace(in.Description)
	in.Expectation = strings.TrimSpace(in.Expectation)
	if in.Severity == "" {
		in.Severity = "general"
	}
	if in.CustomerID <= 0 {
		v.Add("customer_id", "validation.required", nil)
	}
	checkOneOf(&v, "type", in.Type, Types)
	checkOneOf(&v, "channel", in.Channel, Channels)
	checkOneOf(&v, "severity", in.Severity, Severities)
	if in.Subject == "" {
		v.Add("subject", "validation.required", nil)
	}
	checkLen(&v, "subject", in.Subject, MaxSubject)
	checkLen(&v, "description", in.Description, MaxText)
	checkLen(&v, "expectation", in.Expectation, MaxText)
	var err error
	if in.Tags, err = normalizeTags(in.Tags); err != nil {
		v.Add("tags", "validation.tags", map[string]any{"Max": MaxTags, "Len": MaxTagLen})
	}
	if in.Type == "complaint" {
		if in.Complaint == nil {
			in.Complaint = &Complaint{}
		}
		in.Complaint.check(&v)
	} else if in.Complaint != nil {
		v.Add("complaint", "validation.complaint_only", nil)
	}
	return v.Err()
}

func (c *Complaint) check(v *domain.ValidationError) {
	for _, f := range []struct {
		name string
		val  *string
	}{{"complaint.against", &c.Against}, {"complaint.place", &c.Place}, {"complaint.wanted_remedy", &c.WantedRemedy},
		{"complaint.facts", &c.Facts}, {"complaint.root_cause", &c.RootCause}, {"complaint.solution", &c.Solution},
		{"complaint.alternatives", &c.Alternatives}, {"complaint.callback_result", &c.CallbackResult}} {
		*f.val = strings.TrimSpace(*f.val)
		checkLen(v, f.name, *f.val, MaxText)
	}
	if c.Responsibility != "" && !slices.Contains(Responsibilities, c.Responsibility) {
		v.Add("complaint.responsibility", "validation.one_of", map[string]any{"Values": strings.Join(Responsibilities, ", ")})
	}
	if c.Compensation != nil {
		if !slices.Contains(CompensationKinds, c.Compensation.Kind) {
			v.Add("complaint.compensation.kind", "validation.one_of", map[string]any{"Values": strings.Join(CompensationKinds, ", ")})
		}
		if c.Compensation.Value < 0 || c.Compensation.Value > 100_000_000_00 {
			v.Add("complaint.compensation.value", "validation.range", map[string]any{"Min": 0, "Max": int64(100_000_000_00)})
		}
		c.Compensation.Note = strings.TrimSpace(c.Compensation.Note)
		checkLen(v, "complaint.compensation.note", c.Compensation.Note, 500)
	}
}

func normalizeTags(tags []string) ([]string, error) {
	out := []string{}
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" || slices.Contains(out, t) {
			continue
		}
		if utf8.RuneCountInString(t) > MaxTagLen {
			return nil, domain.ErrConflict
		}
		out = append(out, t)
	}
	if len(out) > MaxTags {
		return nil, domain.ErrConflict
	}
	return out, nil
}
