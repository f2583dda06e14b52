package account

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/region"
)

// fuzzLocalAccount is the DatabaseAccount document of a local test account
// (three regions on 127.0.0.1, keys in encoding/json's order), served from
// fuzzLocalAccountURL.
const (
	fuzzLocalAccountURL = "http://127.0.0.1:41000/"
	fuzzLocalAccount    = `{"_dbs":"//dbs/","_rid":"127.0.0.1:41000","_self":"","addresses":"//addresses/",` +
		`"enableMultipleWriteLocations":false,"id":"cosmostest","media":"//media/",` +
		`"readPolicy":{"primaryReadCoefficient":1,"secondaryReadCoefficient":1},` +
		`"readableLocations":[{"name":"West US 2","databaseAccountEndpoint":"http://127.0.0.1:41001/"},` +
		`{"name":"East US","databaseAccountEndpoint":"http://127.0.0.1:41002/"},` +
		`{"name":"North Europe","databaseAccountEndpoint":"http://127.0.0.1:41003/"}],` +
		`"systemReplicationPolicy":{"maxReplicasetSize":4,"minReplicaSetSize":3},` +
		`"userConsistencyPolicy":{"defaultConsistencyLevel":"Session"},` +
		`"userReplicationPolicy":{"asyncReplication":false,"maxReplicasetSize":4,"minReplicaSetSize":3},` +
		`"writableLocations":[{"name":"West US 2","databaseAccountEndpoint":"http://127.0.0.1:41001/"}]}`
	fuzzAzureAccountURL = "https://contoso.documents.azure.com:443/"
)

// fuzzDoc renders a document with the given writable and readable lists.
func fuzzDoc(write, read []locationDoc) []byte {
	b, err := json.Marshal(map[string]any{
		"id": "contoso", "writableLocations": write, "readableLocations": read,
		"userConsistencyPolicy": map[string]string{"defaultConsistencyLevel": "Session"},
	})
	if err != nil {
		panic(err)
	}
	return b
}

func fuzzParseAccountSeeds() (seeds []struct {
	doc     []byte
	account string
}) {
	add := func(doc []byte, account string) {
		seeds = append(seeds, struct {
			doc     []byte
			account string
		}{doc, account})
	}
	add([]byte(fuzzLocalAccount), fuzzLocalAccountURL)
	add([]byte(fuzzLocalAccount), "http://[::ffff:127.0.0.1]:41000/")
	add([]byte(fuzzLocalAccount), "https://127.0.0.1:41000/") // downgrade
	add([]byte(fuzzLocalAccount), "http://localhost:41000/")
	add([]byte(strings.ReplaceAll(fuzzLocalAccount, "127.0.0.1", "[::1]")), "http://[::1]:41000/")
	add([]byte(strings.ReplaceAll(fuzzLocalAccount, "127.0.0.1", "[fe80::1%25eth0]")), "http://[fe80::1%25eth0]:41000/")

	loc := func(name, ep string) locationDoc { return locationDoc{Name: name, Endpoint: ep} }
	west := loc("West US", "https://contoso-westus.documents.azure.com:443/")
	east := loc("East US", "https://contoso-eastus.documents.azure.com/")
	add(fuzzDoc([]locationDoc{west}, []locationDoc{west, east}), fuzzAzureAccountURL)
	add(fuzzDoc([]locationDoc{west}, []locationDoc{west, east}), "HTTPS://Contoso.Documents.Azure.Com.:443")
	for _, ep := range []string{
		"http://contoso-westus.documents.azure.com/",    // downgrade
		"https://evil.example.com/",                     // foreign
		"https://contoso.documents.azure.com.evil.com/", // look-alike
		"https://evil.com#.documents.azure.com/",        // fragment
		"https://contoso-westus.documents.azure.com@evil.com/",
		"https://x:y@contoso-westus.documents.azure.com/", // userinfo
		"https://contoso-westus.documents.azure.com/?a=b",
		"https://contoso-westus.documents.azure.com/?",
		"HTTPS://CONTOSO-WESTUS.DOCUMENTS.AZURE.COM./",
		"https://contoso-westus.documents.azure.com:0443/",
		"https://contoso-westus.documents.azure.com:99999/",
		"https://contoso-westus.documents.azure.com:/",
		"https://contoso%2Dwestus.documents.azure.com/",
		"https://contoso-wéstus.documents.azure.com/",
		"https://xn--contoso-wstus-bkb.documents.azure.com/",
		"https:contoso-westus.documents.azure.com",
		"//contoso-westus.documents.azure.com/",
		"https:///",
		"https://[::1]/",
		"https://127.0.0.1/",
		"https://documents.azure.com/",
		"https://a.b.documents.azure.com/path/../x",
		"https://contoso-westus.documents.azure.com\x00.evil.com/",
		"https://" + strings.Repeat("a.", 130) + "documents.azure.com/",
		"https://contoso-westus.documents.azure.com/" + strings.Repeat("x", 2048),
		"",
	} {
		add(fuzzDoc([]locationDoc{west, loc("Hostile", ep)}, []locationDoc{loc("Hostile", ep), east}), fuzzAzureAccountURL)
	}
	for _, name := range []string{"", "WEST US", "West\x00US", "West\u202eUS", "\xff", strings.Repeat("é", 200)} {
		add(fuzzDoc([]locationDoc{west, loc(name, east.Endpoint)}, []locationDoc{loc(name, east.Endpoint)}), fuzzAzureAccountURL)
	}
	var many []locationDoc
	for i := range maxLocations + 1 {
		many = append(many, loc(fmt.Sprint("Region ", i), fmt.Sprintf("https://contoso-r%d.documents.azure.com/", i)))
	}
	add(fuzzDoc(many[:maxLocations], many[:maxLocations]), fuzzAzureAccountURL)
	add(fuzzDoc(many[:1], many), fuzzAzureAccountURL)
	add(fuzzDoc([]locationDoc{west, west, east}, nil), fuzzAzureAccountURL)
	add(fuzzDoc(nil, []locationDoc{west}), fuzzAzureAccountURL)
	for _, doc := range []string{
		``, ` `, `null`, `[]`, `"x"`, `{`, `{}`, `{"id":1}`, `{"writableLocations":{}}`,
		`{"writableLocations":[1]}`, `{"writableLocations":[{"name":["x"]}]}`,
		`{"WRITABLELOCATIONS":[{"NAME":"West US","DATABASEACCOUNTENDPOINT":"https://contoso-westus.documents.azure.com/"}]}`,
		`{"writableLocations":null,"writableLocations":[{"name":"a","databaseAccountEndpoint":"https://contoso-a.documents.azure.com/"}]}`,
		"\xef\xbb\xbf{}", `{} trailing`, `{"id":"\ud800"}`, `{"a":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
		`{"enableMultipleWriteLocations":"true"}`, `{"userConsistencyPolicy":{"defaultConsistencyLevel":1e999}}`,
	} {
		add([]byte(doc), fuzzAzureAccountURL)
	}
	add([]byte(fuzzLocalAccount), "")
	add([]byte(fuzzLocalAccount), "ftp://127.0.0.1/")
	add([]byte(fuzzLocalAccount), "127.0.0.1:41000")
	return seeds
}

// FuzzParseAccount checks parseAccount on arbitrary documents and account
// endpoints: it never panics, and whatever it accepts can only send
// requests inside the account, within the documented bounds.
func FuzzParseAccount(f *testing.F) {
	for _, s := range fuzzParseAccountSeeds() {
		f.Add(s.doc, s.account)
	}
	f.Fuzz(func(t *testing.T, data []byte, rawAccount string) {
		account, err := url.Parse(rawAccount)
		if err != nil {
			return
		}
		before := *account
		a, err := parseAccount(data, account)
		if *account != before {
			t.Fatalf("parseAccount modified the account URL: %#v, was %#v", *account, before)
		}
		if err != nil {
			if a != nil {
				t.Fatal("parseAccount returned an account and an error")
			}
			if account.IsAbs() && inAccount(account, account) &&
				!errors.Is(err, region.ErrBadAccount) && !errors.Is(err, region.ErrNoWriteRegion) {
				t.Fatalf("error %q wraps neither sentinel", err)
			}
			// A document's fault is told by region's sentinels, with their
			// package prefix; an unusable account endpoint is the
			// caller's, named as such, and the message is added to as
			// the error goes up.
			want := "the account endpoint "
			if errors.Is(err, region.ErrBadAccount) || errors.Is(err, region.ErrNoWriteRegion) {
				want = "region: "
			}
			if !strings.HasPrefix(err.Error(), want) || len(err.Error()) > 400 {
				t.Fatalf("error %q: does not start with %q, or too long", err, want)
			}
			return
		}
		if a == nil {
			t.Fatal("parseAccount returned neither an account nor an error")
		}
		var doc accountDoc
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("parseAccount accepted a document encoding/json rejects: %v", err)
		}
		if len(a.Write) == 0 || len(a.Write) > maxLocations || len(a.Read) > maxLocations {
			t.Fatalf("%d writable and %d readable locations", len(a.Write), len(a.Read))
		}
		if len(a.ID) > maxNameBytes || !utf8.ValidString(a.ID) || len(a.ConsistencyLevel) > maxLevelBytes || !utf8.ValidString(a.ConsistencyLevel) {
			t.Fatalf("ID %q or ConsistencyLevel %q out of bounds", a.ID, a.ConsistencyLevel)
		}
		if listed, kept := len(doc.WritableLocations)+len(doc.ReadableLocations), len(a.Write)+len(a.Read); len(a.Dropped) != listed-kept {
			t.Fatalf("%d locations listed, %d kept, but %d dropped: %q", listed, kept, len(a.Dropped), a.Dropped)
		}
		for _, d := range a.Dropped {
			if len(d) > 400 {
				t.Fatalf("Dropped entry of %d bytes: %q", len(d), d)
			}
		}
		for _, d := range a.Dropped {
			checkNoForeignEndpoint(t, d, doc, account)
		}
		checkLocations(t, "Write", a.Write, account)
		checkLocations(t, "Read", a.Read, account)
	})
}

// checkLocations checks the locations parseAccount kept from one list.
func checkLocations(t *testing.T, list string, locs []Location, account *url.URL) {
	t.Helper()
	keys, names := map[wire.Endpoint]bool{}, map[string]bool{}
	for i, l := range locs {
		ep := l.Endpoint
		if ep == nil {
			t.Fatalf("%s[%d] has no endpoint", list, i)
		}
		if !inAccount(account, ep) {
			t.Fatalf("%s[%d] endpoint %v is outside account %v", list, i, ep, account)
		}
		if ep.Scheme != strings.ToLower(account.Scheme) {
			t.Fatalf("%s[%d] endpoint %v: scheme differs from account %v", list, i, ep, account)
		}
		if ep.Path != "/" || ep.User != nil || ep.RawQuery != "" || ep.ForceQuery || ep.Fragment != "" || ep.Opaque != "" || ep.RawPath != "" {
			t.Fatalf("%s[%d] endpoint %#v is not scheme://host/", list, i, *ep)
		}
		// What the endpoint prints is the endpoint: a caller that stores
		// and re-parses it stays in the account.
		again, err := url.Parse(ep.String())
		if err != nil || again.Host != ep.Host || !inAccount(account, again) {
			t.Fatalf("%s[%d] endpoint %v re-parses as %#v (%v)", list, i, ep, again, err)
		}
		id, err := wire.CheckEndpoint(ep)
		if err != nil || keys[id] {
			t.Fatalf("%s[%d] endpoint %v: invalid (%v) or duplicate", list, i, ep, err)
		}
		keys[id] = true
		if len(l.Name) > maxNameBytes || !utf8.ValidString(l.Name) || strings.ContainsFunc(l.Name, func(r rune) bool { return !unicode.IsPrint(r) }) {
			t.Fatalf("%s[%d] name %q is invalid", list, i, l.Name)
		}
		if n := strings.ToLower(l.Name); l.Name != "" {
			if names[n] {
				t.Fatalf("%s[%d] name %q is a duplicate", list, i, l.Name)
			}
			names[n] = true
		}
	}
}

// checkNoForeignEndpoint checks that a Dropped entry does not repeat the
// endpoint of a listed location outside the account (unless the location's
// name already contains it). Only endpoints with "://" and without spaces
// or characters that quoting escapes are looked for: such a string can
// only appear in an entry as part of the quoted name or as itself.
func checkNoForeignEndpoint(t *testing.T, entry string, doc accountDoc, account *url.URL) {
	t.Helper()
	for _, d := range append(doc.WritableLocations, doc.ReadableLocations...) {
		if !strings.Contains(d.Endpoint, "://") || strings.Contains(d.Name, d.Endpoint) ||
			strings.ContainsFunc(d.Endpoint, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == '"' || r == '\\' }) {
			continue
		}
		if u, err := url.Parse(d.Endpoint); err == nil && inAccount(account, u) {
			continue
		}
		if strings.Contains(entry, d.Endpoint) {
			t.Fatalf("Dropped entry %q repeats the foreign endpoint %q", entry, d.Endpoint)
		}
	}
}
