package care

import (
	"slices"
	"strings"
)

// ScriptVariables are the placeholders a script may use, written {name}.
// Rendering them per customer (surname and title, the product, the last
// interaction) is the renderer's work; the plan only promises that every
// placeholder is one of these and that braces pair up.
var ScriptVariables = []string{
	"title",    // 称呼: surname and title (张先生), or the organisation's contact
	"name",     // the customer's name
	"company",  // the organisation's name
	"product",  // the product the occasion is about
	"festival", // the festival's name
	"date",     // the occasion's date
	"agent",    // the assignee's name
	"last_interaction",
}

// ScriptError says what is wrong with a script: a catalog key and its
// parameters.
type ScriptError struct {
	Key    string
	Params map[string]any
}

func (e *ScriptError) Error() string { return "script: " + e.Key }

// CheckScript checks a script's placeholders: every "{" closes with "}"
// before the next "{", and names one of ScriptVariables. "{{" and "}}" are a
// literal brace.
func CheckScript(s string) *ScriptError {
	_, err := ScriptPlaceholders(s)
	return err
}

// ScriptPlaceholders lists the placeholders of s in order.
func ScriptPlaceholders(s string) ([]string, *ScriptError) {
	var out []string
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			if i+1 < len(s) && s[i+1] == '{' {
				i++
				continue
			}
			end := strings.IndexAny(s[i+1:], "{}")
			if end < 0 || s[i+1+end] != '}' {
				return nil, &ScriptError{Key: "validation.care_script_braces", Params: map[string]any{"At": runeOffset(s, i) + 1}}
			}
			name := strings.TrimSpace(s[i+1 : i+1+end])
			if !slices.Contains(ScriptVariables, name) {
				return nil, &ScriptError{Key: "validation.care_script_variable", Params: map[string]any{"Value": name}}
			}
			out = append(out, name)
			i += end + 1
		case '}':
			if i+1 < len(s) && s[i+1] == '}' {
				i++
				continue
			}
			return nil, &ScriptError{Key: "validation.care_script_braces", Params: map[string]any{"At": runeOffset(s, i) + 1}}
		}
	}
	return out, nil
}

func runeOffset(s string, byteAt int) int { return len([]rune(s[:byteAt])) }
