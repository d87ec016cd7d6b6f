package ui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

// The mailboxes (/admin/mailboxes), for those with settings.manage: the
// addresses the company sends from and takes mail in at. Passwords are
// write-only: the page never shows them, only whether one is set. The API
// has the same at /api/v1/mailboxes.

func (u *UI) mailboxRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/admin/mailboxes", Perm: identity.SettingsManage, Handler: u.mailboxes},
		{Method: "POST", Path: "/admin/mailboxes", Perm: identity.SettingsManage, Handler: u.createMailbox},
		{Method: "GET", Path: "/admin/mailboxes/{id}", Perm: identity.SettingsManage, Handler: u.mailbox},
		{Method: "POST", Path: "/admin/mailboxes/{id}", Perm: identity.SettingsManage, Handler: u.updateMailbox},
	}
}

type mailboxesPage struct {
	Mailboxes  []mailboxCard
	TeamList   []teamOption
	Securities []string
	Form       email.Mailbox // what the form shows: defaults, what was typed, or the mailbox being edited
	FormTeam   int64
	Servers    []serverForm
	// Editing is one mailbox's page; WasDefault hides the default switch
	// there, since a mailbox stops being the default only when another
	// one becomes it.
	Editing    bool
	WasDefault bool
	Status     *email.PollStatus
	// Open keeps the new-mailbox form unfolded: no mailbox yet, or the
	// form came back with errors.
	Open bool
}

// serverForm is one protocol's fieldset of the new-mailbox form.
type serverForm struct {
	Prefix string // smtp or imap: the form fields' prefix and the store's field names
	Server email.Server
}

// mailboxCard is a mailbox of the list with its team's name.
type mailboxCard struct {
	email.Mailbox
	TeamName string
}

type teamOption struct {
	ID   int64
	Name string
}

func (u *UI) mailboxesPage(w http.ResponseWriter, r *http.Request, status int, form email.Mailbox, formErr error) {
	list, err := u.Mailboxes.List(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	teams, err := u.Identity.ListTeams(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := &mailboxesPage{Securities: email.Securities, Form: form,
		Open:    len(list) == 0 || formErr != nil,
		Servers: []serverForm{{"smtp", form.SMTP}, {"imap", form.IMAP}}}
	if form.TeamID != nil {
		d.FormTeam = *form.TeamID
	}
	names := map[int64]string{}
	for _, t := range teams {
		names[t.ID] = t.Name
		d.TeamList = append(d.TeamList, teamOption{ID: t.ID, Name: t.Name})
	}
	for _, m := range list {
		c := mailboxCard{Mailbox: m}
		if m.TeamID != nil {
			c.TeamName = names[*m.TeamID]
		}
		d.Mailboxes = append(d.Mailboxes, c)
	}
	p := u.page(r, "mailboxes.title", d)
	if formErr != nil && !u.fieldErrors(p, formErr) {
		u.fail(w, r, formErr)
		return
	}
	u.render(w, r, status, "mailboxes", p)
}

func (u *UI) mailboxes(w http.ResponseWriter, r *http.Request) {
	u.mailboxesPage(w, r, http.StatusOK, email.Mailbox{
		IMAP:   email.Server{Port: 993, Security: "tls"},
		SMTP:   email.Server{Port: 465, Security: "tls"},
		Folder: "INBOX",
	}, nil)
}

// serverFromForm reads one protocol's fields; a port that is not a number
// is kept as 0 so the store names the field.
func serverFromForm(r *http.Request, prefix string) email.Server {
	port, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue(prefix + ".port")))
	return email.Server{
		Host:     r.PostFormValue(prefix + ".host"),
		Port:     port,
		Security: r.PostFormValue(prefix + ".security"),
		Username: strings.TrimSpace(r.PostFormValue(prefix + ".username")),
	}
}

func (u *UI) createMailbox(w http.ResponseWriter, r *http.Request) {
	in := email.MailboxInput{
		Name:         r.PostFormValue("name"),
		Address:      r.PostFormValue("address"),
		SMTP:         serverFromForm(r, "smtp"),
		IMAP:         serverFromForm(r, "imap"),
		Folder:       strings.TrimSpace(r.PostFormValue("folder")),
		IsDefault:    r.PostFormValue("is_default") != "",
		SMTPPassword: r.PostFormValue("smtp_password"),
		IMAPPassword: r.PostFormValue("imap_password"),
	}
	if t, err := strconv.ParseInt(r.PostFormValue("team_id"), 10, 64); err == nil && t > 0 {
		in.TeamID = &t
	}
	if in.IMAP.Host == "" {
		// No IMAP server: the mailbox only sends; its unused port and
		// security are not the admin's mistake.
		in.IMAP.Port, in.IMAP.Security = 0, ""
	}
	if _, err := u.Mailboxes.Create(r.Context(), in); err != nil {
		// Passwords are never echoed back into the page.
		u.mailboxesPage(w, r, http.StatusBadRequest, email.Mailbox{Name: in.Name, Address: in.Address, SMTP: in.SMTP, IMAP: in.IMAP,
			Folder: in.Folder, TeamID: in.TeamID, IsDefault: in.IsDefault}, err)
		return
	}
	redirect(w, r, "/admin/mailboxes?done=mailbox_created")
}
