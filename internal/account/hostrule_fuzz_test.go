package account

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// FuzzInAccount checks inAccount on arbitrary account endpoints and hand-
// built URLs with arbitrary schemes and hosts: it never panics, never
// accepts another scheme, userinfo or an odd host, and its answer does not
// depend on the port (other than 0), the case of the host or one trailing
// dot.
func FuzzInAccount(f *testing.F) {
	for _, s := range []struct{ account, scheme, host string }{
		{"https://contoso.documents.azure.com:443/", "https", "contoso-westus.documents.azure.com:443"},
		{"https://contoso.documents.azure.com:443/", "https", "contoso.documents.azure.com"},
		{"https://contoso.documents.azure.com:443/", "HTTPS", "CONTOSO-EASTUS.Documents.Azure.Com."},
		{"https://contoso.documents.azure.com:443/", "http", "contoso-westus.documents.azure.com"},
		{"https://contoso.documents.azure.com:443/", "wss", "contoso-westus.documents.azure.com"},
		{"https://contoso.documents.azure.com:443/", "https", "evil.com"},
		{"https://contoso.documents.azure.com:443/", "https", "contoso.documents.azure.com.evil.com"},
		{"https://contoso.documents.azure.com:443/", "https", "evildocuments.azure.com"},
		{"https://contoso.documents.azure.com:443/", "https", "documents.azure.com"},
		{"https://contoso.documents.azure.com:443/", "https", ".documents.azure.com"},
		{"https://contoso.documents.azure.com:443/", "https", "a..documents.azure.com"},
		{"https://contoso.documents.azure.com:443/", "https", "x%2Eevil.documents.azure.com"},
		{"https://contoso.documents.azure.com:443/", "https", "contoso-wéstus.documents.azure.com"},
		{"https://contoso.documents.azure.com:443/", "https", "contoso-westus.documents.azure.com\x00.evil.com"},
		{"https://contoso.documents.azure.com:443/", "https", "evil.com#.documents.azure.com"},
		{"https://contoso.documents.azure.com:443/", "https", "evil.com/.documents.azure.com"},
		{"https://contoso.documents.azure.com:443/", "https", "user@contoso-westus.documents.azure.com"},
		{"https://contoso.documents.azure.com:443/", "https", "contoso-westus.documents.azure.com:99999"},
		{"https://contoso.documents.azure.com:443/", "https", "contoso-westus.documents.azure.com:-1"},
		{"https://contoso.documents.azure.com:443/", "https", "contoso-westus.documents.azure.com:+1"},
		{"https://contoso.documents.azure.com:443/", "https", "contoso-westus.documents.azure.com:"},
		{"https://contoso.documents.azure.com:443/", "https", "contoso-westus.documents.azure.com:1:2"},
		{"https://contoso.documents.azure.com:443/", "https", "-contoso.documents.azure.com"},
		{"https://contoso.documents.azure.com:443/", "https", "1.2.3.4"},
		{"https://contoso.com/", "https", "evil.contoso.com"},
		{"https://localhost:8081/", "https", "localhost:1"},
		{"https://localhost:8081/", "https", "evil.localhost"},
		{"http://127.0.0.1:41000/", "http", "127.0.0.1:41001"},
		{"http://127.0.0.1:41000/", "http", "[::ffff:127.0.0.1]:41001"},
		{"http://127.0.0.1:41000/", "http", "127.1"},
		{"http://127.0.0.1:41000/", "http", "2130706433"},
		{"http://127.0.0.1:41000/", "http", "0x7f.0.0.1"},
		{"http://127.0.0.1:41000/", "http", "127.0.0.1.nip.io"},
		{"http://[::1]:41000/", "http", "[::1]"},
		{"http://[::1]:41000/", "http", "::1"},
		{"http://[::1]:41000/", "http", "[::1"},
		{"http://[::1]:41000/", "http", "[::1]x"},
		{"http://[fe80::1%25eth0]:41000/", "http", "[fe80::1%eth0]:1"},
		{"http://[fe80::1%25eth0]:41000/", "http", "[fe80::1%eth1]"},
		{"http://[fe80::1%25eth0]:41000/", "http", "[fe80::1]"},
		{"http://[::ffff:1.2.3.4]/", "http", "1.2.3.4"},
		{"https://a.b.c/", "https", "x.y.b.c"},
		{"https://" + strings.Repeat("a", 63) + ".b.c/", "https", strings.Repeat("a", 64) + ".b.c"},
		{"ftp://contoso.documents.azure.com/", "ftp", "contoso.documents.azure.com"},
		{"", "https", "contoso.documents.azure.com"},
		{"contoso.documents.azure.com", "", "contoso.documents.azure.com"},
		{"https:contoso.documents.azure.com", "https", "contoso.documents.azure.com"},
		{"https://u:p@contoso.documents.azure.com/", "https", "contoso.documents.azure.com"},
	} {
		f.Add(s.account, s.scheme, s.host)
	}
	f.Fuzz(func(t *testing.T, rawAccount, scheme, host string) {
		account, err := url.Parse(rawAccount)
		if err != nil {
			account = nil
		}
		in := func(scheme, host string) bool { return inAccount(account, &url.URL{Scheme: scheme, Host: host}) }
		got := in(scheme, host)
		if inAccount(account, &url.URL{Scheme: scheme, Host: host, User: url.User("u")}) {
			t.Fatalf("%q accepts %s://u@%s", rawAccount, scheme, host)
		}
		if inAccount(account, &url.URL{Scheme: scheme, Host: host, Opaque: "x"}) {
			t.Fatalf("%q accepts an opaque URL with host %q", rawAccount, host)
		}
		if got != in(flipASCIICase(scheme), host) {
			t.Fatalf("%q: the case of scheme %q matters for host %q", rawAccount, scheme, host)
		}
		if !got {
			return
		}
		// Accepted: the scheme is the account's, an http one.
		if !strings.EqualFold(scheme, account.Scheme) || !strings.EqualFold(scheme, "https") && !strings.EqualFold(scheme, "http") {
			t.Fatalf("%q accepts scheme %q", rawAccount, scheme)
		}
		name, port, bracketed, ok := splitFuzzHost(host)
		if !ok {
			t.Fatalf("%q accepts the malformed host %q", rawAccount, host)
		}
		// Any port but 0.
		for _, p := range []string{"", ":1", ":443", ":65535"} {
			if h := rejoinFuzzHost(name, p, bracketed); !in(scheme, h) {
				t.Fatalf("%q accepts %q but not %q", rawAccount, host, h)
			}
		}
		if h := rejoinFuzzHost(name, ":0", bracketed); in(scheme, h) {
			t.Fatalf("%q accepts port 0: %q", rawAccount, h)
		}
		// The account accepts itself, and an address or a sibling at its
		// own depth accepts the account.
		if account.User == nil && account.Opaque == "" {
			if !inAccount(account, account) {
				t.Fatalf("%q accepts %q but not itself", rawAccount, host)
			}
			self := &url.URL{Scheme: scheme, Host: host}
			accountName, _, _, _ := splitFuzzHost(account.Host)
			if bracketed || isFuzzIP(name) || strings.Count(strings.TrimSuffix(name, "."), ".") == strings.Count(strings.TrimSuffix(accountName, "."), ".") {
				if !inAccount(self, account) {
					t.Fatalf("%q accepts %q but not the other way round", rawAccount, host)
				}
			}
		}
		if bracketed || isFuzzIP(name) {
			// The same address, IPv4-mapped IPv6 being its IPv4 form.
			an, _, _, _ := splitFuzzHost(account.Host)
			a, aerr := netip.ParseAddr(an)
			u, uerr := netip.ParseAddr(name)
			if aerr != nil || uerr != nil || a.Unmap() != u.Unmap() {
				t.Fatalf("%q accepts the address %q", rawAccount, host)
			}
			return
		}
		// A host name: plain ASCII, compared without case and one
		// trailing dot.
		for i := 0; i < len(name); i++ {
			if c := name[i]; c >= 0x80 || c == '%' || c <= ' ' {
				t.Fatalf("%q accepts the odd host %q", rawAccount, host)
			}
		}
		if !in(scheme, strings.ToUpper(host)) || !in(scheme, strings.ToLower(host)) {
			t.Fatalf("%q accepts %q but not in another case", rawAccount, host)
		}
		if len(host) < 290 {
			if dotted := rejoinFuzzHost(strings.TrimSuffix(name, ".")+".", port, false); !in(scheme, dotted) {
				t.Fatalf("%q accepts %q but not %q", rawAccount, host, dotted)
			}
			if bare := rejoinFuzzHost(strings.TrimSuffix(name, "."), port, false); !in(scheme, bare) {
				t.Fatalf("%q accepts %q but not %q", rawAccount, host, bare)
			}
		}
		// The account's own name, or a name ending with "." and the
		// account's parent domain, which has at least two labels.
		an, _, _, _ := splitFuzzHost(account.Host)
		an, un := strings.ToLower(strings.TrimSuffix(an, ".")), strings.ToLower(strings.TrimSuffix(name, "."))
		if _, parent, _ := strings.Cut(an, "."); un != an && (!strings.Contains(parent, ".") || !strings.HasSuffix(un, "."+parent)) {
			t.Fatalf("%q accepts %q, outside its domain", rawAccount, host)
		}
	})
}

// splitFuzzHost splits host[:port] or [address]:port; port keeps its colon.
func splitFuzzHost(hostport string) (name, port string, bracketed, ok bool) {
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return "", "", true, false
		}
		return hostport[1:end], hostport[end+1:], true, true
	}
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
		return hostport[:i], hostport[i:], false, true
	}
	return hostport, "", false, true
}

func rejoinFuzzHost(name, port string, bracketed bool) string {
	if bracketed {
		return "[" + name + "]" + port
	}
	return name + port
}

func isFuzzIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// flipASCIICase swaps the case of ASCII letters only.
func flipASCIICase(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		case 'A' <= c && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}
