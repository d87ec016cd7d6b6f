package customers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/textindex"
)

// Catalog keys of row problems found against the database.
const (
	KeyImportNumberTaken    = "import.number_taken"
	KeyImportPhoneTaken     = "import.phone_taken"
	KeyImportEmailTaken     = "import.email_taken"
	KeyImportPhoneInFile    = "import.duplicate_phone"
	KeyImportEmailInFile    = "import.duplicate_email"
	KeyImportUnknownOwner   = "import.unknown_owner"
	KeyImportAmbiguousOwner = "import.ambiguous_owner"
)

var errAmbiguousOwner = errors.New("several staff users match")

// resolveOwner finds the active staff user an owner cell names: by email
// (any case) or by exact name. It returns 0 when none matches and
// errAmbiguousOwner when several users share the name.
func (s *Store) resolveOwner(ctx context.Context, v string) (int64, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT id FROM users WHERE active AND (lower(email) = $1 OR name = $2) LIMIT 2`,
		strings.ToLower(v), v)
	if err != nil {
		return 0, fmt.Errorf("resolve owner: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return 0, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	switch len(ids) {
	case 0:
		return 0, nil
	case 1:
		return ids[0], nil
	}
	return 0, errAmbiguousOwner
}

// param returns the placeholder of the n-th (1-based) argument. Long
// multi-row statements use "?" on SQLite: it resolves each "$n" by a linear
// search of the names seen so far, which makes a statement with thousands of
// "$n" parameters quadratic (seconds per 10,000 rows).
func param(d db.Dialect, n int) string {
	if d == db.SQLite {
		return "?"
	}
	return "$" + strconv.Itoa(n)
}

// inList returns "(p1, …, pk)" for vals and the args appended.
func inList(d db.Dialect, args []any, vals []string) (string, []any) {
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		args = append(args, v)
		b.WriteString(param(d, len(args)))
	}
	b.WriteByte(')')
	return b.String(), args
}

// conflicts compares a batch with the customers on file: numbers taken
// (also by a merged customer's redirect), and, unless allowDup, phones and
// emails of live customers. It returns the problems by row.
func (s *Store) conflicts(ctx context.Context, batch []pending, allowDup bool) (map[int][]RowError, error) {
	out := map[int][]RowError{}
	if len(batch) == 0 {
		return out, nil
	}
	var numbers, phones, emails []string
	for _, p := range batch {
		if p.rec.Number != "" {
			numbers = append(numbers, p.rec.Number)
		}
		phones = append(phones, p.rec.Phones...)
		if p.rec.Email != "" {
			emails = append(emails, p.rec.Email)
		}
	}
	q := s.db.RQ(ctx)
	taken := map[string]string{}
	lookup := func(sqlText string, vals []string) error {
		if len(vals) == 0 {
			return nil
		}
		in, args := inList(s.db.Dialect, nil, vals)
		if n := strings.Count(sqlText, "(?)"); n > 1 && s.db.Dialect == db.SQLite {
			// "?" placeholders are numbered by position: one copy per list.
			for range n - 1 {
				args = append(args, args[:len(vals)]...)
			}
		}
		rows, err := q.QueryContext(ctx, strings.ReplaceAll(sqlText, "(?)", in), args...)
		if err != nil {
			return fmt.Errorf("customers: import: check: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var v sql.NullString
			if err := rows.Scan(&k, &v); err != nil {
				return err
			}
			if _, ok := taken[k]; !ok && v.Valid {
				taken[k] = v.String
			}
		}
		return rows.Err()
	}
	if err := lookup(`SELECT number, number FROM customers WHERE number IN (?)
		UNION ALL SELECT r.number, c.number FROM customer_number_redirects r JOIN customers c ON c.id = r.customer_id WHERE r.number IN (?)`, numbers); err != nil {
		return nil, err
	}
	numTaken := taken
	taken = map[string]string{}
	if !allowDup {
		// Driven from the phone index: a join lets a planner with stale
		// statistics (mid-import) walk every customer instead.
		if err := lookup(`SELECT p.phone, (SELECT c.number FROM customers c WHERE c.id = p.customer_id
			AND c.merged_into IS NULL AND c.erased_at IS NULL) FROM customer_phones p WHERE p.phone IN (?)`, phones); err != nil {
			return nil, err
		}
		if err := lookup(`SELECT '@' || email, number FROM customers WHERE email <> '' AND email IN (?) AND merged_into IS NULL AND erased_at IS NULL`, emails); err != nil {
			return nil, err
		}
	}
	for _, p := range batch {
		h := p.row.Header
		if p.rec.Number != "" {
			if _, ok := numTaken[p.rec.Number]; ok {
				out[p.rec.Row] = append(out[p.rec.Row], RowError{Row: p.rec.Row, Column: h.FieldColumn(FieldNumber), Key: KeyImportNumberTaken,
					Params: map[string]any{"Number": p.rec.Number}})
			}
		}
		for _, ph := range p.rec.Phones {
			if n, ok := taken[ph]; ok {
				out[p.rec.Row] = append(out[p.rec.Row], RowError{Row: p.rec.Row, Column: h.FieldColumn(FieldPhone), Key: KeyImportPhoneTaken,
					Params: map[string]any{"Value": ph, "Number": n}})
			}
		}
		if p.rec.Email != "" {
			if n, ok := taken["@"+p.rec.Email]; ok {
				out[p.rec.Row] = append(out[p.rec.Row], RowError{Row: p.rec.Row, Column: h.FieldColumn(FieldEmail), Key: KeyImportEmailTaken,
					Params: map[string]any{"Value": p.rec.Email, "Number": n}})
			}
		}
	}
	return out, nil
}

// customerOf turns a checked record into the row to insert.
func customerOf(r ImportRecord, owner int64) Customer {
	c := Customer{Number: r.Number, Type: r.Type, Name: r.Name, Phones: r.Phones, Email: r.Email, WeChat: r.WeChat,
		Address: r.Address, Industry: r.Industry, Birthday: r.Birthday, CooperationStart: r.CooperationStart, Tier: r.Tier,
		Tags: r.Tags, Remarks: r.Remarks, Lifecycle: "potential", Custom: map[string]any{}}
	if c.Type == "" {
		c.Type = TypeIndividual
	}
	if c.Tier == "" {
		c.Tier = "normal"
	}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if c.Phones == nil {
		c.Phones = []string{}
	}
	// The record has no product field: a short product type becomes a tag
	// (so the list can filter by it), a long one a line of the remarks.
	if pr := r.Product; pr != "" {
		switch {
		case utf8.RuneCountInString(pr) <= maxTagLen && len(c.Tags) < maxTags:
			if !containsString(c.Tags, pr) {
				c.Tags = append(c.Tags, pr)
			}
		case c.Remarks == "":
			c.Remarks = pr
		default:
			c.Remarks += "\n" + pr
		}
	}
	if owner > 0 {
		c.OwnerID = &owner
	}
	return c
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// numberLess orders customer numbers by month, then serial.
func numberLess(a, b string) bool {
	if a[:6] != b[:6] {
		return a[:6] < b[:6]
	}
	return numberSerial(a) < numberSerial(b)
}

// insert writes one batch: numbers for the rows without one, then
// customers, phones, contacts and timeline events with one INSERT each.
func (w *importWriter) insert(ctx context.Context, batch []pending) error {
	if len(batch) == 0 {
		return nil
	}
	s := w.s
	q := s.db.Q(ctx)
	cs := make([]Customer, len(batch))
	need := 0
	for i, p := range batch {
		cs[i] = customerOf(p.rec, p.owner)
		if cs[i].Number == "" {
			need++
		}
	}
	if need > 0 {
		month := w.at.In(BusinessZone).Format("200601")
		var last int
		// The block of numbers is taken as nextNumber takes one (db.Counters
		// on PostgreSQL): held by the import's transaction, the month's row
		// would stop every other creation until the import commits. An
		// import that then rolls back leaves its block unused.
		cq := q
		if s.db.Counters != nil {
			cq = s.db.Counters
		}
		err := cq.QueryRowContext(ctx, `INSERT INTO customer_number_seq (month, last) VALUES ($1, $2)
			ON CONFLICT (month) DO UPDATE SET last = customer_number_seq.last + excluded.last RETURNING last`, month, need).Scan(&last)
		if err != nil {
			return fmt.Errorf("allocate customer numbers: %w", err)
		}
		next := last - need + 1
		for i := range cs {
			if cs[i].Number == "" {
				cs[i].Number = fmt.Sprintf("%s%03d", month, next)
				next++
			}
		}
	}
	t := db.Now(w.at)
	const cols = 24
	var b strings.Builder
	args := make([]any, 0, cols*len(cs))
	b.WriteString(`INSERT INTO customers (number, type, name, name_pinyin, name_initials, name_pinyin_alt, name_initials_alt,
		email, wechat, address, industry, birthday, cooperation_start, preferred_channel, preferred_time, owner_id, tier, tags,
		remarks, custom, lifecycle, lifecycle_override, created_at, updated_at) VALUES `)
	for i, c := range cs {
		keys := NameSearchKeys(c.Name)
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := range cols {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(param(s.db.Dialect, len(args)+j+1))
		}
		b.WriteByte(')')
		args = append(args, c.Number, c.Type, c.Name, keys.Full, keys.Initials, keys.AltFull, keys.AltInitials,
			c.Email, c.WeChat, c.Address, c.Industry, c.Birthday, c.CooperationStart, "", "", ownerArg(c.OwnerID), c.Tier,
			jsonText(c.Tags), c.Remarks, "{}", c.Lifecycle, "", t, t)
	}
	b.WriteString(" RETURNING id, number")
	rows, err := q.QueryContext(ctx, b.String(), args...)
	if err != nil {
		if db.IsUniqueViolation(err) {
			return fmt.Errorf("customers: import: a number was taken meanwhile, try again: %w", err)
		}
		return fmt.Errorf("customers: import: insert: %w", err)
	}
	ids := make(map[string]int64, len(cs))
	for rows.Next() {
		var id int64
		var n string
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return err
		}
		ids[n] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range cs {
		cs[i].ID = ids[cs[i].Number]
		if cs[i].ID == 0 {
			return fmt.Errorf("customers: import: no id returned for %s", cs[i].Number)
		}
	}
	if err := w.children(ctx, q, cs, batch); err != nil {
		return err
	}
	docs := make([]textindex.Doc, len(cs))
	for i, c := range cs {
		docs[i] = textindex.Doc{ID: c.ID, Texts: []string{c.Name}}
	}
	if err := nameIndex.Put(ctx, s.db, docs...); err != nil {
		return err
	}
	for _, c := range cs {
		if w.first == "" || numberLess(c.Number, w.first) {
			w.first = c.Number
		}
		if w.last == "" || numberLess(w.last, c.Number) {
			w.last = c.Number
		}
	}
	w.created += len(cs)
	return nil
}

// children inserts phones, contacts and timeline events of a batch.
func (w *importWriter) children(ctx context.Context, q db.Querier, cs []Customer, batch []pending) error {
	var phoneRows, contactRows, eventRows [][]any
	actor := audit.ActorFrom(ctx)
	var actorID any
	if actor.UserID != 0 {
		actorID = actor.UserID
	}
	t := db.Now(w.at)
	for i, c := range cs {
		for pos, raw := range c.Phones {
			p, err := ParsePhone(raw)
			if err != nil {
				return err
			}
			phoneRows = append(phoneRows, []any{c.ID, p.String(), p.Last4(), p.Kind.String(), pos})
		}
		if ct := batch[i].rec.Contact; ct != "" {
			contactRows = append(contactRows, []any{c.ID, ct, true, 0})
		}
		params := map[string]any{"Number": c.Number}
		if w.set.FileName != "" {
			params["File"] = w.set.FileName
		}
		eventRows = append(eventRows, []any{c.ID, t, "customer.imported", actorID, actor.Label, "timeline.customer_imported",
			jsonText(params), "customer", strconv.FormatInt(c.ID, 10)})
	}
	d := w.s.db.Dialect
	if err := multiInsert(ctx, q, d, `INSERT INTO customer_phones (customer_id, phone, last4, kind, position) VALUES `, phoneRows); err != nil {
		return fmt.Errorf("customers: import: phones: %w", err)
	}
	if err := multiInsert(ctx, q, d, `INSERT INTO customer_contacts (customer_id, name, is_primary, position) VALUES `, contactRows); err != nil {
		return fmt.Errorf("customers: import: contacts: %w", err)
	}
	if err := multiInsert(ctx, q, d, `INSERT INTO timeline_events (customer_id, at, kind, actor_id, actor_label, summary_key, params, entity, entity_id) VALUES `, eventRows); err != nil {
		return fmt.Errorf("customers: import: timeline: %w", err)
	}
	return nil
}

// multiInsert runs head followed by one VALUES tuple per row, split so no
// statement has more than 30,000 parameters.
func multiInsert(ctx context.Context, q db.Querier, d db.Dialect, head string, rows [][]any) error {
	for len(rows) > 0 {
		n := len(rows)
		if per := 30000 / len(rows[0]); n > per {
			n = per
		}
		var b strings.Builder
		b.WriteString(head)
		args := make([]any, 0, n*len(rows[0]))
		for i, r := range rows[:n] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			for j := range r {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteString(param(d, len(args)+j+1))
			}
			b.WriteByte(')')
			args = append(args, r...)
		}
		if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}
