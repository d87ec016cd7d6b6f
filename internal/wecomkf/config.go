package wecomkf

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/wechat"
)

// SettingKey is where the accounts live (internal/settings).
const SettingKey = "channels.wecom_kf"

// MaxAccounts is how many corps one company configures; MaxKfIDs how many
// 客服账号 one account lists.
const (
	MaxAccounts = 10
	MaxKfIDs    = 50
)

// Field is the prefix of every field an edit names: the accounts are the
// kf object of GET|PUT /api/v1/channels/wecom.
const Field = "kf."

// Account is one corp's 微信客服. The callback token, EncodingAESKey and
// the 微信客服 secret are stored sealed and never leave this package.
type Account struct {
	Name   string `json:"name"` // the {account} segment of the callback URL
	CorpID string `json:"corp_id"`
	// OpenKfIDs are the 客服账号 taken in (empty: every one of the corp).
	OpenKfIDs []string `json:"open_kfids"`
	// APIBase is the platform's API address ("" = DefaultAPIBase).
	APIBase string `json:"api_base,omitempty"`

	TokenSealed  string `json:"token_sealed,omitempty"`
	AESKeySealed string `json:"aes_key_sealed,omitempty"`
	SecretSealed string `json:"secret_sealed,omitempty"`
}

// Config is the list of accounts.
type Config struct {
	Accounts []Account `json:"accounts"`
}

// AccountView is an account as the administrator sees it: which secrets
// are set, never their values.
type AccountView struct {
	Name         string   `json:"name"`
	CorpID       string   `json:"corp_id"`
	OpenKfIDs    []string `json:"open_kfids"`
	APIBase      string   `json:"api_base,omitempty"`
	TokenSet     bool     `json:"token_set"`
	AESKeySet    bool     `json:"encoding_aes_key_set"`
	SecretSet    bool     `json:"secret_set"`
	CallbackPath string   `json:"callback_path"` // the URL to enter in the WeCom admin console, after the base URL
}

// View is the configuration for the administrator.
type View struct {
	Accounts []AccountView `json:"accounts"`
	Version  int64         `json:"version"`
}

// AccountInput is one account of an edit. Secrets are write-only: absent
// keeps the stored one (of the account of that name), "" removes it.
type AccountInput struct {
	Name      string   `json:"name"`
	CorpID    string   `json:"corp_id"`
	OpenKfIDs []string `json:"open_kfids,omitempty"`
	APIBase   string   `json:"api_base,omitempty"`
	Token     *string  `json:"token,omitempty"`
	AESKey    *string  `json:"encoding_aes_key,omitempty"`
	Secret    *string  `json:"secret,omitempty"`
}

// Input replaces the whole list (version as read).
type Input struct {
	Accounts []AccountInput `json:"accounts"`
	Version  int64          `json:"version"`
}

var (
	nameRe   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	corpIDRe = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)
	// WeCom's callback token: letters and digits, at most 32.
	tokenRe = regexp.MustCompile(`^[A-Za-z0-9]{3,32}$`)
	// An open_kfid as WeCom gives it (wk…).
	kfIDRe = regexp.MustCompile(`^wk[A-Za-z0-9_-]{1,62}$`)
)

// aesKey decodes an EncodingAESKey: 43 characters of base64 without the
// final "=", 32 bytes.
func aesKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(s + "=")
	if len(s) != 43 || err != nil || len(k) != 32 {
		return nil, errors.New("an EncodingAESKey is 43 characters of base64")
	}
	return k, nil
}

// named tells whether v already has an error for field.
func named(v *domain.ValidationError, field string) bool {
	return slices.ContainsFunc(v.Fields, func(e domain.FieldError) bool { return e.Field == field })
}

func (c Config) account(name string) (Account, bool) {
	for _, a := range c.Accounts {
		if a.Name == name {
			return a, true
		}
	}
	return Account{}, false
}

func (s *Store) read(ctx context.Context) (Config, int64, error) {
	var c Config
	e, found, err := s.settings.Entry(ctx, SettingKey)
	if err != nil || !found {
		return c, 0, err
	}
	if err := json.Unmarshal(e.Value, &c); err != nil {
		return c, 0, fmt.Errorf("wecomkf: config: %w", err)
	}
	return c, e.Version, nil
}

// Get returns the accounts for the administrator.
func (s *Store) Get(ctx context.Context) (View, error) {
	c, v, err := s.read(ctx)
	if err != nil {
		return View{}, err
	}
	view := View{Accounts: []AccountView{}, Version: v}
	for _, a := range c.Accounts {
		view.Accounts = append(view.Accounts, AccountView{Name: a.Name, CorpID: a.CorpID, OpenKfIDs: append([]string{}, a.OpenKfIDs...),
			APIBase: a.APIBase, TokenSet: a.TokenSealed != "", AESKeySet: a.AESKeySealed != "", SecretSet: a.SecretSealed != "",
			CallbackPath: "/wecom/kf/callback/" + a.Name})
	}
	return view, nil
}

// Update replaces the accounts (optimistic: domain.ErrStale when
// in.Version is not the stored one). Errors name the field
// (kf.accounts.N.corp_id …); nothing is saved unless all is right.
func (s *Store) Update(ctx context.Context, in Input) (View, error) {
	old, _, err := s.read(ctx)
	if err != nil {
		return View{}, err
	}
	var v domain.ValidationError
	if len(in.Accounts) > MaxAccounts {
		v.Add(Field+"accounts", "wecomkf.too_many", map[string]any{"Max": MaxAccounts})
		return View{}, v.Err()
	}
	c := Config{Accounts: []Account{}}
	var names []string
	for i, ai := range in.Accounts {
		f := fmt.Sprintf("%saccounts.%d.", Field, i)
		ai.Name, ai.CorpID = strings.TrimSpace(ai.Name), strings.TrimSpace(ai.CorpID)
		if !nameRe.MatchString(ai.Name) {
			v.Add(f+"name", "wecomkf.bad_name", nil)
		} else if slices.Contains(names, ai.Name) {
			v.Add(f+"name", "wecomkf.duplicate_name", nil)
		}
		names = append(names, ai.Name)
		if ai.CorpID == "" {
			v.Add(f+"corp_id", "validation.required", nil)
		} else if !corpIDRe.MatchString(ai.CorpID) {
			v.Add(f+"corp_id", "wecomkf.bad_corp_id", nil)
		}
		a := Account{Name: ai.Name, CorpID: ai.CorpID, OpenKfIDs: []string{}}
		if len(ai.OpenKfIDs) > MaxKfIDs {
			v.Add(f+"open_kfids", "wecomkf.too_many_kfids", map[string]any{"Max": MaxKfIDs})
		}
		for _, id := range ai.OpenKfIDs {
			id = strings.TrimSpace(id)
			if !kfIDRe.MatchString(id) {
				v.Add(f+"open_kfids", "wecomkf.bad_kfid", map[string]any{"ID": clip(id, 64)})
			} else if !slices.Contains(a.OpenKfIDs, id) {
				a.OpenKfIDs = append(a.OpenKfIDs, id)
			}
		}
		if base, key := wechat.CheckAPIBase(ctx, ai.APIBase, s.opts.AllowPrivate); key != "" {
			v.Add(f+"api_base", key, nil)
		} else {
			a.APIBase = base
		}
		if prev, ok := old.account(ai.Name); ok {
			a.TokenSealed, a.AESKeySealed, a.SecretSealed = prev.TokenSealed, prev.AESKeySealed, prev.SecretSealed
		}
		if ai.Token != nil && *ai.Token != "" && !tokenRe.MatchString(*ai.Token) {
			v.Add(f+"token", "wecomkf.bad_token", nil)
			ai.Token = nil
		}
		if ai.AESKey != nil && *ai.AESKey != "" {
			if _, err := aesKey(*ai.AESKey); err != nil {
				v.Add(f+"encoding_aes_key", "wecomkf.bad_aes_key", nil)
				ai.AESKey = nil
			}
		}
		if ai.Secret != nil && len(*ai.Secret) > 200 {
			v.Add(f+"secret", "wecomkf.bad_secret", nil)
			ai.Secret = nil
		}
		for _, sec := range []struct {
			field string
			in    *string
			out   *string
		}{{"token", ai.Token, &a.TokenSealed}, {"encoding_aes_key", ai.AESKey, &a.AESKeySealed}, {"secret", ai.Secret, &a.SecretSealed}} {
			if sec.in == nil {
				continue
			}
			if *sec.in == "" {
				*sec.out = ""
				continue
			}
			sealed, err := s.sealer.Seal(*sec.in)
			if errors.Is(err, email.ErrNoKey) {
				v.Add(f+sec.field, "wecomkf.no_secret_key", nil)
				continue
			} else if err != nil {
				return View{}, fmt.Errorf("wecomkf: seal: %w", err)
			}
			*sec.out = sealed
		}
		// Every 微信客服 callback is encrypted, and the pull needs the
		// secret: all three are required.
		for _, req := range []struct{ field, sealed string }{{"token", a.TokenSealed}, {"encoding_aes_key", a.AESKeySealed}, {"secret", a.SecretSealed}} {
			if req.sealed == "" && !named(&v, f+req.field) {
				v.Add(f+req.field, "validation.required", nil)
			}
		}
		c.Accounts = append(c.Accounts, a)
	}
	if err := v.Err(); err != nil {
		return View{}, err
	}
	if _, err := s.settings.Set(ctx, SettingKey, c, in.Version); err != nil {
		return View{}, err
	}
	return s.Get(ctx)
}

// opened is an account with its secrets opened.
type opened struct {
	Account
	token  string
	aesKey []byte
	secret string
}

// ErrUnknownAccount: no account of that name.
var ErrUnknownAccount = fmt.Errorf("wecomkf: no such account: %w", domain.ErrNotFound)

// open reads the account through the settings cache, its secrets opened.
func (s *Store) open(ctx context.Context, name string) (opened, error) {
	var c Config
	if _, err := s.settings.Get(ctx, SettingKey, &c); err != nil {
		return opened{}, err
	}
	a, ok := c.account(name)
	if !ok {
		return opened{}, ErrUnknownAccount
	}
	o := opened{Account: a}
	var err error
	if o.token, err = s.sealer.Open(a.TokenSealed); err != nil {
		return opened{}, fmt.Errorf("wecomkf: %s token: %w", name, err)
	}
	k, err := s.sealer.Open(a.AESKeySealed)
	if err != nil {
		return opened{}, fmt.Errorf("wecomkf: %s EncodingAESKey: %w", name, err)
	}
	if o.aesKey, err = aesKey(k); err != nil {
		return opened{}, fmt.Errorf("wecomkf: %s: %w", name, err)
	}
	if o.secret, err = s.sealer.Open(a.SecretSealed); err != nil {
		return opened{}, fmt.Errorf("wecomkf: %s secret: %w", name, err)
	}
	return o, nil
}

// takes tells whether the account takes in messages of the 客服账号.
func (a Account) takes(openKfID string) bool {
	return len(a.OpenKfIDs) == 0 || slices.Contains(a.OpenKfIDs, openKfID)
}

func (o opened) credentials() Credentials {
	return Credentials{Base: o.APIBase, CorpID: o.CorpID, Secret: o.secret}
}
