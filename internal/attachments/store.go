package attachments

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/settings"
)

// Field is the name validation errors give: the form field of the files.
const Field = "attachments"

// Catalog keys of refused files (field Field). A mislabelled file's key is
// KeyMislabelledPrefix + the family its content was found to be.
const (
	KeyEmpty             = "attachments.empty"
	KeyTooLarge          = "attachments.too_large"
	KeyTooMany           = "attachments.too_many"
	KeyActiveName        = "attachments.active_name"
	KeyActiveContent     = "attachments.active_content"
	KeyTypeNotAllowed    = "attachments.type_not_allowed"
	KeyMislabelledPrefix = "attachments.mislabelled_"
)

// Attachment is a stored file's metadata.
type Attachment struct {
	ID          int64     `json:"id"`
	Entity      string    `json:"entity"` // what it is attached to, e.g. "ticket_message"
	EntityID    int64     `json:"entity_id"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"` // from the content, never from the client
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	CreatedBy   int64     `json:"created_by,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	storageKey  string
}

// Previewable tells whether the file may be shown inline: PNG, JPEG, GIF and
// WebP images only.
func (a Attachment) Previewable() bool { return previewable[a.ContentType] }

// Staged is a file whose bytes are checked and on disk but not yet
// recorded (Record); its fields cannot be forged. Bytes staged and never
// recorded are removed by Cleanup.
type Staged struct {
	name, mime, sum string
	size            int64
}

// Name is the cleaned file name.
func (s Staged) Name() string { return s.name }

// ContentType is the type found from the content.
func (s Staged) ContentType() string { return s.mime }

// Size is the file's length in bytes.
func (s Staged) Size() int64 { return s.size }

// SHA256 is the hex SHA-256 of the content.
func (s Staged) SHA256() string { return s.sum }

// Store keeps attachments: metadata in the database, bytes under
// <data dir>/attachments.
type Store struct {
	db       *db.DB
	clock    clock.Clock
	audit    *audit.Log
	settings *settings.Store
	root     string
	// Grace is how long bytes no live row references are kept (see
	// Cleanup); a change before the store is shared.
	Grace time.Duration
	locks [64]lockStripe
}

// DefaultGrace is how old unreferenced bytes must be before they are
// removed: longer than any upload's transaction.
const DefaultGrace = time.Hour

// New returns a store keeping bytes under dataDir/attachments, which it
// creates.
func New(d *db.DB, c clock.Clock, a *audit.Log, st *settings.Store, dataDir string) (*Store, error) {
	if dataDir == "" {
		return nil, errors.New("attachments: no data directory")
	}
	root := filepath.Join(dataDir, "attachments")
	if err := os.MkdirAll(filepath.Join(root, tmpDir), 0o750); err != nil {
		return nil, fmt.Errorf("attachments: %w", err)
	}
	return &Store{db: d, clock: c, audit: a, settings: st, root: root, Grace: DefaultGrace}, nil
}

// Root is the directory holding the bytes.
func (s *Store) Root() string { return s.root }

func refuse(key string, params map[string]any) error {
	return fmt.Errorf("attachments: %w", domain.Invalid(Field, key, params))
}

// Stage streams r to disk while hashing and checking it, and refuses (a
// *domain.ValidationError for field "attachments"): a name a browser would
// run (.html, .svg, .js…) or of a type not allowed, before reading; more
// than the size limit, stopping after limit+1 bytes; an empty file; HTML,
// SVG or XML content, also inside a text file; content that is not what
// its extension says ("a PNG image named .pdf"). Nothing is written to the
// database: Record does that, in the caller's transaction.
func (s *Store) Stage(ctx context.Context, filename string, r io.Reader) (Staged, error) {
	name := CleanName(filename)
	ext := extOf(name)
	p := map[string]any{"Name": name, "Ext": ext}
	if activeExts[ext] {
		return Staged{}, refuse(KeyActiveName, p)
	}
	byExtKind := byExt[ext]
	if ext != "" && byExtKind == nil {
		p["Type"] = "." + ext
		return Staged{}, refuse(KeyTypeNotAllowed, p)
	}
	lim, err := s.Limits(ctx)
	if err != nil {
		return Staged{}, err
	}
	if byExtKind != nil && !lim.Allows(byExtKind.mime) {
		p["Type"] = "." + ext
		return Staged{}, refuse(KeyTypeNotAllowed, p)
	}
	tmp, err := os.CreateTemp(filepath.Join(s.root, tmpDir), "upload-*")
	if err != nil {
		return Staged{}, fmt.Errorf("attachments: stage: %w", err)
	}
	placed := false
	defer func() {
		if !placed {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	var scan markupScan
	head := headBuf{b: make([]byte, 0, 512)}
	n, err := io.Copy(io.MultiWriter(tmp, h, &scan, &head), io.LimitReader(r, lim.MaxFileBytes+1))
	if err != nil {
		return Staged{}, fmt.Errorf("attachments: stage %q: %w", name, err)
	}
	if n > lim.MaxFileBytes {
		p["Max"] = FormatSize(lim.MaxFileBytes)
		return Staged{}, refuse(KeyTooLarge, p)
	}
	if n == 0 {
		return Staged{}, refuse(KeyEmpty, p)
	}
	scan.finish()
	family, def, active := sniff(head.b, tmp, n)
	k := byExtKind
	switch {
	case active:
		p["Markup"] = "HTML/SVG/XML"
		return Staged{}, refuse(KeyActiveContent, p)
	case k == nil:
		k = byName[def]
	case !k.accepts(family):
		return Staged{}, refuse(KeyMislabelledPrefix+family, p)
	}
	if k == nil {
		p["Type"] = family
		return Staged{}, refuse(KeyTypeNotAllowed, p)
	}
	if k.family == "text" && scan.found != "" {
		p["Markup"] = scan.found
		return Staged{}, refuse(KeyActiveContent, p)
	}
	if !lim.Allows(k.mime) {
		p["Type"] = k.mime
		return Staged{}, refuse(KeyTypeNotAllowed, p)
	}
	if err := tmp.Sync(); err != nil {
		return Staged{}, fmt.Errorf("attachments: stage %q: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return Staged{}, fmt.Errorf("attachments: stage %q: %w", name, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	placed = true
	if err := s.place(tmp.Name(), sum, n); err != nil {
		_ = os.Remove(tmp.Name())
		return Staged{}, err
	}
	return Staged{name: name, mime: k.mime, sum: sum, size: n}, nil
}

// headBuf keeps the first bytes written to it.
type headBuf struct{ b []byte }

func (h *headBuf) Write(p []byte) (int, error) {
	if room := cap(h.b) - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// Record writes the metadata of staged bytes attached to entity entityID,
// in the transaction carried by ctx if any, refusing more than the limit's
// files for one record.
func (s *Store) Record(ctx context.Context, entity string, entityID int64, st Staged) (Attachment, error) {
	if !validEntity(entity) || entityID <= 0 || st.sum == "" {
		return Attachment{}, fmt.Errorf("attachments: record %q %d: bad reference", entity, entityID)
	}
	lim, err := s.Limits(ctx)
	if err != nil {
		return Attachment{}, err
	}
	if err := s.renew(st.sum, st.size); err != nil {
		return Attachment{}, err
	}
	actor := audit.ActorFrom(ctx)
	a := Attachment{Entity: entity, EntityID: entityID, Filename: st.name, ContentType: st.mime, Size: st.size,
		SHA256: st.sum, CreatedBy: actor.UserID, CreatedAt: db.Now(s.clock.Now()), storageKey: storageKey(st.sum)}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		var n int
		if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM attachments
			WHERE entity = $1 AND entity_id = $2 AND deleted_at IS NULL`, entity, entityID).Scan(&n); err != nil {
			return fmt.Errorf("attachments: record: %w", err)
		}
		if n >= lim.MaxFiles {
			return refuse(KeyTooMany, map[string]any{"Max": lim.MaxFiles, "Name": st.name})
		}
		err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO attachments
			(entity, entity_id, filename, content_type, size, sha256, storage_key, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			entity, entityID, a.Filename, a.ContentType, a.Size, a.SHA256, a.storageKey, nullID(actor.UserID), a.CreatedAt).Scan(&a.ID)
		if err != nil {
			return fmt.Errorf("attachments: record: %w", err)
		}
		return nil
	})
	if err != nil {
		return Attachment{}, err
	}
	return a, nil
}

// Save is Stage then Record: the bytes of r become an attachment of entity
// entityID, recorded in the transaction carried by ctx if any. A caller
// receiving a slow upload should Stage outside its transaction and Record
// inside it, so as not to hold the database while bytes arrive.
func (s *Store) Save(ctx context.Context, entity string, entityID int64, filename string, r io.Reader) (Attachment, error) {
	st, err := s.Stage(ctx, filename, r)
	if err != nil {
		return Attachment{}, err
	}
	return s.Record(ctx, entity, entityID, st)
}

const columns = `id, entity, entity_id, filename, content_type, size, sha256, storage_key, COALESCE(created_by, 0), created_at`

func scanAttachment(row interface{ Scan(...any) error }) (Attachment, error) {
	var a Attachment
	err := row.Scan(&a.ID, &a.Entity, &a.EntityID, &a.Filename, &a.ContentType, &a.Size, &a.SHA256, &a.storageKey, &a.CreatedBy, &a.CreatedAt)
	a.CreatedAt = a.CreatedAt.UTC()
	return a, err
}

// Get returns a live attachment's metadata, or domain.ErrNotFound.
func (s *Store) Get(ctx context.Context, id int64) (Attachment, error) {
	a, err := scanAttachment(s.db.RQ(ctx).QueryRowContext(ctx,
		`SELECT `+columns+` FROM attachments WHERE id = $1 AND deleted_at IS NULL`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Attachment{}, fmt.Errorf("attachment %d: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return Attachment{}, fmt.Errorf("attachment %d: %w", id, err)
	}
	return a, nil
}

// List returns the live attachments of entity entityID, oldest first.
func (s *Store) List(ctx context.Context, entity string, entityID int64) ([]Attachment, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT `+columns+` FROM attachments
		WHERE entity = $1 AND entity_id = $2 AND deleted_at IS NULL ORDER BY id`, entity, entityID)
	if err != nil {
		return nil, fmt.Errorf("attachments: list: %w", err)
	}
	defer rows.Close()
	var out []Attachment
	for rows.Next() {
		a, err := scanAttachment(rows)
		if err != nil {
			return nil, fmt.Errorf("attachments: list: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("attachments: list: %w", err)
	}
	return out, nil
}

// ErrCorrupt is stored bytes whose size differs from their row's.
var ErrCorrupt = errors.New("attachment bytes do not match their record")

// Open returns a live attachment and its bytes, which the caller closes. The
// file's size is checked against the row (the checksum is not recomputed on
// every read).
func (s *Store) Open(ctx context.Context, id int64) (Attachment, io.ReadSeekCloser, error) {
	a, err := s.Get(ctx, id)
	if err != nil {
		return Attachment{}, nil, err
	}
	f, err := os.Open(s.pathOf(a.storageKey))
	if err != nil {
		return Attachment{}, nil, fmt.Errorf("attachment %d: %w", id, err)
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() != a.Size {
		err = fmt.Errorf("%w: %d bytes on disk, %d recorded", ErrCorrupt, fi.Size(), a.Size)
	}
	if err != nil {
		f.Close()
		return Attachment{}, nil, fmt.Errorf("attachment %d: %w", id, err)
	}
	return a, f, nil
}

// Delete marks an attachment deleted (audited as attachment.delete). Its
// bytes are removed when no live row references them: at once when Delete
// runs its own transaction and the bytes are older than Grace, else by the
// next Cleanup. Inside a caller's transaction nothing is removed, since the
// transaction may still roll back.
func (s *Store) Delete(ctx context.Context, id int64) error {
	outer := db.InTx(ctx)
	actor := audit.ActorFrom(ctx)
	var a Attachment
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		var err error
		a, err = s.Get(ctx, id)
		if err != nil {
			return err
		}
		res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE attachments SET deleted_at = $1, deleted_by = $2
			WHERE id = $3 AND deleted_at IS NULL`, db.Now(s.clock.Now()), nullID(actor.UserID), id)
		if err != nil {
			return fmt.Errorf("attachment %d: delete: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("attachment %d: %w", id, domain.ErrNotFound)
		}
		return s.audit.Record(ctx, "attachment.delete", "attachment", strconv.FormatInt(id, 10), map[string]audit.Change{
			"filename": {Before: a.Filename},
			"entity":   {Before: a.Entity + ":" + strconv.FormatInt(a.EntityID, 10)},
			"sha256":   {Before: a.SHA256},
		})
	})
	if err != nil || outer {
		return err
	}
	_, err = s.release(ctx, []string{a.SHA256})
	return err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func validEntity(e string) bool {
	if e == "" || len(e) > 50 {
		return false
	}
	for i := 0; i < len(e); i++ {
		if c := e[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
