package tickets

// SetSearchPlan shrinks the PostgreSQL search's windows so that a test's
// few tickets take every path; it returns the restore.
func SetSearchPlan(window, wide int64, few, chunk int) func() {
	w, wd, f, c := searchWindow, searchWideWindow, searchFew, searchChunk
	searchWindow, searchWideWindow, searchFew, searchChunk = window, wide, few, chunk
	return func() { searchWindow, searchWideWindow, searchFew, searchChunk = w, wd, f, c }
}

// TraceList calls fn with every statement of a due-ordered list and of the
// queue counts; it returns the restore.
func TraceList(fn func(query string, args []any)) func() {
	traceList = fn
	return func() { traceList = nil }
}

// SetBigBacklog changes the open load from which a person's queue by due
// time walks the due index on PostgreSQL; it returns the restore.
func SetBigBacklog(n int) func() {
	old := bigBacklog
	bigBacklog = n
	return func() { bigBacklog = old }
}
