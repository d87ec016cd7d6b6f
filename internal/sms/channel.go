package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/notify"
)

// Data is the SMS part of an outbox row (notify.Message.Data): the
// template's variables by name, and whether it may break the quiet hours.
type Data struct {
	Vars   map[string]string `json:"vars"`
	Urgent bool              `json:"urgent,omitempty"`
}

// Channel is the outbox's SMS channel (notify.ChannelSMS).
type Channel struct{ store *Store }

// Channel returns the channel to register with the outbox.
func (s *Store) Channel() *Channel { return &Channel{store: s} }

// Name implements notify.Channel.
func (*Channel) Name() string { return notify.ChannelSMS }

// Available implements notify.Availability: SMS is on and has its secret
// (the portal's phone sign-in shows only then).
func (ch *Channel) Available(ctx context.Context) bool {
	_, _, err := ch.store.sending(ctx)
	return err == nil
}

// Deliver implements notify.Channel: the kind's template with the row's
// variables, held during quiet hours unless urgent, counted against the
// limits, then sent with the row's id as the provider's out id.
func (ch *Channel) Deliver(ctx context.Context, m *notify.Message) (string, error) {
	s := ch.store
	if m.Recipient == "" {
		return "", fmt.Errorf("no phone: %w", notify.ErrSuppressed)
	}
	if _, _, err := splitPhone(m.Recipient); err != nil {
		return "", notify.Permanent(fmt.Errorf("phone %q: %w", m.Recipient, err))
	}
	c, secret, err := s.sending(ctx)
	if err != nil {
		return "", err
	}
	t, ok := c.Templates[m.Kind]
	if !ok {
		return "", notify.Permanent(fmt.Errorf("%s: %w", m.Kind, ErrNoTemplate))
	}
	var d Data
	if len(m.Data) > 0 {
		if err := json.Unmarshal(m.Data, &d); err != nil {
			return "", notify.Permanent(fmt.Errorf("sms data: %w", err))
		}
	}
	vars, err := c.render(t, d.Vars)
	if err != nil {
		return "", notify.Permanent(err)
	}
	now := s.clock.Now()
	if !t.Urgent && !d.Urgent {
		if w, err := c.Quiet.parse(); err == nil {
			if until, quiet := w.until(now); quiet {
				return "", notify.Defer(until, fmt.Errorf("quiet hours until %s", until.Format("15:04 MST")))
			}
		}
	}
	client, err := NewClient(c.Provider, Credentials{KeyID: c.AccessKeyID, Secret: secret, Endpoint: c.Endpoint,
		Region: c.Region, SdkAppID: c.SdkAppID}, s.http, s.clock.Now)
	if err != nil {
		return "", notify.Permanent(err)
	}
	if err := s.reserve(ctx, c, m.CustomerID, now); err != nil {
		if errors.Is(err, ErrLimit) {
			return "", notify.Permanent(err)
		}
		return "", err
	}
	id, err := client.Send(ctx, Send{Phone: m.Recipient, SignName: c.SignName, Template: t.Code, Vars: vars,
		OutID: strconv.FormatInt(m.ID, 10)})
	if err != nil {
		// Not sent: give the count back (outside ctx, whose deadline may be
		// what ended the send).
		if rerr := s.release(context.WithoutCancel(ctx), c, m.CustomerID, now); rerr != nil {
			err = errors.Join(err, rerr)
		}
		var pe *ProviderError
		if errors.As(err, &pe) && !pe.Retry {
			return "", notify.Permanent(err)
		}
		return "", err
	}
	return id, nil
}

// Check tells a feature, before it queues an SMS, whether kind has a
// template and vars fit it, as a *domain.ValidationError naming the field
// (vars.<name>), so that a person who typed a too-long value gets a 400
// rather than a dead row later. SMS not configured is no error here: the
// row waits for it.
func (s *Store) Check(ctx context.Context, kind string, vars map[string]string) error {
	c := DefaultConfig()
	if _, err := s.settings.Get(ctx, SettingKey, &c); err != nil {
		return err
	}
	t, ok := c.Templates[kind]
	if !ok {
		return domain.Invalid("kind", "sms.no_template", map[string]any{"Kind": kind})
	}
	var fs []domain.FieldError
	for _, name := range t.Vars {
		v, ok := vars[name]
		switch {
		case !ok:
			fs = append(fs, domain.FieldError{Field: "vars." + name, Key: "validation.required"})
		case utf8.RuneCountInString(v) > c.maxVar():
			fs = append(fs, domain.FieldError{Field: "vars." + name, Key: "sms.var_too_long", Params: map[string]any{"Max": c.maxVar()}})
		}
	}
	if len(fs) > 0 {
		return &domain.ValidationError{Fields: fs}
	}
	return nil
}
