package web

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/version"
	"github.com/careloop/careloop/internal/web/httpx"
)

// The OpenAPI document is built from the route table itself, so it cannot
// drift from the routes: a route without a summary fails a test.

var pathParam = regexp.MustCompile(`\{([a-z_]+)(\.\.\.)?\}`)

// OpenAPI returns the OpenAPI 3.1 document of the /api/v1 routes.
func (s *Server) OpenAPI() map[string]any {
	paths := map[string]any{}
	for _, rt := range s.routes {
		if !strings.HasPrefix(rt.Path, "/api/v1/") {
			continue
		}
		op := map[string]any{
			"summary":      rt.Summary,
			"operationId":  operationID(rt),
			"x-permission": string(rt.Perm),
			"responses":    responses(rt),
		}
		if rt.Perm == identity.Public {
			op["security"] = []any{}
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range rt.Query {
			params = append(params, map[string]any{"name": q, "in": "query", "schema": map[string]any{"type": "string"}})
		}
		if rt.Idempotent {
			params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header",
				"description": "A retried request with the same key creates nothing new and gets the first answer.", "schema": map[string]any{"type": "string"}})
		}
		if rt.Method == "PATCH" {
			params = append(params, map[string]any{"name": "If-Match", "in": "header",
				"description": "The ETag of the version being changed; a stale one gets 412.", "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.Request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(rt.Request))}}}
		}
		path := pathParam.ReplaceAllString(rt.Path, "{$1}")
		item, _ := paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		item[strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Careloop API", "version": version.Version,
			"description": "Customer care and after-sales service. Errors are RFC 9457 problem documents; lists page with limit and cursor."},
		"servers": []any{map[string]any{"url": "/"}},
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearer":  map[string]any{"type": "http", "scheme": "bearer"},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookie},
			},
			"schemas": map[string]any{"Problem": schemaOf(reflect.TypeOf(httpx.ProblemDoc{}))},
		},
		"security": []any{map[string]any{"bearer": []any{}}, map[string]any{"session": []any{}}},
		"paths":    paths,
	}
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	s.kit.JSON(w, http.StatusOK, s.OpenAPI())
}

func operationID(rt httpx.Route) string {
	p := strings.TrimPrefix(rt.Path, "/api/v1/")
	p = pathParam.ReplaceAllString(p, "by_$1")
	return strings.ToLower(rt.Method) + "_" + strings.NewReplacer("/", "_", ".", "_", "-", "_").Replace(p)
}

func responses(rt httpx.Route) map[string]any {
	problem := map[string]any{"description": "Problem", "content": map[string]any{
		"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}
	out := map[string]any{"default": problem}
	ok := "200"
	switch {
	case rt.Method == "POST" && rt.Idempotent:
		ok = "201"
	case rt.Method == "DELETE":
		ok = "204"
	}
	resp := map[string]any{"description": "OK"}
	if rt.Response != nil {
		resp["content"] = map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(rt.Response))}}
	}
	out[ok] = resp
	if rt.Perm != identity.Public {
		out["401"] = problem
		out["403"] = problem
	}
	return out
}

var timeType = reflect.TypeOf(time.Time{})

// schemaer is a type that says its own schema (one with a JSON form of its
// own, such as email.OptionalID).
type schemaer interface{ OpenAPISchema() map[string]any }

// schemaOf derives a JSON schema from a Go type and its json tags.
func schemaOf(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := reflect.Zero(t).Interface().(schemaer); ok {
		return s.OpenAPISchema()
	}
	if t == timeType {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem())}
	case reflect.Struct:
		props := map[string]any{}
		addFields(t, props)
		return map[string]any{"type": "object", "properties": props}
	}
	return map[string]any{}
}

func addFields(t reflect.Type, props map[string]any) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(ft, props)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		props[name] = schemaOf(f.Type)
	}
}

// MarshalOpenAPI renders the document (for `careloop` tooling and tests).
func (s *Server) MarshalOpenAPI() ([]byte, error) { return json.MarshalIndent(s.OpenAPI(), "", "  ") }
