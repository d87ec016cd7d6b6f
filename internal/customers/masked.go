package customers

import (
	"slices"
	"strings"
)

// keepMasked puts the stored numbers back where an editor who sees phones
// masked sent them unchanged: a phone (or a contact's phone) that equals the
// mask of one on file stands for that number. A masked text that matches
// nothing on file stays as it is and is refused by validation. The caller's
// slices are not changed.
func keepMasked(before Customer, in *Input) {
	if in.Phones != nil && slices.ContainsFunc(*in.Phones, isMasked) {
		phones := slices.Clone(*in.Phones)
		for i, ph := range phones {
			if !isMasked(ph) {
				continue
			}
			for _, stored := range before.Phones {
				if MaskPhone(stored) == strings.TrimSpace(ph) {
					phones[i] = stored
					break
				}
			}
		}
		in.Phones = &phones
	}
	if in.Contacts != nil && slices.ContainsFunc(*in.Contacts, func(c Contact) bool { return isMasked(c.Phone) }) {
		contacts := slices.Clone(*in.Contacts)
		for i, ct := range contacts {
			if !isMasked(ct.Phone) {
				continue
			}
			for _, b := range before.Contacts {
				same := b.ID == ct.ID
				if ct.ID == 0 {
					same = b.Name == strings.TrimSpace(ct.Name)
				}
				if same && b.Phone != "" && MaskPhone(b.Phone) == strings.TrimSpace(ct.Phone) {
					contacts[i].Phone = b.Phone
					break
				}
			}
		}
		in.Contacts = &contacts
	}
}

func isMasked(s string) bool { return strings.Contains(s, "*") }
