package sheets

// RowError is one problem with one cell of a file, for the per-row report
// of an import: the spreadsheet row number, the header text as the user
// wrote it, and a message-catalog key with its parameters (translated when
// shown).
type RowError struct {
	Row    int            `json:"row"`
	Column string         `json:"column"`
	Key    string         `json:"key"`
	Params map[string]any `json:"params,omitempty"`
}

// MaxRowErrors caps the problems a report lists; its count still counts
// them all.
const MaxRowErrors = 1000

// Keep appends e to list unless list holds MaxRowErrors problems already,
// and reports whether it did (false: the report is truncated).
func Keep(list []RowError, e RowError) ([]RowError, bool) {
	if len(list) >= MaxRowErrors {
		return list, false
	}
	return append(list, e), true
}
