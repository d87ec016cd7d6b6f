package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"github.com/careloop/careloop/internal/domain"
)

// Resolver looks host names up: net.DefaultResolver in production, a fake
// in tests (a name that resolves to a private address).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ErrPrivateAddress is a connection refused because its address is not a
// public one.
var ErrPrivateAddress = errors.New("the address is not public")

// nonPublic are the ranges beyond what netip's predicates name: this
// network, CGNAT, IETF protocol assignments, documentation, benchmarking,
// reserved, broadcast, NAT64 and 6to4/Teredo (which embed an IPv4 address
// that may be private), IPv6 documentation.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2001::/32"),
	netip.MustParsePrefix("2002::/16"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("100::/64"),
}

// Public tells whether a is an address on the public internet: not
// loopback, private (RFC 1918, IPv6 ULA fc00::/7), link-local (169.254/16
// with the cloud metadata address, fe80::/10), unspecified, multicast,
// CGNAT or any other special range; an IPv4-mapped IPv6 address is judged
// as its IPv4 address.
func Public(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	if a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// maxURL bounds a subscription's URL.
const maxURL = 2000

// CheckURL validates a subscription's URL: http or https, a host, no user
// information; unless allowPrivate, every address the host resolves to
// must be public. Refusals are validation errors naming "url".
func CheckURL(ctx context.Context, r Resolver, raw string, allowPrivate bool) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, domain.Invalid("url", "validation.required", nil)
	}
	if len(raw) > maxURL {
		return nil, domain.Invalid("url", "validation.webhook_url_long", map[string]any{"Max": maxURL})
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, domain.Invalid("url", "validation.webhook_url", nil)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, domain.Invalid("url", "validation.webhook_scheme", nil)
	}
	if u.User != nil {
		return nil, domain.Invalid("url", "validation.webhook_userinfo", nil)
	}
	u.Fragment = ""
	host := u.Hostname()
	if host == "" {
		return nil, domain.Invalid("url", "validation.webhook_url", nil)
	}
	if allowPrivate {
		return u, nil
	}
	addrs, err := resolve(ctx, r, host)
	if err != nil {
		return nil, domain.Invalid("url", "validation.webhook_unresolved", map[string]any{"Host": host})
	}
	for _, a := range addrs {
		if !Public(a) {
			return nil, domain.Invalid("url", "validation.webhook_private", map[string]any{"Host": host, "Address": a.Unmap().String()})
		}
	}
	return u, nil
}

// resolve returns host's addresses: itself when it is an address literal.
// Go never reads other spellings (a decimal 2130706433, 0x7f.1) as
// addresses, so they fail as names rather than reach 127.0.0.1.
func resolve(ctx context.Context, r Resolver, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{a}, nil
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		// RFC 6761: always loopback, whatever a resolver says.
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%s has no address", host)
	}
	return addrs, nil
}

// guard is the dialer's Control function: it sees the address the socket
// is about to connect to, after resolution, so a name that resolved to a
// public address when subscribed and to a private one now (DNS rebinding)
// is refused here.
func guard(allowPrivate bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		if allowPrivate {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("webhook: dial %s: %w", address, ErrPrivateAddress)
		}
		if !Public(ap.Addr()) {
			return fmt.Errorf("webhook: dial %s: %w", ap.Addr().Unmap(), ErrPrivateAddress)
		}
		return nil
	}
}

// dialer connects through r (so tests can make a name resolve anywhere)
// and checks every address it connects to.
func dialer(r Resolver, allowPrivate bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Control: guard(allowPrivate)}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		addrs, err := resolve(ctx, r, host)
		if err != nil {
			return nil, err
		}
		var first error
		for _, a := range addrs {
			c, err := d.DialContext(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
			if err == nil {
				return c, nil
			}
			if first == nil {
				first = err
			}
		}
		return nil, first
	}
}
