package ui

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/robots"
	"github.com/careloop/careloop/internal/web/httpx"
)

// The DingTalk group robots (/admin/channels/dingtalk), for those with
// settings.manage: the page form of PUT /api/v1/channels/dingtalk. One
// form holds the kind's whole list (the store replaces it whole, audited
// as robots.update) and a blank robot to add; the webhook (its token) and
// the signing secret are write-only: "已设置" is shown, blank keeps them.
// The WeCom page (channels_wecom.go) shares the robot rows. Each saved
// robot has a "send a test message" button: a row in the outbox, whose
// page then shows what the provider answered.

func (u *UI) channelRobotRoutes() []httpx.Route {
	if u.Robots == nil {
		return nil
	}
	return []httpx.Route{
		{Method: "GET", Path: "/admin/channels/dingtalk", Perm: identity.SettingsManage, Handler: u.channelDingTalk},
		{Method: "POST", Path: "/admin/channels/dingtalk", Perm: identity.SettingsManage, Handler: u.saveChannelDingTalk},
		{Method: "POST", Path: "/admin/channels/dingtalk/{id}/test", Perm: identity.SettingsManage, Handler: u.testRobot(robots.DingTalk)},
		{Method: "GET", Path: "/admin/channels/wecom", Perm: identity.SettingsManage, Handler: u.channelWeCom},
		{Method: "POST", Path: "/admin/channels/wecom", Perm: identity.SettingsManage, Handler: u.saveChannelWeCom},
		{Method: "POST", Path: "/admin/channels/wecom/{id}/test", Perm: identity.SettingsManage, Handler: u.testRobot(robots.WeCom)},
	}
}

// robotRow is one robot of the form, as stored or as typed.
type robotRow struct {
	Index               int
	ID                  int64
	Name, Endpoint      string
	Events              []string
	TeamID              string // "" = every team
	Language, Backlog   string
	Active              bool
	TokenSet, SecretSet bool
}

// robotsPage is the DingTalk or the WeCom page (one template,
// channels_robots.html): WeCom adds its application and the staff's ids.
type robotsPage struct {
	Robots robotSet
	WeCom  *wecomPart
}

// robotSet is the robots part of a page: the rows and what they choose
// from.
type robotSet struct {
	Kind      string
	Rows      []robotRow
	Events    []string
	Teams     []identity.Team
	Languages []string
	// What the provider's webhook and secret look like (placeholders: not
	// words to translate).
	WebhookExample, SecretExample string
}

var webhookExamples = map[string]string{
	robots.DingTalk: "https://oapi.dingtalk.com/robot/send?access_token=…",
	robots.WeCom:    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
}

func robotRowOf(i int, r robots.Robot) robotRow {
	row := robotRow{Index: i, ID: r.ID, Name: r.Name, Endpoint: r.Endpoint, Events: r.Events, Language: r.Language,
		Backlog: strconv.Itoa(r.BacklogThreshold), Active: r.Active, TokenSet: r.TokenSet, SecretSet: r.SecretSet}
	if r.TeamID != nil {
		row.TeamID = strconv.FormatInt(*r.TeamID, 10)
	}
	return row
}

// blankRobot is the line offered to add a robot.
func blankRobot(i int) robotRow {
	return robotRow{Index: i, Language: i18n.Default, Backlog: strconv.Itoa(robots.DefaultBacklog), Active: true, Events: []string{}}
}

func (u *UI) robotSetOf(ctx context.Context, kind string, rows []robotRow) (robotSet, error) {
	teams, err := u.Identity.ListTeams(ctx)
	if err != nil {
		return robotSet{}, err
	}
	rows = append(rows, blankRobot(len(rows)))
	return robotSet{Kind: kind, Rows: rows, Events: notify.AlertEvents, Teams: teams, Languages: i18n.Languages,
		WebhookExample: webhookExamples[kind], SecretExample: "SEC…"}, nil
}

func storedRobotRows(rs []robots.Robot) []robotRow {
	rows := []robotRow{}
	for i, r := range rs {
		rows = append(rows, robotRowOf(i, r))
	}
	return rows
}

// robotForm reads the robots of a posted form: the inputs for the store and
// the rows as typed, both numbered as the store will name their fields
// (robots[i].…), blank and removed lines left out. A number that is not one
// is the form's to name.
func robotForm(pf map[string][]string, fv *domain.ValidationError) ([]robots.Input, []robotRow) {
	get := func(k string) string {
		if v := pf[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	ins := []robots.Input{}
	var rows []robotRow
	for i := 0; i <= 50; i++ {
		n := strconv.Itoa(i)
		if _, ok := pf["robot_name_"+n]; !ok {
			break
		}
		id, _ := strconv.ParseInt(get("robot_id_"+n), 10, 64)
		in := robots.Input{ID: id, Name: get("robot_name_" + n), Webhook: get("robot_webhook_" + n), Secret: get("robot_secret_" + n),
			Endpoint: get("robot_endpoint_" + n), Language: get("robot_language_" + n), Events: []string{}}
		if id == 0 && in.Name == "" && in.Webhook == "" && in.Secret == "" {
			continue // the unused blank robot
		}
		if get("robot_remove_"+n) != "" {
			continue
		}
		j := len(ins)
		for _, e := range pf["robot_events_"+n] {
			if !slices.Contains(in.Events, e) {
				in.Events = append(in.Events, e)
			}
		}
		active := get("robot_active_"+n) != ""
		in.Active = &active
		row := robotRow{Index: j, ID: id, Name: in.Name, Endpoint: in.Endpoint, Events: in.Events, Language: in.Language,
			TeamID: get("robot_team_" + n), Backlog: get("robot_backlog_" + n), Active: active}
		if row.TeamID != "" {
			team, err := strconv.ParseInt(row.TeamID, 10, 64)
			if err != nil {
				fv.Add("robots["+strconv.Itoa(j)+"].team_id", "channels.not_a_number", nil)
			}
			in.TeamID = &team
		}
		in.BacklogThreshold = formInt(fv, row.Backlog, "robots["+strconv.Itoa(j)+"].backlog_threshold")
		ins = append(ins, in)
		rows = append(rows, row)
	}
	return ins, rows
}

// markSecrets shows on the typed rows which tokens and secrets are stored.
func markSecrets(rows []robotRow, stored []robots.Robot) {
	for i := range rows {
		for _, s := range stored {
			if s.ID == rows[i].ID {
				rows[i].TokenSet, rows[i].SecretSet = s.TokenSet, s.SecretSet
			}
		}
	}
}

func (u *UI) channelDingTalk(w http.ResponseWriter, r *http.Request) {
	l, err := u.Robots.List(r.Context(), robots.DingTalk)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	set, err := u.robotSetOf(r.Context(), robots.DingTalk, storedRobotRows(l.Robots))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "channels_robots", u.page(r, "channels.dingtalk.title", &robotsPage{Robots: set}))
}

func (u *UI) saveChannelDingTalk(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	var fv domain.ValidationError
	ins, rows := robotForm(r.PostForm, &fv)
	err := fv.Err()
	if err == nil {
		_, err = u.Robots.Replace(r.Context(), robots.DingTalk, robots.Config{Robots: ins})
	}
	if err == nil {
		redirect(w, r, "/admin/channels/dingtalk?done=saved")
		return
	}
	stored, gerr := u.Robots.List(r.Context(), robots.DingTalk)
	if gerr != nil {
		u.fail(w, r, gerr)
		return
	}
	markSecrets(rows, stored.Robots)
	set, gerr := u.robotSetOf(r.Context(), robots.DingTalk, rows)
	if gerr != nil {
		u.fail(w, r, gerr)
		return
	}
	p := u.page(r, "channels.dingtalk.title", &robotsPage{Robots: set})
	if u.fieldErrors(p, err) {
		u.render(w, r, http.StatusBadRequest, "channels_robots", p)
		return
	}
	u.fail(w, r, err)
}

// testRobot queues a test message and shows its outbox row, where the
// provider's answer appears once it is sent.
func (u *UI) testRobot(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := httpx.PathID(r, "id")
		if err != nil {
			u.fail(w, r, err)
			return
		}
		mid, err := u.Robots.SendTest(r.Context(), kind, id)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		redirect(w, r, "/admin/outbox/"+strconv.FormatInt(mid, 10)+"?done=robot_test")
	}
}
