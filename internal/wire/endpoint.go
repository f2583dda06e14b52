package wire

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// An Endpoint is where requests go: a URL's scheme, host and port, spelt
// one way, so that every spelling of an endpoint ("https://A:443/x",
// "https://a./", "https://a:0443") is one value. It is comparable, for use
// as a map key.
type Endpoint struct {
	// Scheme is the URL's scheme in lower case.
	Scheme string
	// Host is the host without brackets: a name in lower case without a
	// trailing dot, or an IP address in its canonical form (an
	// IPv4-mapped IPv6 address as IPv4, a zone as given).
	Host string
	// Port is the port in decimal without leading zeros; when the URL has
	// none, the scheme's default (443 for https, 80 for http; empty for
	// other schemes).
	Port string
}

// String returns the endpoint as "https://host:port", an IPv6 host in
// brackets, without ":port" when Port is empty.
func (e Endpoint) String() string {
	if e.Port == "" {
		host := e.Host
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		return e.Scheme + "://" + host
	}
	return e.Scheme + "://" + net.JoinHostPort(e.Host, e.Port)
}

// IsIP reports whether the host is an IP address. It is exact for an
// Endpoint that CheckEndpoint accepted, whose host names never consist of
// digits and dots only.
func (e Endpoint) IsIP() bool {
	return strings.Contains(e.Host, ":") || e.Host != "" && strings.Trim(e.Host, "0123456789.") == ""
}

// Why CheckEndpoint refuses a URL. The messages are predicates, to follow
// the name of what was checked: "Options.Endpoint must …".
var (
	errNotHTTP  = errors.New("must be an absolute http(s) URL")
	errNoHost   = errors.New("must name a host")
	errUserinfo = errors.New("must not contain userinfo")
	errBadHost  = errors.New("must name a host of letters, digits, '-' and '_', or an IP address")
	errBadPort  = errors.New("must have a port from 1 to 65535, or none")
)

// ParseEndpoint parses s as the URL of an endpoint that requests may be
// sent to, which CheckEndpoint accepts. The URL keeps its path, query and
// fragment; the Endpoint has none. The error is a predicate of s ("must be
// an absolute http(s) URL: …") that wraps url.Parse's error, which
// repeats s, when s does not parse.
func ParseEndpoint(s string) (*url.URL, Endpoint, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, Endpoint{}, fmt.Errorf("%w: %w", errNotHTTP, err)
	}
	e, err := CheckEndpoint(u)
	if err != nil {
		return nil, Endpoint{}, err
	}
	return u, e, nil
}

// CheckEndpoint returns u's Endpoint if requests may be sent to u: an
// absolute http or https URL (scheme in any case) without userinfo, whose
// host is a DNS name of labels of letters, digits, '-' and '_' (not
// starting or ending with '-'; the last one not all digits; one trailing
// dot allowed) or an IP address (IPv6 in brackets), with a port, if any,
// from 1 to 65535 (leading zeros allowed). Otherwise it returns an error,
// a predicate that does not repeat u ("must have a port from 1 to 65535,
// or none"). It allocates only for a host with upper-case letters or an
// IP address not spelt canonically.
func CheckEndpoint(u *url.URL) (Endpoint, error) {
	if u == nil || u.Opaque != "" || !isHTTP(u.Scheme) {
		return Endpoint{}, errNotHTTP
	}
	if u.Host == "" {
		return Endpoint{}, errNoHost
	}
	if u.User != nil {
		return Endpoint{}, errUserinfo
	}
	e, err := endpointOf(u)
	if err != nil {
		return Endpoint{}, err
	}
	return e, nil
}

// EndpointOf returns the endpoint of any URL, whatever its scheme and
// however odd its host: a host that CheckEndpoint would refuse is only
// put in lower case, without brackets or a trailing dot. It does not
// allocate for a host in lower case (an IP address spelt canonically).
func EndpointOf(u *url.URL) Endpoint {
	e, err := endpointOf(u)
	if err != nil {
		e.Host = strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
		e.Port = defaultPort(e.Scheme, trimZeros(u.Port()))
	}
	return e
}

// endpointOf returns u's endpoint, and an error if its Host is not a
// valid host[:port] (see CheckEndpoint); the scheme is not checked.
func endpointOf(u *url.URL) (Endpoint, error) {
	e := Endpoint{Scheme: strings.ToLower(u.Scheme)}
	hostport := u.Host
	if hostport == "" {
		return e, errNoHost
	}
	if len(hostport) > 300 {
		return e, errBadHost
	}
	name, port := hostport, ""
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return e, errBadHost
		}
		name, port = hostport[1:end], hostport[end+1:]
		if port != "" && port[0] != ':' {
			return e, errBadHost
		}
		ip, err := netip.ParseAddr(name)
		if err != nil || !ip.Is6() {
			return e, errBadHost
		}
		e.Host = canonicalIP(ip.Unmap(), name)
	} else {
		if strings.Count(hostport, ":") > 1 { // an IPv6 address without brackets
			return e, errBadHost
		}
		if i := strings.IndexByte(hostport, ':'); i >= 0 {
			name, port = hostport[:i], hostport[i:]
		}
		if isIPv4(name) {
			e.Host = name // netip accepts only the canonical spelling
		} else {
			e.Host = strings.ToLower(strings.TrimSuffix(name, "."))
			if !validDNSName(e.Host) {
				return e, errBadHost
			}
		}
	}
	if port != "" {
		port = port[1:]
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strings.TrimLeft(port, "0123456789") != "" {
			return e, errBadPort
		}
		port = trimZeros(port)
	}
	e.Port = defaultPort(e.Scheme, port)
	return e, nil
}

func isHTTP(scheme string) bool {
	return strings.EqualFold(scheme, "https") || strings.EqualFold(scheme, "http")
}

// defaultPort returns port, or the default port of scheme (lower case)
// when port is empty.
func defaultPort(scheme, port string) string {
	if port != "" {
		return port
	}
	switch scheme {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// trimZeros drops a port's leading zeros, keeping one digit.
func trimZeros(port string) string {
	for len(port) > 1 && port[0] == '0' {
		port = port[1:]
	}
	return port
}

// canonicalIP returns ip's canonical spelling: as, when it is that
// already, so that nothing is allocated.
func canonicalIP(ip netip.Addr, as string) string {
	var buf [64]byte
	b := ip.AppendTo(buf[:0])
	if string(b) == as {
		return as
	}
	return string(b)
}

// isIPv4 reports whether s is an IPv4 address. Only digits and dots can
// make one; checking that first spares host names the allocation of
// ParseAddr's error.
func isIPv4(s string) bool {
	if s == "" || strings.Trim(s, "0123456789.") != "" {
		return false
	}
	_, err := netip.ParseAddr(s)
	return err == nil
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
