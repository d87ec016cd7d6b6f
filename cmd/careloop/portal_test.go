package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/app"
	"github.com/careloop/careloop/internal/config"
	"github.com/careloop/careloop/internal/customers"
)

// TestPortalTokenCommand: `token create --portal-email E` prints a clp_
// token for the customer of that address (opening their portal account),
// which the ticket API answers for that customer only; an address no
// customer has, or both flags, is refused with the flag named.
func TestPortalTokenCommand(t *testing.T) {
	eachCLI(t, func(t *testing.T, c *cli) {
		if _, _, err := c.run("", "migrate"); err != nil {
			t.Fatal(err)
		}
		cfg := config.Defaults()
		cfg.DataDir, cfg.DB = c.env["CARELOOP_DATA"], c.env["CARELOOP_DB"]
		a, err := app.OpenStore(context.Background(), cfg, app.Options{})
		if err != nil {
			t.Fatal(err)
		}
		name, email := "陈美玲", "meiling@example.com"
		cust, err := a.Customers.Create(context.Background(), customers.Input{Name: &name, Email: &email})
		a.Close()
		if err != nil {
			t.Fatal(err)
		}
		token, _, err := c.run("", "token", "create", "--portal-email", "MeiLing@example.com")
		if err != nil || !regexp.MustCompile(`^clp_[A-Za-z0-9_-]{43}\n$`).MatchString(token) {
			t.Fatalf("token create --portal-email printed %q (%v)", token, err)
		}
		a, err = app.OpenStore(context.Background(), cfg, app.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		p, err := a.Portal.TokenPrincipal(context.Background(), strings.TrimSpace(token))
		if err != nil || p.CustomerID != cust.ID || !p.IsPortal() {
			t.Fatalf("the token's principal: %+v %v", p, err)
		}
		_, _, err = c.run("", "token", "create", "--portal-email", "nobody@example.com")
		if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "nobody@example.com") {
			t.Fatalf("a portal token for an unknown address: %v", err)
		}
		_, _, err = c.run("", "token", "create", "--portal-email", "meiling@example.com", "--email", "x@example.com")
		if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "--portal-email") {
			t.Fatalf("both flags: %v", err)
		}
	})
}
