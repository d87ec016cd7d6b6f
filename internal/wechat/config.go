package wechat

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
)

// SettingKey is where the accounts live (internal/settings).
const SettingKey = "channels.wechat"

// MaxAccounts is how many accounts one company configures.
const MaxAccounts = 20

// Account is one Official Account. The token, EncodingAESKey and app
// secret are stored sealed and never leave this package.
type Account struct {
	Name  string `json:"name"` // the {account} segment of the callback URL
	AppID string `json:"app_id"`
	// APIBase is the platform's API address ("" = DefaultAPIBase): a
	// private gateway, or the fake platform of the tests.
	APIBase string `json:"api_base,omitempty"`
	// ReplyTemplateID is the 模板消息 sent instead of a reply outside the
	// 48-hour window ("" = none: the fallback decides).
	ReplyTemplateID string `json:"reply_template_id,omitempty"`

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
	Name            string `json:"name"`
	AppID           string `json:"app_id"`
	TokenSet        bool   `json:"token_set"`
	AESKeySet       bool   `json:"encoding_aes_key_set"`
	SecretSet       bool   `json:"app_secret_set"`
	APIBase         string `json:"api_base,omitempty"`
	ReplyTemplateID string `json:"reply_template_id,omitempty"`
	CallbackPath    string `json:"callback_path"` // the server URL to enter in the 公众平台, after the base URL
}

// View is the configuration for the administrator.
type View struct {
	Accounts []AccountView `json:"accounts"`
	Version  int64         `json:"version"`
}

// AccountInput is one account of an edit. Secrets are write-only: absent
// keeps the stored one (of the account of that name), "" removes it.
type AccountInput struct {
	Name            string  `json:"name"`
	AppID           string  `json:"app_id"`
	Token           *string `json:"token,omitempty"`
	AESKey          *string `json:"encoding_aes_key,omitempty"`
	AppSecret       *string `json:"app_secret,omitempty"`
	APIBase         string  `json:"api_base,omitempty"`
	ReplyTemplateID string  `json:"reply_template_id,omitempty"`
}

// Input replaces the whole list (version as read).
type Input struct {
	Accounts []AccountInput `json:"accounts"`
	Version  int64          `json:"version"`
}

var (
	nameRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	appIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	// The 公众平台 accepts a token of 3 to 32 letters and digits.
	tokenRe = regexp.MustCompile(`^[A-Za-z0-9]{3,32}$`)
	// A template id as the 公众平台 shows it (43 characters), or none.
	templateRe = regexp.MustCompile(`^[A-Za-z0-9_-]{0,64}$`)
)

// aesKey decodes an EncodingAESKey: 43 characters of base64 without the
// final "=", 32 bytes.
func aesKey(s string) ([]byte, error) {
	if len(s) != 43 {
		return nil, errors.New("an EncodingAESKey has 43 characters")
	}
	k, err := base64.StdEncoding.DecodeString(s + "=")
	if err != nil || len(k) != 32 {
		return nil, errors.New("an EncodingAESKey is 43 characters of base64")
	}
	return k, nil
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
		return c, 0, fmt.Errorf("wechat: config: %w", err)
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
		view.Accounts = append(view.Accounts, AccountView{Name: a.Name, AppID: a.AppID, TokenSet: a.TokenSealed != "",
			AESKeySet: a.AESKeySealed != "", SecretSet: a.SecretSealed != "", APIBase: a.APIBase, ReplyTemplateID: a.ReplyTemplateID, CallbackPath: "/wechat/callback/" + a.Name})
	}
	return view, nil
}

// Update replaces the accounts (optimistic: domain.ErrStale when
// in.Version is not the stored one). Errors name the field
// (accounts.N.name …).
func (s *Store) Update(ctx context.Context, in Input) (View, error) {
	old, _, err := s.read(ctx)
	if err != nil {
		return View{}, err
	}
	var v domain.ValidationError
	if len(in.Accounts) > MaxAccounts {
		v.Add("accounts", "wechat.too_many", map[string]any{"Max": MaxAccounts})
		return View{}, v.Err()
	}
	c := Config{Accounts: []Account{}}
	var names []string
	for i, ai := range in.Accounts {
		f := fmt.Sprintf("accounts.%d.", i)
		ai.Name, ai.AppID = strings.TrimSpace(ai.Name), strings.TrimSpace(ai.AppID)
		if !nameRe.MatchString(ai.Name) {
			v.Add(f+"name", "wechat.bad_name", nil)
		} else if slices.Contains(names, ai.Name) {
			v.Add(f+"name", "wechat.duplicate_name", nil)
		}
		names = append(names, ai.Name)
		if !appIDRe.MatchString(ai.AppID) {
			v.Add(f+"app_id", "wechat.bad_app_id", nil)
		}
		a := Account{Name: ai.Name, AppID: ai.AppID, ReplyTemplateID: strings.TrimSpace(ai.ReplyTemplateID)}
		if !templateRe.MatchString(a.ReplyTemplateID) {
			v.Add(f+"reply_template_id", "wechat.bad_template_id", nil)
		}
		if base, key := CheckAPIBase(ctx, ai.APIBase, s.opts.AllowPrivate); key != "" {
			v.Add(f+"api_base", key, nil)
		} else {
			a.APIBase = base
		}
		if prev, ok := old.account(ai.Name); ok {
			a.TokenSealed, a.AESKeySealed, a.SecretSealed = prev.TokenSealed, prev.AESKeySealed, prev.SecretSealed
		}
		if ai.Token != nil && *ai.Token != "" && !tokenRe.MatchString(*ai.Token) {
			v.Add(f+"token", "wechat.bad_token", nil)
			ai.Token = nil
		}
		if ai.AESKey != nil && *ai.AESKey != "" {
			if _, err := aesKey(*ai.AESKey); err != nil {
				v.Add(f+"encoding_aes_key", "wechat.bad_aes_key", nil)
				ai.AESKey = nil
			}
		}
		for _, sec := range []struct {
			field string
			in    *string
			out   *string
		}{{"token", ai.Token, &a.TokenSealed}, {"encoding_aes_key", ai.AESKey, &a.AESKeySealed}, {"app_secret", ai.AppSecret, &a.SecretSealed}} {
			if sec.in == nil {
				continue
			}
			sealed, err := s.sealer.Seal(*sec.in)
			if errors.Is(err, email.ErrNoKey) {
				v.Add(f+sec.field, "wechat.no_secret_key", nil)
				continue
			} else if err != nil {
				return View{}, fmt.Errorf("wechat: seal: %w", err)
			}
			*sec.out = sealed
		}
		if a.TokenSealed == "" {
			v.Add(f+"token", "validation.required", nil)
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

// opened is an account with its secrets opened, for the callback.
type opened struct {
	Account
	token  string
	aesKey []byte // nil: no EncodingAESKey (plain mode only)
}

// ErrUnknownAccount: no account of that name.
var ErrUnknownAccount = fmt.Errorf("wechat: no such account: %w", domain.ErrNotFound)

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
		return opened{}, fmt.Errorf("wechat: %s token: %w", name, err)
	}
	if a.AESKeySealed != "" {
		k, err := s.sealer.Open(a.AESKeySealed)
		if err != nil {
			return opened{}, fmt.Errorf("wechat: %s EncodingAESKey: %w", name, err)
		}
		if o.aesKey, err = aesKey(k); err != nil {
			return opened{}, fmt.Errorf("wechat: %s: %w", name, err)
		}
	}
	return o, nil
}
