package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// HashParams are argon2id's cost settings.
type HashParams struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultHashParams are OWASP's first argon2id setting (m=19 MiB, t=2, p=1;
// docs/performance.md has its time here). The former t=3, 64 MiB, p=2 held
// 64 MiB per sign-in: eight at once took the server from 36 to 364 MB.
// Hashes made with other parameters still verify and are replaced at the
// next successful sign-in (NeedsRehash).
var DefaultHashParams = HashParams{Time: 2, Memory: 19 * 1024, Threads: 1}

// Hasher hashes and checks passwords with argon2id. Each hash in flight holds
// Memory KiB, so at most a few run at once; the rest wait their turn.
type Hasher struct {
	params HashParams
	sem    chan struct{}
	// busy counts hashes running or waiting; the last one out hands the
	// memory back (see done).
	busy    atomic.Int64
	freeing atomic.Bool
}

// NewHasher returns a hasher letting at most concurrent hashes run at once.
func NewHasher(p HashParams, concurrent int) *Hasher {
	return &Hasher{params: p, sem: make(chan struct{}, max(1, concurrent))}
}

func (h *Hasher) acquire(ctx context.Context) error {
	h.busy.Add(1)
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		h.done()
		return ctx.Err()
	}
}

func (h *Hasher) release() {
	<-h.sem
	h.done()
}

// done ends one hash. When none runs or waits any more, the argon2 memory
// (Memory KiB per hash, garbage now) goes back to the system: left to the
// runtime it stays resident until enough other allocation triggers a
// collection, minutes on a quiet server. Once per burst, in the background,
// so no sign-in waits for the collection.
func (h *Hasher) done() {
	if h.busy.Add(-1) != 0 || !h.freeing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer h.freeing.Store(false)
		debug.FreeOSMemory()
	}()
}

// Hash returns the PHC string of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	p := h.params
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, hashKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

var errBadHash = errors.New("malformed password hash")

// hashKeyLen is the length of the keys Hash makes.
const hashKeyLen = 32

// parseHash splits a PHC string into its parameters, salt and key.
func parseHash(encoded string) (p HashParams, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, nil, nil, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, errBadHash
	}
	if salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return p, nil, nil, errBadHash
	}
	if key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(key) == 0 {
		return p, nil, nil, errBadHash
	}
	return p, salt, key, nil
}

// NeedsRehash tells whether encoded was made with other parameters than the
// hasher's: after a successful sign-in, the password is hashed anew.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, _, key, err := parseHash(encoded)
	return err == nil && (p != h.params || len(key) != hashKeyLen)
}

// Verify tells whether password matches the PHC string encoded.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	p, salt, want, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// GeneratePassword returns a random password easy to read aloud.
func GeneratePassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
