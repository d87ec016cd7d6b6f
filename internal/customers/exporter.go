package customers

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/sheets"
)

// ExportFields are the columns of an export, in order. Their header texts
// come from the caller (translated); the Chinese and English headers are
// both recognised by import, so an export can be imported again.
var ExportFields = []string{"number", "name", "type", "phones", "email", "wechat", "address", "industry", "birthday",
	"cooperation_start", "tier", "tags", "owner", "remarks", "registered"}

// ExportText is what an export needs in the caller's language.
type ExportText struct {
	Headers []string                        // one per ExportFields entry
	Value   func(field, code string) string // words for "type" and "tier" codes; nil: the codes
}

// Export formats (sheets.ParseFormat reads them).
const (
	ExportCSV  = "csv"
	ExportXLSX = "xlsx"
)

// exportPage is how many customers one query of an export reads.
const exportPage = 200

// Export writes the customers matching f (the list's filters; Limit and
// Cursor are ignored) to w as CSV or XLSX, as the caller may see them:
// phones masked without customers.contact_view. Cells that a spreadsheet
// would run as formulas are neutralised. It returns the number of customers
// written. (It writes nothing to the database: a GET changes nothing, so the
// web layer logs each export with its caller, filter and count instead of an
// audit entry.)
func (s *Store) Export(ctx context.Context, p *identity.Principal, f Filter, format string, t ExportText, w io.Writer) (int, error) {
	if !p.Can(identity.CustomersExport) {
		return 0, fmt.Errorf("export customers: %w", domain.ErrForbidden)
	}
	if len(t.Headers) != len(ExportFields) {
		return 0, fmt.Errorf("export customers: %d headers for %d fields", len(t.Headers), len(ExportFields))
	}
	owners, err := s.ownerEmails(ctx)
	if err != nil {
		return 0, err
	}
	ff, ok := sheets.ParseFormat(format)
	if !ok {
		return 0, domain.Invalid("format", "validation.one_of", map[string]any{"Values": "csv, xlsx"})
	}
	cols := make([]sheets.Heading, len(ExportFields))
	for i, k := range ExportFields {
		cols[i] = sheets.Heading{Key: k, Text: t.Headers[i]}
	}
	sink, err := sheets.NewWriter(w, ff, "customers", cols)
	if err != nil {
		return 0, err
	}
	defer sink.Close()
	f.Limit, f.Cursor = exportPage, ""
	n := 0
	cells := make([]string, len(ExportFields))
	for {
		page, err := s.Search(ctx, p, f)
		if err != nil {
			return n, err
		}
		for _, c := range page.Items {
			exportRow(cells, c, owners, t)
			if err := sink.Write(cells); err != nil {
				return n, err
			}
			n++
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	if err := sink.Finish(); err != nil {
		return n, err
	}
	return n, nil
}

func exportRow(cells []string, c Customer, owners map[int64]string, t ExportText) {
	value := func(field, code string) string {
		if t.Value == nil || code == "" {
			return code
		}
		return t.Value(field, code)
	}
	owner := ""
	if c.OwnerID != nil {
		owner = owners[*c.OwnerID]
	}
	for i, f := range ExportFields {
		var v string
		switch f {
		case "number":
			v = c.Number
		case "name":
			v = c.Name
		case "type":
			v = value(f, c.Type)
		case "phones":
			v = strings.Join(c.Phones, ", ")
		case "email":
			v = c.Email
		case "wechat":
			v = c.WeChat
		case "address":
			v = c.Address
		case "industry":
			v = c.Industry
		case "birthday":
			v = c.Birthday
		case "cooperation_start":
			v = c.CooperationStart
		case "tier":
			v = value(f, c.Tier)
		case "tags":
			v = strings.Join(c.Tags, ", ")
		case "owner":
			v = owner
		case "remarks":
			v = c.Remarks
		case "registered":
			v = c.CreatedAt.In(BusinessZone).Format("2006-01-02 15:04")
		}
		cells[i] = v
	}
}

// ownerEmails maps staff user ids to their emails (the owner column; import
// resolves an owner by email).
func (s *Store) ownerEmails(ctx context.Context) (map[int64]string, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT id, email FROM users`)
	if err != nil {
		return nil, fmt.Errorf("export customers: owners: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var e string
		if err := rows.Scan(&id, &e); err != nil {
			return nil, err
		}
		out[id] = e
	}
	return out, rows.Err()
}
