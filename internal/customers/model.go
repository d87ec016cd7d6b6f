package customers

import (
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/domain"
)

// Customer types, tiers, lifecycle stages and channels.
const (
	TypeIndividual   = "individual"
	TypeOrganization = "organization"
)

// Tiers drive service differences (VIP: dedicated manager, priority).
var Tiers = []string{"vip", "normal", "potential"}

// Lifecycle stages, in order; "unsubscribed" stands apart.
var Stages = []string{"potential", "new", "active", "churned", "unsubscribed"}

// Channels a customer can prefer, and consent to or opt out of.
var Channels = []string{"phone", "sms", "email", "wechat", "visit"}

// Contact is a person at an organisation customer.
type Contact struct {
	ID      int64  `json:"id,omitempty"`
	Name    string `json:"name"`
	Title   string `json:"title,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Email   string `json:"email,omitempty"`
	Primary bool   `json:"primary"`
}

// Customer is a customer record (客户档案).
type Customer struct {
	ID                int64          `json:"id"`
	Number            string         `json:"number"`
	Type              string         `json:"type"`
	Name              string         `json:"name"`
	Phones            []string       `json:"phones"`
	Email             string         `json:"email"`
	WeChat            string         `json:"wechat"`
	Address           string         `json:"address"`
	Industry          string         `json:"industry"`
	Birthday          string         `json:"birthday"`
	CooperationStart  string         `json:"cooperation_start"`
	PreferredChannel  string         `json:"preferred_channel"`
	PreferredTime     string         `json:"preferred_time"`
	OwnerID           *int64         `json:"owner_id"`
	Tier              string         `json:"tier"`
	Tags              []string       `json:"tags"`
	Remarks           string         `json:"remarks"`
	Custom            map[string]any `json:"custom"`
	Lifecycle         string         `json:"lifecycle"`
	LifecycleOverride string         `json:"lifecycle_override"`
	Contacts          []Contact      `json:"contacts"`
	// Masked says the phones (and contacts' phones) are shown masked
	// because the caller may not see contact details.
	// LastContactAt is the latest interaction on the timeline (a call, a
	// visit, a ticket…); nil when there was none.
	LastContactAt *time.Time `json:"last_contact_at"`
	Masked        bool       `json:"masked"`
	Erased        bool       `json:"erased"`
	Version       int        `json:"version"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// Input creates or changes a customer; nil fields stay as they are.
type Input struct {
	Number            *string         `json:"number,omitempty"`
	Type              *string         `json:"type,omitempty"`
	Name              *string         `json:"name,omitempty"`
	Phones            *[]string       `json:"phones,omitempty"`
	Email             *string         `json:"email,omitempty"`
	WeChat            *string         `json:"wechat,omitempty"`
	Address           *string         `json:"address,omitempty"`
	Industry          *string         `json:"industry,omitempty"`
	Birthday          *string         `json:"birthday,omitempty"`
	CooperationStart  *string         `json:"cooperation_start,omitempty"`
	PreferredChannel  *string         `json:"preferred_channel,omitempty"`
	PreferredTime     *string         `json:"preferred_time,omitempty"`
	OwnerID           *int64          `json:"owner_id,omitempty"`
	Tier              *string         `json:"tier,omitempty"`
	Tags              *[]string       `json:"tags,omitempty"`
	Remarks           *string         `json:"remarks,omitempty"`
	Custom            *map[string]any `json:"custom,omitempty"`
	LifecycleOverride *string         `json:"lifecycle_override,omitempty"`
	Contacts          *[]Contact      `json:"contacts,omitempty"`
	// AllowDuplicate creates the customer even when its phone or email is
	// already on file.
	AllowDuplicate bool `json:"allow_duplicate,omitempty"`
	Version        *int `json:"version,omitempty"`
}

func trimPtr(s *string) string {
	if s == nil {
		return ""
	}
	return strings.TrimSpace(*s)
}

func checkLen(v *domain.ValidationError, field, s string, max int) {
	if utf8.RuneCountInString(s) > max {
		v.Add(field, "validation.too_long", map[string]any{"Max": max})
	}
}

// checkDate validates a YYYY-MM-DD date; notAfter, when set, bounds it.
func checkDate(v *domain.ValidationError, field, s string, notAfter time.Time) {
	if s == "" {
		return
	}
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		v.Add(field, "validation.date", nil)
		return
	}
	if d.Year() < 1900 {
		v.Add(field, "validation.date", nil)
		return
	}
	if !notAfter.IsZero() && d.After(notAfter) {
		v.Add(field, "validation.date_future", nil)
	}
}

// apply copies the set fields of in onto c, normalising and validating them
// against now (a birthday may not be in the future). It reports every
// invalid field at once.
func (in *Input) apply(c *Customer, now time.Time) error {
	var v domain.ValidationError
	today := now.In(BusinessZone)
	todayDate := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	if in.Type != nil {
		c.Type = trimPtr(in.Type)
	}
	if c.Type != TypeIndividual && c.Type != TypeOrganization {
		v.Add("type", "validation.one_of", map[string]any{"Values": "individual, organization"})
	}
	if in.Name != nil {
		c.Name = trimPtr(in.Name)
	}
	switch n := utf8.RuneCountInString(c.Name); {
	case n == 0:
		v.Add("name", "validation.required", nil)
	case n > 200:
		v.Add("name", "validation.too_long", map[string]any{"Max": 200})
	}
	if in.Phones != nil {
		c.Phones = c.Phones[:0:0]
		for i, raw := range *in.Phones {
			if strings.TrimSpace(raw) == "" {
				continue
			}
			p, err := ParsePhone(raw)
			if err != nil {
				addPhoneError(&v, "phones["+itoa(i)+"]", err)
				continue
			}
			if !slices.Contains(c.Phones, p.String()) {
				c.Phones = append(c.Phones, p.String())
			}
		}
		if len(c.Phones) > 10 {
			v.Add("phones", "validation.too_many", map[string]any{"Max": 10})
		}
	}
	if in.Email != nil {
		c.Email = strings.ToLower(trimPtr(in.Email))
	}
	if c.Email != "" {
		if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email || len(c.Email) > 254 {
			v.Add("email", "validation.email", nil)
		}
	}
	for _, f := range []struct {
		field string
		in    *string
		dst   *string
		max   int
	}{
		{"wechat", in.WeChat, &c.WeChat, 60}, {"address", in.Address, &c.Address, 300},
		{"industry", in.Industry, &c.Industry, 60}, {"preferred_time", in.PreferredTime, &c.PreferredTime, 100},
		{"remarks", in.Remarks, &c.Remarks, 4000},
	} {
		if f.in != nil {
			*f.dst = trimPtr(f.in)
		}
		checkLen(&v, f.field, *f.dst, f.max)
	}
	if in.Birthday != nil {
		c.Birthday = trimPtr(in.Birthday)
	}
	checkDate(&v, "birthday", c.Birthday, todayDate)
	if in.CooperationStart != nil {
		c.CooperationStart = trimPtr(in.CooperationStart)
	}
	checkDate(&v, "cooperation_start", c.CooperationStart, time.Time{})
	if in.PreferredChannel != nil {
		c.PreferredChannel = trimPtr(in.PreferredChannel)
	}
	if c.PreferredChannel != "" && !slices.Contains(Channels, c.PreferredChannel) {
		v.Add("preferred_channel", "validation.one_of", map[string]any{"Values": strings.Join(Channels, ", ")})
	}
	if in.Tier != nil {
		c.Tier = strings.ToLower(trimPtr(in.Tier))
	}
	if !slices.Contains(Tiers, c.Tier) {
		v.Add("tier", "validation.one_of", map[string]any{"Values": strings.Join(Tiers, ", ")})
	}
	if in.OwnerID != nil {
		if *in.OwnerID == 0 {
			c.OwnerID = nil
		} else {
			id := *in.OwnerID
			c.OwnerID = &id
		}
	}
	if in.Tags != nil {
		c.Tags = []string{}
		for _, t := range *in.Tags {
			t = strings.TrimSpace(t)
			if t == "" || slices.Contains(c.Tags, t) {
				continue
			}
			if utf8.RuneCountInString(t) > 30 {
				v.Add("tags", "validation.too_long", map[string]any{"Max": 30})
				continue
			}
			c.Tags = append(c.Tags, t)
		}
		if len(c.Tags) > 30 {
			v.Add("tags", "validation.too_many", map[string]any{"Max": 30})
		}
	}
	if in.LifecycleOverride != nil {
		c.LifecycleOverride = trimPtr(in.LifecycleOverride)
	}
	if c.LifecycleOverride != "" && !slices.Contains(Stages, c.LifecycleOverride) {
		v.Add("lifecycle_override", "validation.one_of", map[string]any{"Values": strings.Join(Stages, ", ")})
	}
	if in.Custom != nil {
		c.Custom = *in.Custom
	}
	if in.Contacts != nil {
		c.Contacts = []Contact{}
		primaries := 0
		for i, ct := range *in.Contacts {
			field := "contacts[" + itoa(i) + "]"
			ct.Name = strings.TrimSpace(ct.Name)
			if ct.Name == "" {
				v.Add(field+".name", "validation.required", nil)
			}
			checkLen(&v, field+".name", ct.Name, 100)
			checkLen(&v, field+".title", ct.Title, 60)
			if ct.Phone = strings.TrimSpace(ct.Phone); ct.Phone != "" {
				p, err := ParsePhone(ct.Phone)
				if err != nil {
					addPhoneError(&v, field+".phone", err)
				} else {
					ct.Phone = p.String()
				}
			}
			if ct.Email = strings.ToLower(strings.TrimSpace(ct.Email)); ct.Email != "" {
				if a, err := mail.ParseAddress(ct.Email); err != nil || a.Address != ct.Email {
					v.Add(field+".email", "validation.email", nil)
				}
			}
			if ct.Primary {
				primaries++
			}
			ct.ID = 0
			c.Contacts = append(c.Contacts, ct)
		}
		if primaries > 1 {
			v.Add("contacts", "validation.one_primary", nil)
		}
		if primaries == 0 && len(c.Contacts) > 0 {
			c.Contacts[0].Primary = true
		}
		if len(c.Contacts) > 50 {
			v.Add("contacts", "validation.too_many", map[string]any{"Max": 50})
		}
	}
	return v.Err()
}

// addPhoneError keeps ParsePhone's own explanation of what is wrong.
func addPhoneError(v *domain.ValidationError, field string, err error) {
	var pv *domain.ValidationError
	if errorsAs(err, &pv) && len(pv.Fields) > 0 {
		for _, f := range pv.Fields {
			v.Add(field, f.Key, f.Params)
		}
		return
	}
	v.Add(field, "validation.phone", nil)
}
