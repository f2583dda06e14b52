package account

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// InAccount reports whether u may receive requests signed for the account
// whose endpoint is account. It is the host rule that keeps a caller's
// signature inside the account:
//
//   - u is an absolute http or https URL with the account's scheme (so https
//     is never downgraded to http), a non-empty host, no userinfo and, if
//     it has a port, a port from 1 to 65535 (port 0 reaches no server);
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
// InAccount does not allocate unless a host has upper-case letters.
func InAccount(account, u *url.URL) bool {
	if account == nil || u == nil || u.User != nil || u.Opaque != "" {
		return false
	}
	if !validScheme(account.Scheme) || !strings.EqualFold(account.Scheme, u.Scheme) {
		return false
	}
	ah, aok := parseHost(account.Host)
	uh, uok := parseHost(u.Host)
	if !aok || !uok || ah.isIP != uh.isIP {
		return false
	}
	if ah.isIP {
		return ah.ip == uh.ip
	}
	if ah.name == uh.name {
		return true
	}
	dot := strings.IndexByte(ah.name, '.')
	if dot < 0 {
		return false
	}
	parent := ah.name[dot+1:]
	if !strings.Contains(parent, ".") {
		return false
	}
	return strings.HasSuffix(uh.name, "."+parent)
}

func validScheme(s string) bool {
	return strings.EqualFold(s, "https") || strings.EqualFold(s, "http")
}

// A host is a URL's host in canonical form: either an IP address or a
// lower-case DNS name without a trailing dot.
type host struct {
	name string
	ip   netip.Addr
	isIP bool
	port int // 1 to 65535; 0 when absent
}

// parseHost splits and validates a URL's Host field (host[:port]).
func parseHost(hostport string) (host, bool) {
	if hostport == "" || len(hostport) > 300 {
		return host{}, false
	}
	var h host
	name, port := hostport, ""
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return host{}, false
		}
		name, port = hostport[1:end], hostport[end+1:]
		if port != "" && port[0] != ':' {
			return host{}, false
		}
		ip, err := netip.ParseAddr(name)
		if err != nil || !ip.Is6() {
			return host{}, false
		}
		h.ip, h.isIP = ip.Unmap(), true
	} else {
		if strings.Count(hostport, ":") > 1 { // an unbracketed IPv6 literal
			return host{}, false
		}
		if i := strings.IndexByte(hostport, ':'); i >= 0 {
			name, port = hostport[:i], hostport[i:]
		}
		if ip, ok := parseIPv4(name); ok {
			h.ip, h.isIP = ip, true
		} else {
			h.name = strings.ToLower(strings.TrimSuffix(name, "."))
			if !validDNSName(h.name) {
				return host{}, false
			}
		}
	}
	if port != "" {
		port = port[1:]
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strings.TrimLeft(port, "0123456789") != "" {
			return host{}, false
		}
		h.port = n
	}
	return h, true
}

// parseIPv4 parses an IPv4 address. Only digits and dots can make one;
// checking that first spares host names the allocation of ParseAddr's
// error.
func parseIPv4(s string) (netip.Addr, bool) {
	if s == "" || strings.Trim(s, "0123456789.") != "" {
		return netip.Addr{}, false
	}
	ip, err := netip.ParseAddr(s)
	return ip, err == nil
}

// validDNSName reports whether s (lower case, no trailing dot) is a
// plausible DNS name: labels of 1 to 63 letters, digits, '-' or '_', not
// starting or ending with '-', and a last label that is not all digits (so
// "127.1" or "2130706433" are not taken for names).
func validDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	last := ""
	for rest := s; ; {
		l, tail, more := strings.Cut(rest, ".")
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
		if !more {
			last = l
			break
		}
		rest = tail
	}
	return strings.Trim(last, "0123456789") != ""
}

// endpointKey returns the canonical scheme://host:port of u (the default
// port made explicit), which identifies an endpoint; false if u's host is
// not valid.
func endpointKey(u *url.URL) (string, bool) {
	if u == nil || !validScheme(u.Scheme) {
		return "", false
	}
	h, ok := parseHost(u.Host)
	if !ok {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	port := h.port
	if port == 0 {
		port = 443
		if scheme == "http" {
			port = 80
		}
	}
	name := h.name
	if h.isIP {
		name = "[" + h.ip.String() + "]"
	}
	return scheme + "://" + name + ":" + strconv.Itoa(port), true
}
