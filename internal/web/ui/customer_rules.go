package ui

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

func (u *UI) customerRulesRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/admin/customer-rules", Perm: identity.SettingsManage, Handler: u.customerRules},
		{Method: "POST", Path: "/admin/customer-rules", Perm: identity.SettingsManage, Handler: u.saveCustomerRules},
	}
}

// ruleField is one number of the rules form, as typed.
type ruleField struct {
	Name    string // form field and JSON name
	Value   string
	Max     int
	Default int
}

type customerRulesData struct {
	Rules    customers.Rules // as stored
	Segments []ruleField
	Stages   []ruleField
	Version  int
}

// rulesData fills the form from the stored rules; typed, when set, keeps
// what the user typed.
func rulesData(r customers.Rules, typed map[string]string) *customerRulesData {
	field := func(name string, v, max, def int) ruleField {
		f := ruleField{Name: name, Value: strconv.Itoa(v), Max: max, Default: def}
		if s, ok := typed[name]; ok {
			f.Value = s
		}
		return f
	}
	d := customers.DefaultRules
	return &customerRulesData{Rules: r, Version: r.Version,
		Segments: []ruleField{
			field("old_after_days", r.OldAfterDays, customers.MaxRuleDays, d.OldAfterDays),
			field("high_value_products", r.HighValueProducts, customers.MaxRuleProducts, d.HighValueProducts),
		},
		Stages: []ruleField{
			field("new_for_days", r.NewForDays, customers.MaxRuleDays, d.NewForDays),
			field("active_for_days", r.ActiveForDays, customers.MaxRuleDays, d.ActiveForDays),
		}}
}

func (u *UI) customerRules(w http.ResponseWriter, r *http.Request) {
	u.customerRulesPage(w, r, http.StatusOK, nil, nil)
}

// customerRulesPage renders the form; err, when set, is why the last save
// failed (field errors go next to their fields).
func (u *UI) customerRulesPage(w http.ResponseWriter, r *http.Request, status int, typed map[string]string, err error) {
	rules, rerr := u.Customers.Rules(r.Context())
	if rerr != nil {
		u.fail(w, r, rerr)
		return
	}
	p := u.page(r, "customers.rules_title", rulesData(rules, typed))
	if err != nil && !u.fieldErrors(p, err) {
		if !errors.Is(err, domain.ErrStale) {
			u.fail(w, r, err)
			return
		}
		// Someone saved meanwhile: show their rules and say so.
		p.Data, p.Error = rulesData(rules, nil), "error.stale"
	}
	u.render(w, r, status, "customer_rules", p)
}

func (u *UI) saveCustomerRules(w http.ResponseWriter, r *http.Request) {
	typed := map[string]string{}
	in := customers.RulesInput{}
	bad := &domain.ValidationError{}
	for name, dst := range map[string]**int{"old_after_days": &in.OldAfterDays, "high_value_products": &in.HighValueProducts,
		"new_for_days": &in.NewForDays, "active_for_days": &in.ActiveForDays} {
		s := strings.TrimSpace(r.PostFormValue(name))
		typed[name] = s
		if s == "" {
			continue // SetRules says it is required
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			bad.Add(name, "validation.integer", nil)
			continue
		}
		*dst = &n
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	in.Version = &version
	err := bad.Err()
	if err == nil {
		_, err = u.Customers.SetRules(r.Context(), in)
	}
	if err != nil {
		status, _ := httpx.Status(err)
		u.customerRulesPage(w, r, status, typed, err)
		return
	}
	redirect(w, r, "/admin/customer-rules?done=customer_rules_saved")
}
