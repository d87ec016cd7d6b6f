package identity

// NewPortalPrincipal is the principal of a customer signed in to the portal
// (or using a portal API token): portal account accountID of customer
// customerID. It holds no staff permission (Can answers false for every
// real permission) and UserID is 0, so nothing that checks a permission or
// acts for a staff member can be reached with it; the guard refuses it on
// every route not flagged Portal.
func NewPortalPrincipal(accountID, customerID int64, email, name, locale string) *Principal {
	return &Principal{PortalAccountID: accountID, CustomerID: customerID, Email: email, Name: name, Locale: locale,
		Roles: []string{}, perms: map[Permission]bool{}, sorted: []string{}}
}

// IsPortal tells whether p is a portal caller (a customer), not staff.
func (p *Principal) IsPortal() bool { return p != nil && p.PortalAccountID != 0 }
