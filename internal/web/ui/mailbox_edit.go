package ui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/web/httpx"
)

// One mailbox's page (/admin/mailboxes/{id}): its settings to change and
// how its intake stands (last read, last error, mails refused). A password
// left empty keeps the stored one, since the page cannot show it.

func (u *UI) mailboxPageFor(w http.ResponseWriter, r *http.Request, status int, id int64, edited *email.Mailbox, formErr error) {
	m, err := u.Mailboxes.WithStatus(r.Context(), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	teams, err := u.Identity.ListTeams(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	form := m
	if edited != nil {
		// The page comes back with what the admin typed, its status from
		// the store.
		edited.Poll, edited.LastPolledAt, edited.LastError = m.Poll, m.LastPolledAt, m.LastError
		form = *edited
	}
	d := &mailboxesPage{Form: form, Securities: email.Securities, Editing: true, WasDefault: m.IsDefault, Status: m.Poll,
		Servers: []serverForm{{"smtp", form.SMTP}, {"imap", form.IMAP}}}
	if form.TeamID != nil {
		d.FormTeam = *form.TeamID
	}
	for _, t := range teams {
		d.TeamList = append(d.TeamList, teamOption{ID: t.ID, Name: t.Name})
	}
	p := u.page(r, "mailboxes.edit_title", d)
	p.TitleArgs = []any{"Name", m.Name}
	if formErr != nil && !u.fieldErrors(p, formErr) {
		u.fail(w, r, formErr)
		return
	}
	u.render(w, r, status, "mailboxes", p)
}

func (u *UI) mailbox(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.mailboxPageFor(w, r, http.StatusOK, id, nil, nil)
}

func strPtr(s string) *string { return &s }

func serverPatchFromForm(r *http.Request, prefix string) (*email.ServerPatch, email.Server) {
	s := serverFromForm(r, prefix)
	return &email.ServerPatch{Host: &s.Host, Port: &s.Port, Security: &s.Security, Username: &s.Username}, s
}

func (u *UI) updateMailbox(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	smtp, smtpForm := serverPatchFromForm(r, "smtp")
	imap, imapForm := serverPatchFromForm(r, "imap")
	if imapForm.Host == "" {
		imap.Port, imap.Security = new(int), strPtr("")
		imapForm.Port, imapForm.Security = 0, ""
	}
	active, isDefault := r.PostFormValue("active") != "", r.PostFormValue("is_default") != ""
	interval, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue("poll_interval_seconds")))
	p := email.MailboxPatch{
		Name: strPtr(r.PostFormValue("name")), Address: strPtr(r.PostFormValue("address")),
		Active: &active, SMTP: smtp, IMAP: imap, Folder: strPtr(strings.TrimSpace(r.PostFormValue("folder"))),
		PollInterval: &interval, TeamID: email.OptionalID{Set: true},
	}
	if isDefault {
		p.IsDefault = &isDefault // only true: another mailbox is made the default from its own page
	}
	if t, err := strconv.ParseInt(r.PostFormValue("team_id"), 10, 64); err == nil && t > 0 {
		p.TeamID.ID = &t
	}
	if v := r.PostFormValue("smtp_password"); v != "" {
		p.SMTPPassword = &v
	}
	if v := r.PostFormValue("imap_password"); v != "" {
		p.IMAPPassword = &v
	}
	if _, err := u.Mailboxes.Update(r.Context(), id, p); err != nil {
		edited := email.Mailbox{ID: id, Name: *p.Name, Address: *p.Address, SMTP: smtpForm, IMAP: imapForm, Folder: *p.Folder,
			TeamID: p.TeamID.ID, Active: active, IsDefault: isDefault, PollInterval: interval}
		u.mailboxPageFor(w, r, http.StatusBadRequest, id, &edited, err)
		return
	}
	redirect(w, r, "/admin/mailboxes/"+strconv.FormatInt(id, 10)+"?done=mailbox_saved")
}
