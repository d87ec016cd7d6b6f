package customers

// Filter selects customers for the list and the search box.
type Filter struct {
	Q         string // the search box: name, pinyin, initials, phone (or its last 4), number, email, serial
	Type      string
	Tier      string
	Lifecycle string // the effective stage: the override when set, else the computed one
	OwnerID   int64
	Tag       string
	// NoOwner selects the customers without an account manager.
	NoOwner bool
	// Sort is one of Sorts ("" is the newest first); it orders the list
	// without a search text only.
	Sort   string
	Limit  int
	Cursor string
}

// Page is one page of customers, newest first.
type Page struct {
	Items      []Customer `json:"items"`
	NextCursor string     `json:"next_cursor,omitempty"`
	// Kind says how the query was understood (phone_suffix, pinyin, …).
	Kind string `json:"query_kind,omitempty"`
	// Sort is the order of the page: the one asked for on the list, the
	// newest first ("-created") for a search.
	Sort string `json:"sort"`
	// Total counts the matches up to CountCap; TotalCapped says there are
	// more ("1,000+"). Filled by the handlers from Count.
	Total       int  `json:"total"`
	TotalCapped bool `json:"total_capped"`
}

// narrowed tells whether f filters beyond the search box.
func (f Filter) narrowed() bool {
	return f.Type != "" || f.Tier != "" || f.Lifecycle != "" || f.OwnerID != 0 || f.NoOwner || f.Tag != ""
}

// conditions are the list filters of f, with their arguments added to w.
func (f Filter) conditions(w *where) []string {
	var out []string
	if f.Type != "" {
		out = append(out, "type = "+w.arg(f.Type))
	}
	if f.Tier != "" {
		out = append(out, "tier = "+w.arg(f.Tier))
	}
	if f.Lifecycle != "" {
		out = append(out, stageExpr+" = "+w.arg(f.Lifecycle))
	}
	if f.OwnerID != 0 {
		out = append(out, "owner_id = "+w.arg(f.OwnerID))
	}
	if f.NoOwner {
		out = append(out, "owner_id IS NULL")
	}
	if f.Tag != "" {
		out = append(out, "tags LIKE "+w.arg("%"+escapeLike(jsonText(f.Tag))+"%")+` ESCAPE '\'`)
	}
	return out
}
