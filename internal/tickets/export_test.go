package tickets

// SetSearchPlan shrinks the PostgreSQL search's windows so that a test's
// few tickets take every path; it returns the restore.
func SetSearchPlan(window, wide int64, few int) func() {
	w, wd, f := searchWindow, searchWideWindow, searchFew
	searchWindow, searchWideWindow, searchFew = window, wide, few
	return func() { searchWindow, searchWideWindow, searchFew = w, wd, f }
}
