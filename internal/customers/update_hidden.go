package customers

import (
	"context"
	"slices"
	"strings"

	"github.com/careloop/careloop/internal/identity"
)

// UpdateAs is Update for a caller, who may see phones only masked (without
// customers.contact_view). Such a caller's update keeps what they could not
// see: a contact sent back without its phone, or with the masked phone it was
// shown, keeps the stored phone, and a masked number in phones stands for the
// stored number it masks. A value sent in full replaces the stored one; a
// contact or phone left out of the list is removed, as for anyone. Without
// this, an agent who corrected a contact's title deleted its phone.
func (s *Store) UpdateAs(ctx context.Context, p *identity.Principal, id int64, in Input) (Customer, error) {
	if p.Can(identity.CustomersContactView) || (in.Phones == nil && in.Contacts == nil) {
		return s.Update(ctx, id, in)
	}
	return s.update(ctx, id, in, true)
}

// keepHidden rewrites in so that the values a masked viewer was shown as
// masked, or not at all, are those stored in before.
func keepHidden(in *Input, before Customer) {
	if in.Phones != nil {
		used := make([]bool, len(before.Phones))
		phones := slices.Clone(*in.Phones)
		for i, ph := range phones {
			ph = strings.TrimSpace(ph)
			if !strings.Contains(ph, "*") {
				continue
			}
			for j, stored := range before.Phones {
				if !used[j] && MaskPhone(stored) == ph {
					phones[i], used[j] = stored, true
					break
				}
			}
		}
		in.Phones = &phones
	}
	if in.Contacts != nil {
		used := make([]bool, len(before.Contacts))
		contacts := slices.Clone(*in.Contacts)
		for i := range contacts {
			ct := &contacts[i]
			j := matchContact(before.Contacts, used, *ct)
			if j < 0 {
				continue
			}
			used[j] = true
			stored := before.Contacts[j].Phone
			if ph := strings.TrimSpace(ct.Phone); stored != "" && (ph == "" || ph == MaskPhone(stored)) {
				ct.Phone = stored
			}
		}
		in.Contacts = &contacts
	}
}

// matchContact finds the stored contact that ct is: by id when it has one
// (as the caller read it), else the one unused stored contact of that name.
func matchContact(stored []Contact, used []bool, ct Contact) int {
	if ct.ID != 0 {
		for j, s := range stored {
			if !used[j] && s.ID == ct.ID {
				return j
			}
		}
		return -1
	}
	name, found := strings.TrimSpace(ct.Name), -1
	for j, s := range stored {
		if !used[j] && s.Name == name {
			if found >= 0 {
				return -1 // two of that name: which one is not known
			}
			found = j
		}
	}
	return found
}
