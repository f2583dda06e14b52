package account

import (
	"net/url"
	"strings"

	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// inAccount reports whether u may receive requests signed for the account
// whose endpoint is account. It is the host rule that keeps a caller's
// signature inside the account:
//
//   - account and u are endpoints requests may be sent to
//     (wire.CheckEndpoint): absolute http or https URLs without userinfo,
//     with a valid host and, if they have a port, a port from 1 to 65535
//     (port 0 reaches no server);
//   - u has the account's scheme (so https is never downgraded to http);
//   - if the account's host is an IP address, u's host is the same address
//     (IPv4-mapped IPv6 equals its IPv4 form; zones must match), any port;
//   - otherwise u's host equals the account's host, or ends with "." + the
//     account host's parent domain (the host without its first label), any
//     port: contoso-westus.documents.azure.com is in the account of
//     contoso.documents.azure.com. The parent domain must have at least two
//     labels, so an account host such as "localhost" or "contoso.com" only
//     matches itself.
//
// Host names are compared case-insensitively, one trailing dot ignored, and
// must consist of LDH labels (letters, digits, '-', '_'), so percent-encoded,
// non-ASCII and otherwise odd hosts never match. The rule trusts the parent
// domain as a whole: it cannot tell a public suffix ("co.uk") from a
// provider's domain ("documents.azure.com"), so an account endpoint must be
// at least three labels below a public suffix for the rule to be tight, as
// every Cosmos DB account endpoint is.
//
// inAccount does not allocate unless a host has upper-case letters or is
// an IP address not spelt canonically.
func inAccount(account, u *url.URL) bool {
	if account == nil || u == nil || !strings.EqualFold(account.Scheme, u.Scheme) {
		return false
	}
	a, err := wire.CheckEndpoint(account)
	if err != nil {
		return false
	}
	e, err := wire.CheckEndpoint(u)
	if err != nil || a.IsIP() != e.IsIP() {
		return false
	}
	if a.Host == e.Host {
		return true
	}
	if a.IsIP() {
		return false
	}
	dot := strings.IndexByte(a.Host, '.')
	if dot < 0 {
		return false
	}
	parent := a.Host[dot+1:]
	if !strings.Contains(parent, ".") {
		return false
	}
	return strings.HasSuffix(e.Host, "."+parent)
}
