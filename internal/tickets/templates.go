package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// Template is a reply template (快捷回复). Its body may hold the variables
// of TemplateVariables, in Chinese or English: {{客户称呼}} or
// {{customer_salutation}}, {{工单号}} or {{ticket_number}}, {{坐席}} or
// {{agent_name}}.
type Template struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Body      string    `json:"body"`
	Position  int       `json:"position"`
	Active    bool      `json:"active"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TemplateVariables maps each variable name a template may use to what it
// stands for: salutation, number or agent.
var TemplateVariables = map[string]string{
	"客户称呼": "salutation", "customer_salutation": "salutation",
	"工单号": "number", "ticket_number": "number",
	"坐席": "agent", "agent_name": "agent",
}

var templateVarRE = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// Salutation is how a template addresses the customer. Careloop records
// no gender or preferred title, so "李女士" cannot be known from "李小红":
// a person and an organisation are both addressed by their full name as
// recorded (李小红, 深圳华强电子有限公司), which is never wrong; the
// template's own words add the courtesy ("您好，李小红").
func Salutation(customerName string) string { return strings.TrimSpace(customerName) }

// RenderTemplate fills a template's variables for a ticket, its customer's
// name and the agent who sends it. Unknown variables stay as written (a
// saved template has none).
func RenderTemplate(body string, t Ticket, customerName, agentName string) string {
	return templateVarRE.ReplaceAllStringFunc(body, func(m string) string {
		name := templateVarRE.FindStringSubmatch(m)[1]
		switch TemplateVariables[name] {
		case "salutation":
			return Salutation(customerName)
		case "number":
			return t.Number
		case "agent":
			return agentName
		}
		return m
	})
}

// DefaultTemplates are created on first start.
var DefaultTemplates = []struct{ Name, Body string }{
	{"已收到", "您好，{{customer_salutation}}，您的问题我们已收到（工单号 {{ticket_number}}），正在处理，请保持电话畅通。"},
	{"需要更多信息", "您好，{{customer_salutation}}，为了尽快处理您的问题（工单号 {{ticket_number}}），请提供设备型号、购买日期和故障照片。"},
	{"已解决请确认", "您好，{{customer_salutation}}，您的问题（工单号 {{ticket_number}}）已处理完毕，请确认是否恢复正常。如有问题请随时联系我们。客服 {{agent_name}}"},
}

// EnsureDefaultTemplates creates the default reply templates when there
// are none.
func (s *Store) EnsureDefaultTemplates(ctx context.Context) error {
	var n int
	if err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM reply_templates`).Scan(&n); err != nil || n > 0 {
		return err
	}
	now := db.Now(s.clock.Now())
	for i, t := range DefaultTemplates {
		if _, err := s.db.W.ExecContext(ctx, `INSERT INTO reply_templates (name, body, position, active, created_at, updated_at)
			VALUES ($1, $2, $3, TRUE, $4, $4) ON CONFLICT DO NOTHING`, t.Name, t.Body, (i+1)*10, now); err != nil {
			return fmt.Errorf("default reply templates: %w", err)
		}
	}
	return nil
}

const templateCols = `id, name, body, position, active, version, created_at, updated_at`

func scanTemplate(sc interface{ Scan(...any) error }) (Template, error) {
	var t Template
	err := sc.Scan(&t.ID, &t.Name, &t.Body, &t.Position, &t.Active, &t.Version, &t.CreatedAt, &t.UpdatedAt)
	return t, err
}

// Templates lists the reply templates by position (active ones only when
// activeOnly).
func (s *Store) Templates(ctx context.Context, activeOnly bool) ([]Template, error) {
	where := ""
	if activeOnly {
		where = ` WHERE active`
	}
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT `+templateCols+` FROM reply_templates`+where+` ORDER BY position, id`)
	if err != nil {
		return nil, fmt.Errorf("reply templates: %w", err)
	}
	defer rows.Close()
	out := []Template{}
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Template returns one reply template.
func (s *Store) Template(ctx context.Context, id int64) (Template, error) {
	t, err := scanTemplate(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+templateCols+` FROM reply_templates WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Template{}, fmt.Errorf("reply template %d: %w", id, domain.ErrNotFound)
	}
	return t, err
}

// CheckTemplateBody refuses a body with a variable Careloop does not know.
func CheckTemplateBody(v *domain.ValidationError, field, body string) {
	for _, m := range templateVarRE.FindAllStringSubmatch(body, -1) {
		if _, ok := TemplateVariables[m[1]]; !ok {
			v.Add(field, "validation.template_variable", map[string]any{"Name": "{{" + m[1] + "}}",
				"Known": "{{客户称呼}} {{customer_salutation}} {{工单号}} {{ticket_number}} {{坐席}} {{agent_name}}"})
			return
		}
	}
}

// SaveTemplate creates (ID 0) or updates a reply template; an update must
// carry the template's version.
func (s *Store) SaveTemplate(ctx context.Context, t Template) (Template, error) {
	var v domain.ValidationError
	t.Name, t.Body = strings.TrimSpace(t.Name), strings.TrimSpace(t.Body)
	if t.Name == "" {
		v.Add("name", "validation.required", nil)
	}
	checkLen(&v, "name", t.Name, 40)
	if t.Body == "" {
		v.Add("body", "validation.required", nil)
	}
	checkLen(&v, "body", t.Body, 5000)
	CheckTemplateBody(&v, "body", t.Body)
	if err := v.Err(); err != nil {
		return Template{}, err
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		q := s.db.Q(ctx)
		now := db.Now(s.clock.Now())
		if t.ID == 0 {
			if t.Position <= 0 {
				if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) + 10 FROM reply_templates`).Scan(&t.Position); err != nil {
					return err
				}
			}
			err := q.QueryRowContext(ctx, `INSERT INTO reply_templates (name, body, position, active, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`, t.Name, t.Body, t.Position, t.Active, now).Scan(&t.ID)
			if db.IsUniqueViolation(err) {
				return domain.Invalid("name", "validation.name_taken", nil)
			}
			if err != nil {
				return err
			}
			return s.audit.Record(ctx, "reply_template.create", "reply_template", fmt.Sprint(t.ID), map[string]audit.Change{
				"name": {After: t.Name}, "body": {After: t.Body}})
		}
		before, err := s.Template(ctx, t.ID)
		if err != nil {
			return err
		}
		if t.Position <= 0 {
			t.Position = before.Position
		}
		res, err := q.ExecContext(ctx, `UPDATE reply_templates SET name = $1, body = $2, position = $3, active = $4,
			version = version + 1, updated_at = $5 WHERE id = $6 AND version = $7`, t.Name, t.Body, t.Position, t.Active, now, t.ID, t.Version)
		if db.IsUniqueViolation(err) {
			return domain.Invalid("name", "validation.name_taken", nil)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("reply template %d: %w", t.ID, domain.ErrStale)
		}
		return s.audit.Record(ctx, "reply_template.update", "reply_template", fmt.Sprint(t.ID), audit.Diff(
			map[string]any{"name": before.Name, "body": before.Body, "position": before.Position, "active": before.Active},
			map[string]any{"name": t.Name, "body": t.Body, "position": t.Position, "active": t.Active}))
	})
	if err != nil {
		return Template{}, fmt.Errorf("save reply template: %w", err)
	}
	return s.Template(ctx, t.ID)
}
