package customers

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/domain"
)

// FilterFromQuery reads the list filters of a query string (q, type, tier,
// lifecycle, owner_id, tag, sort), as the API list, the export and the list
// page take them; me is the caller's user id, for owner_id=me. The owner is
// "me", "none" or a user id. A value that no customer can have (tier=gold)
// is a validation error naming the parameter, like limit=abc: silently
// answering an empty list would tell the caller there is no such customer.
// Limit and Cursor are left to the caller, whose paging rules differ.
func FilterFromQuery(q url.Values, me int64) (Filter, error) {
	f := Filter{Q: q.Get("q"), Type: q.Get("type"), Tier: q.Get("tier"), Lifecycle: q.Get("lifecycle"), Tag: q.Get("tag"), Sort: q.Get("sort")}
	var v domain.ValidationError
	oneOf := func(field, value string, allowed []string) {
		if value != "" && !slices.Contains(allowed, value) {
			v.Add(field, "validation.one_of", map[string]any{"Values": strings.Join(allowed, ", ")})
		}
	}
	oneOf("type", f.Type, []string{TypeIndividual, TypeOrganization})
	oneOf("tier", f.Tier, Tiers)
	oneOf("lifecycle", f.Lifecycle, Stages)
	oneOf("sort", f.Sort, Sorts)
	switch s := q.Get("owner_id"); s {
	case "":
	case "me":
		f.OwnerID = me
	case "none":
		f.NoOwner = true
	default:
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			v.Add("owner_id", "validation.owner_filter", nil)
		}
		f.OwnerID = id
	}
	return f, v.Err()
}
