package wire

import (
	"errors"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err, s)
	return u
}

func TestEndpointOfSpellsEachEndpointOneWay(t *testing.T) {
	for in, want := range map[string]string{
		"https://contoso-westus.documents.azure.com:443/": "https://contoso-westus.documents.azure.com:443",
		"https://Contoso.Documents.Azure.com/dbs":         "https://contoso.documents.azure.com:443",
		"HTTPS://contoso.documents.azure.com./":           "https://contoso.documents.azure.com:443",
		"https://a.b.c:0443/":                             "https://a.b.c:443",
		"http://127.0.0.1:8081/":                          "http://127.0.0.1:8081",
		"HTTP://127.0.0.1:80/":                            "http://127.0.0.1:80",
		"http://[::1]/":                                   "http://[::1]:80",
		"https://[0::1]/":                                 "https://[::1]:443",
		"http://[::ffff:127.0.0.1]:8081/":                 "http://127.0.0.1:8081",
		"http://[FE80::1%25eth0]:8080/":                   "http://[fe80::1%eth0]:8080",
		"ftp://a/":                                        "ftp://a",
		"ftp://[::1]/":                                    "ftp://[::1]",
		// Hosts CheckEndpoint refuses still get a name.
		"https://Bad_Host-.Example:0/": "https://bad_host-.example:0",
		"https://x.example:/":          "https://x.example:443",
	} {
		assert.Equal(t, want, EndpointOf(mustURL(t, in)).String(), in)
	}
	assert.Equal(t, Endpoint{Scheme: "https", Host: "a.b.c", Port: "443"}, EndpointOf(mustURL(t, "https://A.b.c.:00443/x?y#z")))
	assert.NotEqual(t, EndpointOf(mustURL(t, "https://a.b.c:444/")), EndpointOf(mustURL(t, "https://a.b.c/")))
	assert.NotEqual(t, EndpointOf(mustURL(t, "http://a.b.c/")), EndpointOf(mustURL(t, "https://a.b.c/")))
}

// The identity of a URL spelt in lower case (or an IP address spelt
// canonically) costs no allocation: the breaker takes one per request.
func TestEndpointOfDoesNotAllocateForCanonicalHosts(t *testing.T) {
	for _, s := range []string{
		"https://contoso-westus.documents.azure.com/dbs/d",
		"https://contoso-westus.documents.azure.com:443/dbs/d",
		"https://contoso-westus.documents.azure.com./",
		"http://127.0.0.1:8081/",
		"https://[::1]:8081/",
		"https://[fe80::1%25eth0]/",
	} {
		u := mustURL(t, s)
		assert.Zero(t, testing.AllocsPerRun(100, func() { EndpointOf(u) }), s)
		assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = CheckEndpoint(u) }), s)
	}
}

func TestCheckEndpoint(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want error // nil: accepted
	}{
		{"https://contoso.documents.azure.com:443/", nil},
		{"https://contoso.documents.azure.com/some/path?q#f", nil},
		{"http://127.0.0.1:8081/", nil},
		{"https://[::1]:1/", nil},
		{"https://contoso.documents.azure.com:65535/", nil},
		{"https://contoso.documents.azure.com:00443/", nil},
		{"https://under_score.example./", nil},
		{"ftp://contoso.documents.azure.com/", errNotHTTP},
		{"contoso.documents.azure.com", errNotHTTP},
		{"https:contoso.documents.azure.com", errNotHTTP},
		{"https:///dbs", errNoHost},
		{"https://user:pw@contoso.documents.azure.com/", errUserinfo},
		{"https://-contoso.documents.azure.com/", errBadHost},
		{"https://contoso..documents.azure.com/", errBadHost},
		{"https://x%C3%A9.documents.azure.com/", errBadHost},
		{"http://127.1/", errBadHost},
		{"http://2130706433/", errBadHost},
		{"https://contoso.documents.azure.com:0/", errBadPort},
		{"https://contoso.documents.azure.com:000/", errBadPort},
		{"https://contoso.documents.azure.com:65536/", errBadPort},
		{"https://contoso.documents.azure.com:/", errBadPort},
		{"http://[::1]:0/", errBadPort},
	} {
		e, err := CheckEndpoint(mustURL(t, tc.url))
		if tc.want == nil {
			require.NoError(t, err, tc.url)
			assert.Equal(t, EndpointOf(mustURL(t, tc.url)), e, tc.url)
			continue
		}
		assert.ErrorIs(t, err, tc.want, tc.url)
		assert.Zero(t, e, tc.url)
	}
	for _, h := range []string{"::1", "[::1", "[127.0.0.1]", "x.example:443:443", "[::1]x"} {
		_, err := CheckEndpoint(&url.URL{Scheme: "https", Host: h})
		assert.ErrorIs(t, err, errBadHost, "%q", h)
	}
	_, err := CheckEndpoint(&url.URL{Scheme: "https", Host: "x.example:+443"})
	assert.ErrorIs(t, err, errBadPort)
	_, err = CheckEndpoint(nil)
	assert.ErrorIs(t, err, errNotHTTP)
}

func TestParseEndpointKeepsTheParseError(t *testing.T) {
	u, e, err := ParseEndpoint("HTTPS://Contoso.documents.azure.com/x")
	require.NoError(t, err)
	assert.Equal(t, "https://Contoso.documents.azure.com/x", u.String(), "the URL as parsed")
	assert.Equal(t, "https://contoso.documents.azure.com:443", e.String())

	_, _, err = ParseEndpoint("https://contoso .documents.azure.com/")
	require.ErrorIs(t, err, errNotHTTP)
	var perr *url.Error
	require.True(t, errors.As(err, &perr), "wraps url.Parse's error")
	assert.Equal(t, `must be an absolute http(s) URL: parse "https://contoso .documents.azure.com/": invalid character " " in host name`, err.Error())

	_, _, err = ParseEndpoint("https://contoso.documents.azure.com:0/")
	assert.Equal(t, "must have a port from 1 to 65535, or none", err.Error())
}

func TestEndpointIsIP(t *testing.T) {
	for s, want := range map[string]bool{
		"https://contoso.documents.azure.com/": false,
		"https://a1.example/":                  false,
		"http://127.0.0.1/":                    true,
		"http://[::1]/":                        true,
		"http://[::ffff:10.0.0.1]/":            true,
	} {
		e, err := CheckEndpoint(mustURL(t, s))
		require.NoError(t, err, s)
		assert.Equal(t, want, e.IsIP(), s)
	}
}
