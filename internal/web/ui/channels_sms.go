package ui

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/sms"
	"github.com/careloop/careloop/internal/web/httpx"
)

// The SMS channel's settings (/admin/channels/sms), for those with
// settings.manage: the page form of PUT /api/v1/channels/sms. The store's
// Update validates and audits (setting.update) as for the API; the secret
// is write-only ("已设置" shown, blank keeps it).

func (u *UI) channelSMSRoutes() []httpx.Route {
	if u.SMS == nil {
		return nil
	}
	return []httpx.Route{
		{Method: "GET", Path: "/admin/channels/sms", Perm: identity.SettingsManage, Handler: u.channelSMS},
		{Method: "POST", Path: "/admin/channels/sms", Perm: identity.SettingsManage, Handler: u.saveChannelSMS},
	}
}

// smsTemplateRow is one line of the templates table, as typed.
type smsTemplateRow struct {
	Kind, Code, Vars string
	Urgent           bool
}

type smsPage struct {
	View      sms.View
	Providers []string
	Templates []smsTemplateRow
	// Numbers as typed, so that a refused one comes back as it was.
	MaxVarChars, PerCustomerDay, PerDay, UnitPriceFen string
}

// blankTemplateRows are the empty lines offered for new kinds.
const blankTemplateRows = 2

func smsPageOf(v sms.View) *smsPage {
	d := &smsPage{View: v, Providers: []string{sms.Aliyun, sms.Tencent},
		MaxVarChars: strconv.Itoa(v.MaxVarChars), PerCustomerDay: strconv.Itoa(v.PerCustomerDay),
		PerDay: strconv.Itoa(v.PerDay), UnitPriceFen: strconv.Itoa(v.UnitPriceFen)}
	kinds := make([]string, 0, len(v.Templates))
	for k := range v.Templates {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		t := v.Templates[k]
		d.Templates = append(d.Templates, smsTemplateRow{Kind: k, Code: t.Code, Vars: strings.Join(t.Vars, ", "), Urgent: t.Urgent})
	}
	for range blankTemplateRows {
		d.Templates = append(d.Templates, smsTemplateRow{})
	}
	return d
}

func (u *UI) channelSMS(w http.ResponseWriter, r *http.Request) {
	v, err := u.SMS.Get(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "channels_sms", u.page(r, "channels.sms.title", smsPageOf(v)))
}

// formInt reads a whole number the form names; a wrong one is named as the
// API would name it.
func formInt(v *domain.ValidationError, raw, field string) int {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return 0
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		v.Add(field, "channels.not_a_number", nil)
	}
	return n
}

func (u *UI) saveChannelSMS(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	pf := r.PostForm
	version, _ := strconv.ParseInt(pf.Get("version"), 10, 64)
	c := sms.Config{Enabled: pf.Get("enabled") != "", Provider: pf.Get("provider"), Endpoint: strings.TrimSpace(pf.Get("endpoint")),
		Region: strings.TrimSpace(pf.Get("region")), AccessKeyID: strings.TrimSpace(pf.Get("access_key_id")),
		SdkAppID: strings.TrimSpace(pf.Get("sdk_app_id")), SignName: strings.TrimSpace(pf.Get("sign_name")),
		Quiet:     sms.Quiet{Start: strings.TrimSpace(pf.Get("quiet_start")), End: strings.TrimSpace(pf.Get("quiet_end")), Zone: strings.TrimSpace(pf.Get("quiet_zone"))},
		Templates: map[string]sms.Template{}}
	var fv domain.ValidationError
	c.MaxVarChars = formInt(&fv, pf.Get("max_var_chars"), "max_var_chars")
	c.PerCustomerDay = formInt(&fv, pf.Get("per_customer_day"), "per_customer_day")
	c.PerDay = formInt(&fv, pf.Get("per_day"), "per_day")
	c.UnitPriceFen = formInt(&fv, pf.Get("unit_price_fen"), "unit_price_fen")
	var rows []smsTemplateRow
	for i := 0; ; i++ {
		n := strconv.Itoa(i)
		if _, ok := pf["tpl_kind_"+n]; !ok {
			break
		}
		row := smsTemplateRow{Kind: strings.TrimSpace(pf.Get("tpl_kind_" + n)), Code: strings.TrimSpace(pf.Get("tpl_code_" + n)),
			Vars: pf.Get("tpl_vars_" + n), Urgent: pf.Get("tpl_urgent_"+n) != ""}
		rows = append(rows, row)
		if row.Kind == "" && row.Code == "" && strings.TrimSpace(row.Vars) == "" {
			continue // an unused blank line
		}
		t := sms.Template{Code: row.Code, Urgent: row.Urgent,
			Vars: append([]string{}, strings.FieldsFunc(row.Vars, func(r rune) bool { return r == ',' || r == '，' || r == ' ' })...)}
		c.Templates[row.Kind] = t
	}
	in := sms.Input{Config: c, Version: version}
	if s := pf.Get("secret"); s != "" {
		in.Secret = &s
	} else if pf.Get("secret_clear") != "" {
		empty := ""
		in.Secret = &empty
	}
	err := fv.Err()
	if err == nil {
		_, err = u.SMS.Update(r.Context(), in)
	}
	if err == nil {
		redirect(w, r, "/admin/channels/sms?done=saved")
		return
	}
	// Back to the form as typed, with what is stored for the rest.
	stored, gerr := u.SMS.Get(r.Context())
	if gerr != nil {
		u.fail(w, r, gerr)
		return
	}
	view := stored
	view.Config = c
	view.Version = version
	d := smsPageOf(view)
	d.Templates = rows
	d.MaxVarChars, d.PerCustomerDay, d.PerDay, d.UnitPriceFen = pf.Get("max_var_chars"), pf.Get("per_customer_day"), pf.Get("per_day"), pf.Get("unit_price_fen")
	p := u.page(r, "channels.sms.title", d)
	switch {
	case u.fieldErrors(p, err):
		u.render(w, r, http.StatusBadRequest, "channels_sms", p)
	case isStale(err):
		p.Error = "channels.stale"
		u.render(w, r, http.StatusConflict, "channels_sms", p)
	default:
		u.fail(w, r, err)
	}
}
