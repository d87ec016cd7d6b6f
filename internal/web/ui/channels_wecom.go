package ui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/robots"
)

// WeCom (/admin/channels/wecom), for those with settings.manage: the page
// form of PUT /api/v1/channels/wecom, saved in one transaction by the
// store the API uses (audited as robots.update and wecom_app.update). It
// holds the application that messages one staff member (corp id, agent
// id, the write-only secret), each staff member's WeCom UserID, and the
// WeCom group robots (channels_robots.go). Other parts of the WeCom
// settings (customer service, 微信客服) have their own page; this form
// leaves them as they are.

type wecomApp struct {
	CorpID, AgentID, Endpoint string
	Active, SecretSet, Set    bool
}

// wecomStaffRow is one staff member and their WeCom UserID; Index is the
// position in the list sent to the store (how it names a refused one), -1
// for those without one.
type wecomStaffRow struct {
	UserID            int64
	Name, Email, WeID string
	Index             int
}

// wecomPart is what the WeCom page adds to the robots.
type wecomPart struct {
	App   wecomApp
	Staff []wecomStaffRow
}

func appOf(a *robots.App) wecomApp {
	if a == nil {
		return wecomApp{Active: true}
	}
	return wecomApp{CorpID: a.CorpID, AgentID: strconv.FormatInt(a.AgentID, 10), Endpoint: a.Endpoint, Active: a.Active, SecretSet: a.SecretSet, Set: true}
}

// staffRows lists every active staff member with their id on file, or as
// typed (typed by user id).
func (u *UI) staffRows(r *http.Request, ids map[int64]string) ([]wecomStaffRow, error) {
	users, err := u.Identity.ListUsers(r.Context())
	if err != nil {
		return nil, err
	}
	var out []wecomStaffRow
	n := 0
	for _, us := range users {
		wid, has := ids[us.ID]
		if !us.Active && !has {
			continue
		}
		row := wecomStaffRow{UserID: us.ID, Name: us.Name, Email: us.Email, WeID: wid, Index: -1}
		if wid != "" {
			row.Index = n
			n++
		}
		out = append(out, row)
	}
	return out, nil
}

func (u *UI) wecomPageOf(r *http.Request, app wecomApp, ids map[int64]string, rows []robotRow) (*robotsPage, error) {
	staff, err := u.staffRows(r, ids)
	if err != nil {
		return nil, err
	}
	set, err := u.robotSetOf(r.Context(), robots.WeCom, rows)
	if err != nil {
		return nil, err
	}
	return &robotsPage{Robots: set, WeCom: &wecomPart{App: app, Staff: staff}}, nil
}

func (u *UI) channelWeCom(w http.ResponseWriter, r *http.Request) {
	l, err := u.Robots.WeCom(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	ids := map[int64]string{}
	for _, st := range l.Staff {
		ids[st.UserID] = st.WeComUserID
	}
	d, err := u.wecomPageOf(r, appOf(l.App), ids, storedRobotRows(l.Robots))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "channels_robots", u.page(r, "channels.wecom.title", d))
}

func (u *UI) saveChannelWeCom(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	pf := r.PostForm
	var fv domain.ValidationError
	ins, rows := robotForm(pf, &fv)
	cfg := robots.WeComConfig{Robots: ins}
	app := wecomApp{CorpID: strings.TrimSpace(pf.Get("corp_id")), AgentID: strings.TrimSpace(pf.Get("agent_id")),
		Endpoint: strings.TrimSpace(pf.Get("app_endpoint")), Active: pf.Get("app_active") != ""}
	stored, err := u.Robots.WeCom(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	secret := pf.Get("app_secret")
	// An application never set up and left blank is not one to save.
	if stored.App != nil || app.CorpID != "" || app.AgentID != "" || secret != "" {
		in := robots.AppInput{CorpID: app.CorpID, Secret: secret, Endpoint: app.Endpoint, Active: &app.Active}
		in.AgentID = int64(formInt(&fv, app.AgentID, "application.agent_id"))
		cfg.App = &in
	}
	// The staff's ids, in user order, as the rows will number them.
	ids := map[int64]string{}
	staff := []robots.StaffID{}
	users, err := u.Identity.ListUsers(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	for _, us := range users {
		if wid := strings.TrimSpace(pf.Get("wecom_user_" + strconv.FormatInt(us.ID, 10))); wid != "" {
			ids[us.ID] = wid
			staff = append(staff, robots.StaffID{UserID: us.ID, WeComUserID: wid})
		}
	}
	cfg.Staff = &staff
	err = fv.Err()
	if err == nil {
		_, err = u.Robots.ReplaceWeCom(r.Context(), cfg)
	}
	if err == nil {
		redirect(w, r, "/admin/channels/wecom?done=saved")
		return
	}
	// Back as typed; which secrets are set comes from what is stored.
	markSecrets(rows, stored.Robots)
	app.SecretSet, app.Set = stored.App != nil && stored.App.SecretSet, stored.App != nil
	d, gerr := u.wecomPageOf(r, app, ids, rows)
	if gerr != nil {
		u.fail(w, r, gerr)
		return
	}
	p := u.page(r, "channels.wecom.title", d)
	if u.fieldErrors(p, err) {
		u.render(w, r, http.StatusBadRequest, "channels_robots", p)
		return
	}
	u.fail(w, r, err)
}
