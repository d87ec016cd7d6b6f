package portal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/tickets"
)

// The public web form (/support/new): a request without an account. The
// customer is found by their email or phone, else registered; the ticket
// arrives by channel web; a confirmation goes back by mail (or by text
// message when only a phone was given and an SMS channel exists) with a
// link that signs into the portal at that ticket.

// SupportRequest is what the web form sends.
type SupportRequest struct {
	Name        string
	Email       string
	Phone       string
	Subject     string
	Description string
	IP          string
	Lang        string
}

// SupportResult is what the form's answer shows.
type SupportResult struct {
	TicketID int64
	Number   string
	// Confirmation is how the confirmation goes out: "email", "sms" or ""
	// (neither can reach the customer).
	Confirmation string
}

// MaxName bounds the name on the form.
const MaxName = 100

// check normalises the form and reports every bad field at once.
func (in *SupportRequest) check() error {
	var v domain.ValidationError
	in.Name = strings.TrimSpace(in.Name)
	in.Subject = strings.TrimSpace(in.Subject)
	in.Description = strings.TrimSpace(in.Description)
	switch n := utf8.RuneCountInString(in.Name); {
	case n == 0:
		v.Add("name", "validation.required", nil)
	case n > MaxName:
		v.Add("name", "validation.too_long", map[string]any{"Max": MaxName})
	}
	in.Email = strings.TrimSpace(in.Email)
	in.Phone = strings.TrimSpace(in.Phone)
	if in.Email == "" && in.Phone == "" {
		v.Add("email", "portal.validation.email_or_phone", nil)
	}
	if in.Email != "" {
		e, err := CheckEmail("email", in.Email)
		if err != nil {
			v.Fields = append(v.Fields, err.(*domain.ValidationError).Fields...)
		}
		in.Email = e
	}
	if in.Phone != "" {
		p, err := CheckPhone("phone", in.Phone)
		if err != nil {
			v.Fields = append(v.Fields, err.(*domain.ValidationError).Fields...)
		}
		in.Phone = p
	}
	if in.Description == "" {
		v.Add("description", "validation.required", nil)
	}
	if err := checkTicketText(in.Subject, in.Description); err != nil {
		v.Fields = append(v.Fields, err.(*domain.ValidationError).Fields...)
	}
	return v.Err()
}

// address is what the per-address limit counts.
func (in *SupportRequest) address() string {
	if in.Email != "" {
		return in.Email
	}
	return in.Phone
}

// SubmitSupport takes a web-form request: one transaction finds or
// registers the customer, opens the ticket and queues its confirmation.
func (s *Store) SubmitSupport(ctx context.Context, in SupportRequest) (SupportResult, error) {
	if err := in.check(); err != nil {
		return SupportResult{}, err
	}
	if wait, _ := s.FormLimit.Begin(in.address(), in.IP); wait > 0 {
		return SupportResult{}, &identity.ThrottledError{RetryAfter: wait}
	}
	var res SupportResult
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		cid, err := s.supportCustomer(ctx, in)
		if err != nil {
			return err
		}
		id, err := s.tickets.CreateInTx(ctx, nil, tickets.Input{CustomerID: cid, Type: "consultation", Channel: Channel,
			Subject: in.Subject, Description: in.Description})
		if err != nil {
			return err
		}
		t, err := s.tickets.Get(ctx, nil, id)
		if err != nil {
			return err
		}
		res = SupportResult{TicketID: id, Number: t.Number}
		if err := s.audit.Record(ctx, "portal.support_request", "ticket", fmt.Sprint(id), map[string]audit.Change{
			"customer_id": {After: cid}, "number": {After: t.Number}}); err != nil {
			return err
		}
		res.Confirmation, err = s.confirm(ctx, in, t)
		return err
	})
	if err != nil {
		return SupportResult{}, fmt.Errorf("web form: %w", err)
	}
	return res, nil
}

// supportCustomer finds the form's customer by email, then phone, or
// registers them (the duplicate check of customers.Store.Create is the
// same lookup, so a request alongside that registered them first is found).
func (s *Store) supportCustomer(ctx context.Context, in SupportRequest) (int64, error) {
	if id, err := s.CustomerByEmail(ctx, in.Email); err != nil || id != 0 {
		return id, err
	}
	if in.Phone != "" {
		if id, err := s.CustomerByPhone(ctx, in.Phone); err != nil || id != 0 {
			return id, err
		}
	}
	ci := customers.Input{Name: &in.Name}
	if in.Email != "" {
		ci.Email = &in.Email
	}
	if in.Phone != "" {
		ci.Phones = &[]string{in.Phone}
	}
	c, err := s.customers.Create(ctx, ci)
	var dup *customers.DuplicateError
	if errors.As(err, &dup) {
		return dup.ExistingID, nil
	}
	if err != nil {
		return 0, err
	}
	return c.ID, nil
}

// confirm queues the confirmation of a web-form request: a mail with a
// link into the portal at the ticket, else a text message with it when an
// SMS channel exists.
func (s *Store) confirm(ctx context.Context, in SupportRequest, t tickets.Ticket) (string, error) {
	var a Account
	var err error
	switch {
	case in.Email != "":
		a, err = s.EnsureEmailAccount(ctx, in.Email)
	case in.Phone != "" && s.SMSAvailable():
		a, err = s.EnsurePhoneAccount(ctx, in.Phone)
	default:
		return "", nil
	}
	if errors.Is(err, domain.ErrNotFound) {
		// The address is a contact's of a customer found by phone: no
		// account to sign into, no link.
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if a.CustomerID != t.CustomerID {
		// The address signs into another customer's portal (found by the
		// phone, registered under another address): a link would open
		// the wrong account, so none is sent.
		return "", nil
	}
	token, linkID, err := s.newLink(ctx, a.ID, PurposeFollow, fmt.Sprintf("/portal/tickets/%d", t.ID), s.opts.FollowTTL)
	if err != nil {
		return "", err
	}
	lang := pickLang(a.Locale, in.Lang)
	params := map[string]any{"Name": in.Name, "Number": t.Number, "Subject": t.Subject,
		"Link": s.link(LinkPath + "?token=" + token), "Days": int(s.opts.FollowTTL.Hours() / 24)}
	dedupe := fmt.Sprintf("portal_link:%d", linkID)
	if in.Email != "" {
		return "email", s.mail(ctx, a, "portal.support_confirmation", dedupe, "ticket", fmt.Sprint(t.ID),
			s.cat.T(lang, "portal.mail.follow.subject", params), s.cat.T(lang, "portal.mail.follow.body", params))
	}
	_, err = s.outbox.Enqueue(ctx, notify.Message{Channel: notify.ChannelSMS, Kind: "portal.support_confirmation", DedupeKey: dedupe,
		CustomerID: a.CustomerID, Recipient: in.Phone, Body: s.cat.T(lang, "portal.sms.follow", params), Transactional: true,
		Entity: "ticket", EntityID: fmt.Sprint(t.ID)})
	return "sms", err
}
