package ui

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

// The limits of attached files (/admin/attachments), for those with
// settings.manage: size per file, files per message, the allowed types.
// They are internal/attachments' (a setting every server reads within
// seconds); the API has the same at /api/v1/attachment-limits.

func (u *UI) attachSettingsRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/admin/attachments", Perm: identity.SettingsManage, Handler: u.attachSettings},
		{Method: "POST", Path: "/admin/attachments", Perm: identity.SettingsManage, Handler: u.saveAttachSettings},
	}
}

type attachSettingsPage struct {
	MaxMB    string // the size per file in MB, as typed or stored
	MaxFiles string
	Version  int64
	Types    []attachTypeOption
	Off      bool // the server keeps no files
}

type attachTypeOption struct {
	MIME, Exts string
	On         bool
}

func attachSettingsOf(l attachments.Limits, version int64) *attachSettingsPage {
	d := &attachSettingsPage{MaxMB: strconv.FormatFloat(float64(l.MaxFileBytes)/(1<<20), 'f', -1, 64),
		MaxFiles: strconv.Itoa(l.MaxFiles), Version: version}
	for _, t := range attachments.KnownTypes() {
		d.Types = append(d.Types, attachTypeOption{MIME: t.MIME, Exts: "." + strings.Join(t.Extensions, " ."), On: l.Allows(t.MIME)})
	}
	return d
}

func (u *UI) attachSettings(w http.ResponseWriter, r *http.Request) {
	st := u.Tickets.Attachments()
	if st == nil {
		u.render(w, r, http.StatusOK, "attach_settings", u.page(r, "nav.attachment_settings", &attachSettingsPage{Off: true}))
		return
	}
	l, v, err := st.LimitsVersion(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "attach_settings", u.page(r, "nav.attachment_settings", attachSettingsOf(l, v)))
}

func (u *UI) saveAttachSettings(w http.ResponseWriter, r *http.Request) {
	st := u.Tickets.Attachments()
	if st == nil {
		u.fail(w, r, domain.ErrNotFound)
		return
	}
	_ = r.ParseForm()
	pf := r.PostForm
	l := attachments.Limits{AllowedTypes: pf["allowed_types"]}
	version, _ := strconv.ParseInt(pf.Get("version"), 10, 64)
	var v domain.ValidationError
	mb, err := strconv.ParseFloat(strings.TrimSpace(pf.Get("max_file_mb")), 64)
	if err != nil || math.IsNaN(mb) || math.IsInf(mb, 0) || mb <= 0 || mb > attachments.MaxFileBytesCeiling>>20 {
		v.Add("max_file_bytes", attachments.KeyLimitFileBytes, map[string]any{"Min": attachments.FormatSize(attachments.MinFileBytes),
			"Max": attachments.FormatSize(attachments.MaxFileBytesCeiling)})
	} else {
		l.MaxFileBytes = int64(math.Round(mb * (1 << 20)))
	}
	if l.MaxFiles, err = strconv.Atoi(strings.TrimSpace(pf.Get("max_files"))); err != nil {
		v.Add("max_files", attachments.KeyLimitFiles, map[string]any{"Max": attachments.MaxFilesCeiling})
	}
	err = v.Err()
	if err == nil {
		_, err = st.SetLimits(r.Context(), l, version)
	}
	if err == nil {
		redirect(w, r, "/admin/attachments?done=saved")
		return
	}
	d := attachSettingsOf(l, version)
	d.MaxMB, d.MaxFiles = pf.Get("max_file_mb"), pf.Get("max_files")
	p := u.page(r, "nav.attachment_settings", d)
	switch {
	case u.fieldErrors(p, err):
		u.render(w, r, http.StatusBadRequest, "attach_settings", p)
	case isStale(err):
		p.Error = "tkt.attach.settings_stale"
		u.render(w, r, http.StatusConflict, "attach_settings", p)
	default:
		u.fail(w, r, err)
	}
}
