package account

import (
	"fmt"
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

func TestInAccount(t *testing.T) {
	const acct = "https://contoso.documents.azure.com:443/"
	tests := []struct {
		account, u string
		want       bool
	}{
		// The account's own host and its regional siblings.
		{acct, "https://contoso.documents.azure.com:443/", true},
		{acct, "https://contoso.documents.azure.com/", true},
		{acct, "https://contoso-westus.documents.azure.com:443/", true},
		{acct, "https://CONTOSO-WestUS.Documents.Azure.COM/", true},
		{acct, "https://contoso-westus.documents.azure.com./", true},
		{acct, "https://contoso-westus.documents.azure.com:10250/", true},
		{"https://Contoso.Documents.Azure.com./", "https://contoso-eastus.documents.azure.com/", true},
		// Scheme: same as the account, never downgraded.
		{acct, "http://contoso-westus.documents.azure.com/", false},
		{"http://contoso.documents.azure.com/", "https://contoso-westus.documents.azure.com/", false},
		{acct, "ftp://contoso-westus.documents.azure.com/", false},
		{acct, "//contoso-westus.documents.azure.com/", false},
		{"ftp://contoso.documents.azure.com/", "ftp://contoso.documents.azure.com/", false},
		// Look-alike hosts.
		{acct, "https://evil-documents.azure.com/", false},
		{acct, "https://documents.azure.com.evil.com/", false},
		{acct, "https://contoso.documents.azure.com.evil.com/", false},
		{acct, "https://documents.azure.com/", false},
		{acct, "https://azure.com/", false},
		{acct, "https://contoso-westus.documents.azure.co/", false},
		{acct, "https://contoso-westus.documentsXazure.com/", false},
		{acct, "https://contoso-westus.documents.azure.com../", false},
		{acct, "https://.documents.azure.com/", false},
		{acct, "https://contoso-westus.documents.azure.com%2eevil.com/", false},
		{acct, "https://cont\u043eso.documents.azure.com/", false}, // Cyrillic o
		{acct, "https://x%C3%A9.documents.azure.com/", false},
		// Userinfo, empty host, odd ports.
		{acct, "https://contoso.documents.azure.com@evil.com/", false},
		{acct, "https://user:pw@contoso-westus.documents.azure.com/", false},
		{acct, "https:///path", false},
		{acct, "https://contoso-westus.documents.azure.com:99999/", false},
		{acct, "https://contoso-westus.documents.azure.com:/", false},
		{acct, "https://contoso-westus.documents.azure.com:0/", false},
		{acct, "https://contoso.documents.azure.com:00/", false},
		{"http://127.0.0.1:8081/", "http://127.0.0.1:0/", false},
		{"https://[::1]:8081/", "https://[::1]:0/", false},
		{"https://contoso.documents.azure.com:0/", "https://contoso.documents.azure.com:0/", false},
		{acct, "https://contoso-westus.documents.azure.com:00443/", true},
		// IP-literal accounts: the same address only, any port.
		{"http://127.0.0.1:8081/", "http://127.0.0.1:9000/", true},
		{"http://127.0.0.1:8081/", "http://127.0.0.1/", true},
		{"http://127.0.0.1:8081/", "http://127.0.0.2:8081/", false},
		{"http://127.0.0.1:8081/", "http://localhost:8081/", false},
		{"http://127.0.0.1:8081/", "http://127.1:8081/", false},
		{"http://127.0.0.1:8081/", "http://2130706433:8081/", false},
		{"http://127.0.0.1:8081/", "http://0.0.1.127.0.0.1:8081/", false},
		{"http://127.0.0.1:8081/", "http://[::ffff:127.0.0.1]:8081/", true},
		{"https://[::1]:8081/", "https://[::1]:9/", true},
		{"https://[::1]:8081/", "https://[0:0::1]/", true},
		{"https://[::1]:8081/", "https://[::2]:8081/", false},
		{"https://[::1]:8081/", "https://127.0.0.1:8081/", false},
		{"https://[fe80::1%25eth0]/", "https://[fe80::1%25eth1]/", false},
		{acct, "https://10.0.0.1/", false},
		// Hosts without a parent domain only match themselves.
		{"http://localhost:8081/", "http://localhost:9/", true},
		{"http://localhost:8081/", "http://evil.localhost/", false},
		{"https://contoso.com/", "https://evil.com/", false},
		{"https://contoso.com/", "https://contoso.com:8443/", true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s|%s", tt.account, tt.u), func(t *testing.T) {
			u, err := url.Parse(tt.u)
			if err != nil {
				require.False(t, tt.want, "unparsable URL expected in the account")
				return
			}
			assert.Equal(t, tt.want, inAccount(mustURL(t, tt.account), u))
		})
	}
}

func TestInAccountRejectsHandBuiltHosts(t *testing.T) {
	acct := mustURL(t, "https://contoso.documents.azure.com/")
	for _, h := range []string{
		"",
		"evil.com/.documents.azure.com",
		"evil.com#.documents.azure.com",
		"evil.com\x00.documents.azure.com",
		"evil.com@x.documents.azure.com",
		"x.documents.azure.com:443:443",
		"::1",
		"[::1",
		"[127.0.0.1]",
		"x.documents.azure.com:+443",
	} {
		assert.False(t, inAccount(acct, &url.URL{Scheme: "https", Host: h}), "%q", h)
	}
	assert.False(t, inAccount(nil, acct))
	assert.False(t, inAccount(acct, nil))
	assert.False(t, inAccount(acct, &url.URL{Scheme: "https", Opaque: "x.documents.azure.com"}))
}

func TestInAccountDoesNotAllocateForLowerCaseHosts(t *testing.T) {
	for _, p := range [][2]string{
		{"https://contoso.documents.azure.com/", "https://contoso-a.documents.azure.com:443/"},
		{"https://contoso.documents.azure.com/", "https://evil.example.com/"},
		{"https://contoso.documents.azure.com/", "https://127.0.0.1/"},
		{"http://127.0.0.1:8081/", "http://127.0.0.1:9/"},
		{"https://[::1]:8081/", "https://[::1]:9/"},
	} {
		account, u := mustURL(t, p[0]), mustURL(t, p[1])
		assert.Zero(t, testing.AllocsPerRun(100, func() { inAccount(account, u) }), "%s in %s", p[1], p[0])
	}
}

func Example_inAccount() {
	account, _ := url.Parse("https://contoso.documents.azure.com:443/")
	for _, s := range []string{
		"https://contoso-westus2.documents.azure.com:443/",
		"http://contoso-westus2.documents.azure.com:443/",
		"https://evil-documents.azure.com/",
		"https://documents.azure.com.evil.com/",
	} {
		u, _ := url.Parse(s)
		fmt.Println(inAccount(account, u), s)
	}
	// Output:
	// true https://contoso-westus2.documents.azure.com:443/
	// false http://contoso-westus2.documents.azure.com:443/
	// false https://evil-documents.azure.com/
	// false https://documents.azure.com.evil.com/
}
