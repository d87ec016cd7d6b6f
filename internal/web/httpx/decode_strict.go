package httpx

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/domain"
)

// duplicateKey finds the first key that an object of body names twice, at
// any depth, and returns it as a validation error naming its path
// ("contacts[1].name"). encoding/json keeps the last of the two silently, so
// a client and the server could disagree about what was sent. A body that is
// not valid JSON passes here; Decode reports it.
func duplicateKey(body []byte) error {
	type frame struct {
		object bool
		keys   map[string]bool
		key    string // the object's current key, waiting for its value
		index  int    // the array's next element
		path   string
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []*frame
	// child is the path of the value that comes next in the top frame.
	child := func() string {
		if len(stack) == 0 {
			return ""
		}
		f := stack[len(stack)-1]
		if f.object {
			if f.path == "" {
				return f.key
			}
			return f.path + "." + f.key
		}
		return f.path + "[" + strconv.Itoa(f.index) + "]"
	}
	// done ends a value in the top frame: the object waits for a key, the
	// array counts the element.
	done := func() {
		if len(stack) == 0 {
			return
		}
		f := stack[len(stack)-1]
		if f.object {
			f.key = ""
		} else {
			f.index++
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF, or a syntax error that Decode reports
		}
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key == "" {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				done()
				continue
			}
			key, _ := tok.(string)
			if top.keys[key] {
				top.key = key
				return domain.Invalid(child(), "validation.duplicate_key", nil)
			}
			top.keys[key], top.key = true, key
			continue
		}
		switch d, _ := tok.(json.Delim); d {
		case '{':
			stack = append(stack, &frame{object: true, keys: map[string]bool{}, path: child()})
		case '[':
			stack = append(stack, &frame{path: child()})
		case ']':
			stack = stack[:len(stack)-1]
			done()
		default:
			done()
		}
	}
}

// typeErrors names every wrongly typed field of body for dst, where
// encoding/json names only the first: a client fixing its request one field
// per round trip is the error this avoids. Fields are found as encoding/json
// finds them (the json tag, else the name, any case); every unknown field is
// named too, and a value that a field's own UnmarshalJSON refuses (a time
// that is not RFC 3339) is named with what it wants. It returns nil when it
// finds nothing.
func typeErrors(body []byte, dst any) error {
	t := reflect.TypeOf(dst)
	if t == nil || t.Kind() != reflect.Pointer {
		return nil
	}
	var v domain.ValidationError
	collectTypeErrors(body, t.Elem(), "", &v)
	if len(v.Fields) == 0 {
		return nil
	}
	return &v
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func collectTypeErrors(raw []byte, t reflect.Type, path string, v *domain.ValidationError) {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return // null leaves any type as it is
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	custom := reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler)
	switch {
	case !custom && t.Kind() == reflect.Struct:
		dec := json.NewDecoder(bytes.NewReader(raw))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			v.Add(orBody(path), "validation.type", map[string]any{"Type": "object"})
			return
		}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return
			}
			key, _ := tok.(string)
			var val json.RawMessage
			if err := dec.Decode(&val); err != nil {
				return
			}
			if f, ok := fieldByJSONName(t, key); ok {
				collectTypeErrors(val, f.Type, join(path, key), v)
			} else {
				// encoding/json names only the first unknown field, and
				// none once a type error came first.
				v.Add(join(path, key), "validation.unknown_field", nil)
			}
		}
	case !custom && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && t.Elem().Kind() != reflect.Uint8:
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			v.Add(orBody(path), "validation.type", map[string]any{"Type": "array"})
			return
		}
		for i, item := range items {
			collectTypeErrors(item, t.Elem(), path+"["+strconv.Itoa(i)+"]", v)
		}
	default:
		err := json.Unmarshal(raw, reflect.New(t).Interface())
		var typ *json.UnmarshalTypeError
		switch {
		case err == nil:
		case errors.As(err, &typ):
			v.Add(orBody(join(path, typ.Field)), "validation.type", map[string]any{"Type": jsonType(typ.Type.Kind().String())})
		case t == reflect.TypeFor[time.Time]():
			// time.Time's own error ("parsing time …") is Go's English and
			// names no field; ours says what form is wanted.
			v.Add(orBody(path), "validation.datetime", nil)
		case custom:
			v.Add(orBody(path), "validation.value", nil)
		}
	}
}

// fieldByJSONName finds the field that encoding/json fills from key.
func fieldByJSONName(t reflect.Type, key string) (reflect.StructField, bool) {
	var fold reflect.StructField
	found := false
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name := f.Name
		if tag := f.Tag.Get("json"); tag != "" {
			if tag == "-" {
				continue
			}
			if n, _, _ := strings.Cut(tag, ","); n != "" {
				name = n
			}
		}
		if name == key {
			return f, true
		}
		if !found && strings.EqualFold(name, key) {
			fold, found = f, true
		}
	}
	return fold, found
}

func join(path, field string) string {
	switch {
	case path == "":
		return field
	case field == "":
		return path
	}
	return path + "." + field
}

// orBody names the body itself when a type error has no field.
func orBody(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// nullBody tells whether body is the JSON literal null: json.Decode accepts
// it into a struct and changes nothing, which a handler would take for an
// empty request.
func nullBody(body []byte) error {
	if bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
		return &DecodeError{Status: http.StatusBadRequest, Key: "error.json_null"}
	}
	return nil
}
