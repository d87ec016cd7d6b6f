package customers

import (
	"context"
	"fmt"
	"time"

	"github.com/careloop/careloop/internal/timeline"
)

// DataExport is everything Careloop keeps about one customer, for a
// customer's request to see their data (PIPL). It is complete and unmasked:
// it goes to the customer, not to staff screens.
type DataExport struct {
	ExportedAt time.Time        `json:"exported_at"`
	Customer   Customer         `json:"customer"`
	Products   []Owned          `json:"products"`
	Contracts  []Contract       `json:"contracts"`
	Consents   []Consent        `json:"consents"`
	Timeline   []timeline.Event `json:"timeline"`
}

// ExportData gathers a customer's data and records the export in the audit
// trail.
func (s *Store) ExportData(ctx context.Context, id int64) (DataExport, error) {
	var out DataExport
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.get(ctx, id)
		if err != nil {
			return err
		}
		out = DataExport{ExportedAt: s.clock.Now().UTC(), Customer: c}
		if out.Products, err = s.ListOwned(ctx, id); err != nil {
			return err
		}
		if out.Contracts, err = s.ListContracts(ctx, id); err != nil {
			return err
		}
		if out.Consents, err = s.Consents(ctx, id); err != nil {
			return err
		}
		out.Timeline = []timeline.Event{}
		cursor := ""
		for {
			page, err := s.timeline.List(ctx, id, nil, 200, cursor)
			if err != nil {
				return err
			}
			out.Timeline = append(out.Timeline, page.Items...)
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
		return s.audit.Record(ctx, "customer.data_export", "customer", fmt.Sprint(id), nil)
	})
	if err != nil {
		return DataExport{}, fmt.Errorf("export customer data: %w", err)
	}
	return out, nil
}
