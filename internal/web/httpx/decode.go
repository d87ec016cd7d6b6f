package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/domain"
)

// MaxJSONBody bounds API request bodies.
const MaxJSONBody = 1 << 20

// DecodeError is a request body that cannot be read; Status is 400, 413 or 415.
type DecodeError struct {
	Status int
	Key    string
	Params map[string]any
	Field  string
}

func (e *DecodeError) Error() string { return fmt.Sprintf("decode body: %s %s", e.Key, e.Field) }

// Decode reads a JSON body into dst strictly: the content type must be JSON,
// the body at most MaxJSONBody, valid UTF-8, one object (not null), no
// unknown fields, no key twice in an object; every wrongly typed field is
// named (decode_strict.go).
func Decode(r *http.Request, dst any) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return &DecodeError{Status: http.StatusUnsupportedMediaType, Key: "error.content_type"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxJSONBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &DecodeError{Status: http.StatusRequestEntityTooLarge, Key: "error.too_large", Params: map[string]any{"Max": "1 MB"}}
	}
	if err != nil {
		return &DecodeError{Status: http.StatusBadRequest, Key: "error.body_unreadable"}
	}
	if !utf8.Valid(body) {
		return &DecodeError{Status: http.StatusBadRequest, Key: "error.invalid_utf8"}
	}
	// PostgreSQL cannot store NUL in text, and no honest field needs it.
	if bytes.Contains(body, []byte(`\u0000`)) {
		return &DecodeError{Status: http.StatusBadRequest, Key: "error.nul"}
	}
	if err := nullBody(body); err != nil {
		return err
	}
	if err := duplicateKey(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		// encoding/json stops at a field's own UnmarshalJSON error and keeps
		// only the first type or unknown-field error: walk the body for all
		// of them. A syntax error has no fields to name.
		// Nor does a body that is not an object at all (error.json_object).
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		notObject := errors.As(err, &typ) && typ.Field == ""
		if !errors.As(err, &syn) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !notObject {
			if all := typeErrors(body, dst); all != nil {
				return all
			}
		}
		return jsonError(err)
	}
	if dec.More() {
		return &DecodeError{Status: http.StatusBadRequest, Key: "error.json_trailing"}
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &DecodeError{Status: http.StatusBadRequest, Key: "error.json_syntax"}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return &DecodeError{Status: http.StatusBadRequest, Key: "error.json_object"}
		}
		return domain.Invalid(field, "validation.type", map[string]any{"Type": jsonType(typ.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return domain.Invalid(name, "validation.unknown_field", nil)
	}
	return &DecodeError{Status: http.StatusBadRequest, Key: "error.json_syntax"}
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct", "ptr":
		return "object"
	}
	return "number"
}

// DecodeFailed answers a decode error; it reports whether err was one.
func (k Kit) DecodeFailed(w http.ResponseWriter, r *http.Request, err error) bool {
	if err == nil {
		return false
	}
	var de *DecodeError
	if errors.As(err, &de) {
		k.Problem(w, r, de.Status, de.Key, de.Params, nil)
		return true
	}
	k.Error(w, r, err)
	return true
}

// CleanText tells whether s is valid UTF-8 without NUL: what every text
// column of both databases accepts.
func CleanText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
