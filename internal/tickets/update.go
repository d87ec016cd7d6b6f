package tickets

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// Patch changes some of a ticket's fields; nil fields stay as they are.
// CategoryID and OwnedProductID 0 clear them. Tags and Custom replace the
// whole list or map (Custom is checked against the admin's fields of the
// ticket's type, as at intake).
type Patch struct {
	Type           *string         `json:"type,omitempty"`
	Severity       *string         `json:"severity,omitempty"`
	CategoryID     *int64          `json:"category_id,omitempty"`
	OwnedProductID *int64          `json:"owned_product_id,omitempty"`
	Subject        *string         `json:"subject,omitempty"`
	Description    *string         `json:"description,omitempty"`
	Expectation    *string         `json:"expectation,omitempty"`
	Tags           *[]string       `json:"tags,omitempty"`
	Complaint      *ComplaintPatch `json:"complaint,omitempty"`
	Custom         map[string]any  `json:"custom,omitempty"`
}

// ComplaintPatch changes some of a complaint's fields (五清楚).
type ComplaintPatch struct {
	Against        *string       `json:"against,omitempty"`
	OccurredAt     *time.Time    `json:"occurred_at,omitempty"`
	Place          *string       `json:"place,omitempty"`
	WantedRemedy   *string       `json:"wanted_remedy,omitempty"`
	Facts          *string       `json:"facts,omitempty"`
	Responsibility *string       `json:"responsibility,omitempty"`
	RootCause      *string       `json:"root_cause,omitempty"`
	Solution       *string       `json:"solution,omitempty"`
	Alternatives   *string       `json:"alternatives,omitempty"`
	Compensation   *Compensation `json:"compensation,omitempty"`
	CallbackResult *string       `json:"callback_result,omitempty"`
}

func (c *ComplaintPatch) apply(to *Complaint) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&to.Against, c.Against)
	set(&to.Place, c.Place)
	set(&to.WantedRemedy, c.WantedRemedy)
	set(&to.Facts, c.Facts)
	set(&to.Responsibility, c.Responsibility)
	set(&to.RootCause, c.RootCause)
	set(&to.Solution, c.Solution)
	set(&to.Alternatives, c.Alternatives)
	set(&to.CallbackResult, c.CallbackResult)
	if c.OccurredAt != nil {
		at := db.Now(*c.OccurredAt)
		to.OccurredAt = &at
	}
	if c.Compensation != nil {
		comp := *c.Compensation
		to.Compensation = &comp
	}
}

// Update changes a ticket's fields if version is still its version (0:
// do not check). The audit entry holds the changes; the EventUpdated data
// names the changed fields ("fields"), so that SLA timers can recompute on
// a change of severity or type. A ticket that becomes an urgent complaint
// is reported as a major complaint, once.
func (s *Store) Update(ctx context.Context, p *identity.Principal, id int64, patch Patch, version int) (Ticket, error) {
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.lockForUpdate(ctx, p, id)
		if err != nil {
			return err
		}
		if version != 0 && version != t.Version {
			return fmt.Errorf("ticket %d version %d, not %d: %w", id, t.Version, version, domain.ErrStale)
		}
		_, err = s.applyPatch(ctx, t, patch)
		return err
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("update ticket: %w", err)
	}
	return s.Get(ctx, p, id)
}

// applyPatch changes a locked ticket in the transaction of ctx and returns
// the names of the fields that changed.
func (s *Store) applyPatch(ctx context.Context, t Ticket, patch Patch) ([]string, error) {
	q := s.db.Q(ctx)
	n := t // the ticket after the patch
	var v domain.ValidationError
	if patch.Type != nil {
		n.Type = *patch.Type
		checkOneOf(&v, "type", n.Type, Types)
	}
	if patch.Severity != nil {
		n.Severity = *patch.Severity
		checkOneOf(&v, "severity", n.Severity, Severities)
	}
	if patch.Subject != nil {
		n.Subject = strings.TrimSpace(*patch.Subject)
		if n.Subject == "" {
			v.Add("subject", "validation.required", nil)
		}
		checkLen(&v, "subject", n.Subject, MaxSubject)
	}
	if patch.Description != nil {
		n.Description = strings.TrimSpace(*patch.Description)
		checkLen(&v, "description", n.Description, MaxText)
	}
	if patch.Expectation != nil {
		n.Expectation = strings.TrimSpace(*patch.Expectation)
		checkLen(&v, "expectation", n.Expectation, MaxText)
	}
	if patch.Tags != nil {
		tags, err := normalizeTags(*patch.Tags)
		if err != nil {
			v.Add("tags", "validation.tags", map[string]any{"Max": MaxTags, "Len": MaxTagLen})
		}
		n.Tags = tags
	}
	if patch.CategoryID != nil {
		if *patch.CategoryID == 0 {
			n.CategoryID = nil
		} else if c, err := s.Category(ctx, *patch.CategoryID); err != nil || (!c.Active && !same(t.CategoryID, patch.CategoryID)) {
			v.Add("category_id", "validation.unknown_category", map[string]any{"Value": *patch.CategoryID})
		} else {
			n.CategoryID = &c.ID
		}
	}
	if patch.OwnedProductID != nil {
		if *patch.OwnedProductID == 0 {
			n.OwnedProductID = nil
		} else {
			var owner int64
			if err := q.QueryRowContext(ctx, `SELECT customer_id FROM customer_products WHERE id = $1`, *patch.OwnedProductID).Scan(&owner); err != nil || owner != t.CustomerID {
				v.Add("owned_product_id", "validation.unknown_owned_product", nil)
			} else {
				n.OwnedProductID = patch.OwnedProductID
			}
		}
	}
	if patch.Custom != nil {
		// The admin's fields of the ticket's (new) type decide.
		custom, err := s.checkCustom(ctx, n.Type, patch.Custom)
		var cv *domain.ValidationError
		switch {
		case errors.As(err, &cv):
			v.Fields = append(v.Fields, cv.Fields...)
		case err != nil:
			return nil, err
		default:
			n.Custom = custom
		}
	}
	if patch.Complaint != nil && n.Type != "complaint" {
		v.Add("complaint", "validation.complaint_only", nil)
	}
	if n.Type == "complaint" {
		c := Complaint{}
		if t.Complaint != nil {
			c = *t.Complaint
		}
		if patch.Complaint != nil {
			patch.Complaint.apply(&c)
		}
		c.check(&v)
		n.Complaint = &c
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := db.Now(s.clock.Now())
	becomesMajor := !t.MajorComplaint && n.Type == "complaint" && n.Severity == "urgent"
	if becomesMajor {
		n.MajorComplaint = true
		n.Complaint.ReportedAt = &now
	}
	before, after := patchView(t), patchView(n)
	diff := audit.Diff(before, after)
	if len(diff) == 0 {
		return nil, nil
	}
	fields := make([]string, 0, len(diff))
	for k := range diff {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	var complaint any
	if n.Complaint != nil {
		complaint = jsonText(n.Complaint)
	}
	custom := n.Custom
	if custom == nil {
		custom = map[string]any{}
	}
	res, err := q.ExecContext(ctx, `UPDATE tickets SET type = $1, severity = $2, severity_rank = $3, category_id = $4,
		owned_product_id = $5, subject = $6, description = $7, expectation = $8, tags = $9, complaint = $10, custom = $11,
		major_complaint = $12, version = version + 1, updated_at = $13 WHERE id = $14 AND version = $15`,
		n.Type, n.Severity, SeverityRank(n.Severity), n.CategoryID, n.OwnedProductID, n.Subject, n.Description, n.Expectation,
		jsonText(n.Tags), complaint, jsonText(custom), n.MajorComplaint, now, t.ID, t.Version)
	if err != nil {
		return nil, err
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return nil, fmt.Errorf("ticket %d: %w", t.ID, domain.ErrStale)
	}
	if err := s.audit.Record(ctx, "ticket.update", "ticket", fmt.Sprint(t.ID), diff); err != nil {
		return nil, err
	}
	_, subj := diff["subject"]
	_, desc := diff["description"]
	if subj || desc {
		if err := s.reindex(ctx, t.ID); err != nil {
			return nil, err
		}
	}
	n.Version++
	n.UpdatedAt = now
	if err := s.emit(ctx, n, EventUpdated, map[string]any{"fields": fields}); err != nil {
		return nil, err
	}
	if becomesMajor {
		if err := s.emit(ctx, n, EventMajorComplaint, nil); err != nil {
			return nil, err
		}
	}
	return fields, nil
}

// patchView is what Update compares and audits, one entry per field name
// of Patch (long texts as they are: the audit log is staff only).
func patchView(t Ticket) map[string]any {
	m := map[string]any{
		"type": t.Type, "severity": t.Severity, "category_id": idOrNil(t.CategoryID), "owned_product_id": idOrNil(t.OwnedProductID),
		"subject": t.Subject, "description": t.Description, "expectation": t.Expectation, "tags": jsonText(t.Tags),
	}
	if len(t.Custom) > 0 {
		m["custom"] = jsonText(t.Custom)
	}
	if t.Complaint != nil {
		c := *t.Complaint
		c.ReportedAt = nil
		m["complaint"] = jsonText(c)
	}
	if t.MajorComplaint {
		m["major_complaint"] = true
	}
	return m
}

// addTags adds tags to a locked ticket (a macro), keeping those it has.
func (s *Store) addTags(ctx context.Context, t Ticket, tags []string) error {
	all := slices.Clone(t.Tags)
	for _, tag := range tags {
		if !slices.Contains(all, tag) {
			all = append(all, tag)
		}
	}
	if len(all) == len(t.Tags) {
		return nil
	}
	_, err := s.applyPatch(ctx, t, Patch{Tags: &all})
	return err
}
