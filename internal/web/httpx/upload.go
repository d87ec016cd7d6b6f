package httpx

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/domain"
)

// TooLargeError is a request refused for its size: Status answers 413, with
// the fields of the validation error it wraps.
type TooLargeError struct{ Err error }

func (e *TooLargeError) Error() string { return "too large: " + e.Err.Error() }
func (e *TooLargeError) Unwrap() error { return e.Err }

// Bounds of the text fields of an upload form.
const (
	maxUploadField  = 64 << 10
	maxUploadFields = 256 << 10
)

// UploadForm is a multipart form read by ReadUpload: its text fields and
// its files, staged on disk and checked, not yet recorded.
type UploadForm struct {
	Fields url.Values
	Files  []attachments.Staged
}

// ReadUpload reads a multipart/form-data request part by part (never
// ParseMultipartForm, which buffers the whole body): each part of fileField
// is streamed into st.Stage as it arrives, and the first refusal ends the
// reading, so an oversized file stops the request after the limit. A
// Content-Length above what the limits allow (Limits.MaxBodyBytes) is
// refused before a byte is read, as is a part beyond the limit's number of
// files. Errors: *TooLargeError for sizes (413), else a
// *domain.ValidationError (400). Files staged before an error are left to
// attachments' Cleanup. Once the parts are being read, an error comes with
// the form as read so far, so that a page can show again what was typed
// before a refused file.
//
// The handler records the files inside its transaction:
//
//	form, err := httpx.ReadUpload(w, r, st, "files")
//	if err != nil { k.Error(w, r, err); return }
//	err = d.WithTx(ctx, func(ctx context.Context) error {
//		msg := …create the message…
//		for _, f := range form.Files {
//			if _, err := st.Record(ctx, "ticket_message", msg.ID, f); err != nil { return err }
//		}
//		return nil
//	})
func ReadUpload(w http.ResponseWriter, r *http.Request, st *attachments.Store, fileField string) (*UploadForm, error) {
	ctx := r.Context()
	lim, err := st.Limits(ctx)
	if err != nil {
		return nil, err
	}
	bodyMax := lim.MaxBodyBytes()
	tooLarge := &TooLargeError{domain.Invalid(attachments.Field, "attachments.body_too_large", map[string]any{
		"Max": attachments.FormatSize(bodyMax), "MaxFiles": lim.MaxFiles, "MaxFile": attachments.FormatSize(lim.MaxFileBytes)})}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "multipart/form-data" {
		return nil, domain.Invalid(attachments.Field, "attachments.not_multipart", nil)
	}
	if r.ContentLength > bodyMax {
		return nil, tooLarge
	}
	r.Body = http.MaxBytesReader(w, r.Body, bodyMax)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, domain.Invalid(attachments.Field, "attachments.not_multipart", nil)
	}
	form := &UploadForm{Fields: url.Values{}}
	fieldBytes := 0
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return form, nil
		}
		if err != nil {
			return form, partError(err, tooLarge)
		}
		name := p.FormName()
		if p.FileName() != "" || name == fileField {
			if name != fileField {
				return form, domain.Invalid(name, "attachments.unexpected_file", map[string]any{"Field": name})
			}
			if p.FileName() == "" {
				// A file input left empty: browsers send a part with no
				// name and no bytes.
				if _, err := io.Copy(io.Discard, io.LimitReader(p, 1)); err != nil {
					return form, partError(err, tooLarge)
				}
				continue
			}
			if len(form.Files) >= lim.MaxFiles {
				return form, domain.Invalid(attachments.Field, attachments.KeyTooMany, map[string]any{"Max": lim.MaxFiles})
			}
			sf, err := st.Stage(ctx, p.FileName(), p)
			if err != nil {
				var v *domain.ValidationError
				if errors.As(err, &v) && v.Fields[0].Key == attachments.KeyTooLarge {
					return form, &TooLargeError{err}
				}
				return form, partError(err, tooLarge)
			}
			form.Files = append(form.Files, sf)
			continue
		}
		data, err := io.ReadAll(io.LimitReader(p, maxUploadField+1))
		if err != nil {
			return form, partError(err, tooLarge)
		}
		fieldBytes += len(data)
		if len(data) > maxUploadField || fieldBytes > maxUploadFields || !CleanText(string(data)) || !CleanText(name) {
			return form, domain.Invalid(name, "attachments.form_field", map[string]any{"Field": name})
		}
		form.Fields.Add(name, string(data))
	}
}

// partError tells a body over its limit from a malformed or cut one; a
// validation error passes through, and so does a failure of the disk (a
// 500, logged).
func partError(err error, tooLarge error) error {
	var mb *http.MaxBytesError
	var v *domain.ValidationError
	var pe *fs.PathError
	switch {
	case errors.As(err, &mb):
		return tooLarge
	case errors.As(err, &v):
		return err
	case errors.As(err, &pe):
		return fmt.Errorf("upload: %w", err)
	}
	return fmt.Errorf("upload: %v: %w", err, domain.Invalid(attachments.Field, "attachments.malformed", nil))
}
