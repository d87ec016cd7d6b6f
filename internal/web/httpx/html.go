package httpx

import (
	"bytes"
	"html/template"
	"net/http"
)

// WriteHTML executes the page t (its template name) into a buffer and only
// then writes it with status, so that a template error becomes a clean
// error page instead of half a page. On an error nothing is written.
// Pages are never cached: they carry the caller's data.
func WriteHTML(w http.ResponseWriter, status int, t *template.Template, name string, data any) error {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}
