package sla

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/domain"
)

// storedWeek writes the weekdays in the order mon…sun, closed days left out.
type storedWeek struct {
	Mon []Interval `json:"mon,omitempty"`
	Tue []Interval `json:"tue,omitempty"`
	Wed []Interval `json:"wed,omitempty"`
	Thu []Interval `json:"thu,omitempty"`
	Fri []Interval `json:"fri,omitempty"`
	Sat []Interval `json:"sat,omitempty"`
	Sun []Interval `json:"sun,omitempty"`
}

type storedException struct {
	Date  Date       `json:"date"`
	Off   bool       `json:"off,omitempty"`
	Hours []Interval `json:"hours,omitempty"`
}

type storedDefinition struct {
	Name       string            `json:"name"`
	TimeZone   string            `json:"time_zone"`
	Hours      storedWeek        `json:"hours"`
	Exceptions []storedException `json:"exceptions"`
}

// EncodeDefinition writes def in the definition JSON shape that the Store
// keeps and the API returns. Unlike Definition.MarshalJSON it keeps a make-up
// working day as {"date": "…"} (no hours), so that it keeps following the
// calendar's regular working-day hours; exceptions come in date order and
// without names.
func EncodeDefinition(def Definition) []byte {
	w := def.Hours
	sd := storedDefinition{Name: def.Name, TimeZone: def.zone(), Exceptions: make([]storedException, 0, len(def.Exceptions)),
		Hours: storedWeek{w[1], w[2], w[3], w[4], w[5], w[6], w[0]}}
	for _, e := range def.Exceptions {
		sd.Exceptions = append(sd.Exceptions, storedException{Date: e.Date, Off: e.Off, Hours: e.Hours})
	}
	slices.SortStableFunc(sd.Exceptions, func(a, b storedException) int { return a.Date.Compare(b.Date) })
	b, err := json.Marshal(sd)
	if err != nil { // unreachable: every part marshals
		panic(err)
	}
	return b
}

// decodeStored reads a stored definition and its labels.
func decodeStored(body, labels string) (Definition, error) {
	def, err := ParseDefinition([]byte(body))
	if err != nil {
		return Definition{}, err
	}
	var names map[string]string
	if err := json.Unmarshal([]byte(labels), &names); err != nil {
		return Definition{}, fmt.Errorf("labels: %w", err)
	}
	for i, e := range def.Exceptions {
		def.Exceptions[i].Name = names[e.Date.String()]
	}
	return def, nil
}

// ParseHolidayFile reads a holiday file in either import format: iCalendar
// when the file name ends in .ics or the content starts with BEGIN:, else
// the holiday JSON format. A malformed file is a *domain.ValidationError
// whose field is the place in the file (JSON path or iCalendar property,
// "file" when there is none) and whose key is the ImportError's code, with
// the line as parameter Line.
func ParseHolidayFile(fileName string, data []byte) ([]Exception, error) {
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\ufeff")), " \t\r\n")
	var ex []Exception
	var err error
	if strings.HasSuffix(strings.ToLower(fileName), ".ics") || bytes.HasPrefix(bytes.ToUpper(trimmed), []byte("BEGIN:")) {
		ex, err = ParseICS(data)
	} else {
		ex, err = ParseHolidayJSON(data)
	}
	if ie, ok := err.(*ImportError); ok {
		field := ie.Field
		if field == "" {
			field = "file"
		}
		return nil, domain.Invalid(field, ie.Code, map[string]any{"Line": ie.Line, "Message": ie.Message})
	}
	if err != nil {
		return nil, err
	}
	if len(ex) == 0 {
		return nil, domain.Invalid("file", "calendar.import.empty", nil)
	}
	return ex, nil
}

// ImportPlan is what importing a holiday file into a calendar changes: the
// listed dates replace the same dates and are added otherwise; no date is
// removed.
type ImportPlan struct {
	Calendar string        `json:"calendar"`
	Version  int           `json:"version"` // the calendar version the plan was made from
	Diff     ExceptionDiff `json:"diff"`
	result   Definition
}

// PlanImport previews importing ex into calendar name without changing it.
func (s *Store) PlanImport(ctx context.Context, name string, ex []Exception) (ImportPlan, error) {
	rec, err := s.Get(ctx, name)
	if err != nil {
		return ImportPlan{}, err
	}
	return planImport(rec, ex), nil
}

func planImport(rec Record, ex []Exception) ImportPlan {
	cur := rec.Definition
	have := make(map[Date]Exception, len(cur.Exceptions))
	for _, e := range cur.Exceptions {
		have[e.Date] = e
	}
	makeUp := cur.makeUpHours()
	overlay := make([]Exception, 0, len(ex))
	for _, e := range ex {
		// A make-up day already stored with the regular working-day hours
		// spelled out is the same day: keep it as it is.
		if old, ok := have[e.Date]; ok && e.IsMakeUp() && !old.Off && slices.Equal(old.Hours, makeUp) {
			continue
		}
		overlay = append(overlay, e)
	}
	next := cur.Clone()
	next.Exceptions = MergeExceptions(cur.Exceptions, overlay)
	// Labels of the file win for the dates it lists.
	names := make(map[Date]string, len(ex))
	for _, e := range ex {
		if e.Name != "" {
			names[e.Date] = e.Name
		}
	}
	for i, e := range next.Exceptions {
		if n, ok := names[e.Date]; ok {
			next.Exceptions[i].Name = n
		}
	}
	return ImportPlan{Calendar: cur.Name, Version: rec.Version, Diff: DiffExceptions(cur.Exceptions, next.Exceptions), result: next}
}

// Import applies ex to calendar name (see ImportPlan). version is the
// version the caller previewed (0: do not check); a different one is
// domain.ErrStale, so a confirmed preview is exactly what is applied.
// Nothing is written when nothing changes.
func (s *Store) Import(ctx context.Context, name string, ex []Exception, version int) (ImportPlan, error) {
	var plan ImportPlan
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		rec, err := s.Get(ctx, name)
		if err != nil {
			return err
		}
		if version != 0 && version != rec.Version {
			return fmt.Errorf("calendar %q: %w", name, domain.ErrStale)
		}
		plan = planImport(rec, ex)
		if plan.Diff.Empty() {
			return nil
		}
		if err := plan.result.Validate(); err != nil {
			return AsDomainError(err)
		}
		if err := s.write(ctx, rec, plan.result); err != nil {
			return err
		}
		dates := diffDates(plan.Diff)
		return s.audit.Record(ctx, "calendar.import", "calendar", name, map[string]audit.Change{
			"added": {After: dates["added"]}, "changed": {After: dates["changed"]}})
	})
	if err != nil {
		return ImportPlan{}, fmt.Errorf("import into calendar %q: %w", name, err)
	}
	s.invalidate(name)
	if !plan.Diff.Empty() {
		plan.Version++
	}
	return plan, nil
}
