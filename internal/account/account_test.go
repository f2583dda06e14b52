package account

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/cosmosrt/cosmosrt/region"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testAccountURL = "https://contoso.documents.azure.com:443/"

// A DatabaseAccount document as the service returns it (abridged).
const goodAccountDoc = `{
  "_self": "", "id": "contoso", "_rid": "contoso.documents.azure.com",
  "media": "//media/", "addresses": "//addresses/",
  "_dbs": "//dbs/",
  "writableLocations": [
    {"name": "West US 2", "databaseAccountEndpoint": "https://contoso-westus2.documents.azure.com:443/"}
  ],
  "readableLocations": [
    {"name": "West US 2", "databaseAccountEndpoint": "https://contoso-westus2.documents.azure.com:443/"},
    {"name": "East US", "databaseAccountEndpoint": "https://contoso-eastus.documents.azure.com:443/"}
  ],
  "enableMultipleWriteLocations": false,
  "userReplicationPolicy": {"asyncReplication": false, "minReplicaSetSize": 3, "maxReplicasetSize": 4},
  "userConsistencyPolicy": {"defaultConsistencyLevel": "Session"},
  "systemReplicationPolicy": {"minReplicaSetSize": 3, "maxReplicasetSize": 4},
  "readPolicy": {"primaryReadCoefficient": 1, "secondaryReadCoefficient": 1},
  "queryEngineConfiguration": "{\"maxSqlQueryInputLength\":262144}"
}`

// locDoc renders a writable/readable location list.
func locDoc(locs ...[2]string) string {
	var parts []string
	for _, l := range locs {
		b, _ := json.Marshal(map[string]string{"name": l[0], "databaseAccountEndpoint": l[1]})
		parts = append(parts, string(b))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func names(locs []Location) []string {
	var out []string
	for _, l := range locs {
		out = append(out, l.Name+"="+l.Endpoint.String())
	}
	return out
}

func TestParseAccountGoodDocument(t *testing.T) {
	a, err := parseAccount([]byte(goodAccountDoc), mustURL(t, testAccountURL))
	require.NoError(t, err)
	assert.Equal(t, "contoso", a.ID)
	assert.Equal(t, "Session", a.ConsistencyLevel)
	assert.False(t, a.MultipleWriteLocations)
	assert.False(t, a.PerPartitionFailover, "absent: off")
	assert.Equal(t, []string{"West US 2=https://contoso-westus2.documents.azure.com:443/"}, names(a.Write))
	assert.Equal(t, []string{
		"West US 2=https://contoso-westus2.documents.azure.com:443/",
		"East US=https://contoso-eastus.documents.azure.com:443/",
	}, names(a.Read))
	assert.Empty(t, a.Dropped)
}

func TestParseAccountValidatesLocations(t *testing.T) {
	const westus = "https://contoso-westus.documents.azure.com:443/"
	tests := []struct {
		name      string
		account   string
		write     string // writableLocations JSON
		wantWrite []string
		dropped   int
	}{
		{"foreign host dropped", testAccountURL,
			locDoc([2]string{"Evil", "https://evil.example.com/"}, [2]string{"West US", westus}),
			[]string{"West US=" + westus}, 1},
		{"look-alike host dropped", testAccountURL,
			locDoc([2]string{"Evil", "https://contoso.documents.azure.com.evil.com/"}, [2]string{"West US", westus}),
			[]string{"West US=" + westus}, 1},
		{"http downgrade dropped", testAccountURL,
			locDoc([2]string{"West US", "http://contoso-westus.documents.azure.com/"}, [2]string{"East US", "https://contoso-eastus.documents.azure.com/"}),
			[]string{"East US=https://contoso-eastus.documents.azure.com/"}, 1},
		{"relative, userinfo, query, fragment dropped", testAccountURL,
			locDoc([2]string{"A", "contoso-a.documents.azure.com"}, [2]string{"B", "https://u:p@contoso-b.documents.azure.com/"},
				[2]string{"C", "https://contoso-c.documents.azure.com/?x=1"}, [2]string{"D", "https://contoso-d.documents.azure.com/#f"},
				[2]string{"E", ""}, [2]string{"West US", westus}),
			[]string{"West US=" + westus}, 5},
		{"duplicates removed, first kept", testAccountURL,
			locDoc([2]string{"West US", westus}, [2]string{"west us", "https://contoso-other.documents.azure.com/"},
				[2]string{"Copy", "https://CONTOSO-WESTUS.documents.azure.com/"}),
			[]string{"West US=" + westus}, 2},
		{"bad names dropped", testAccountURL,
			locDoc([2]string{strings.Repeat("n", 257), westus}, [2]string{"bell\a", westus}, [2]string{"West US", westus}),
			[]string{"West US=" + westus}, 2},
		{"endpoint normalised", testAccountURL,
			locDoc([2]string{"West US", "HTTPS://Contoso-WestUS.Documents.Azure.com./some/path"}),
			[]string{"West US=https://contoso-westus.documents.azure.com/"}, 0},
		{"port 0 dropped", testAccountURL,
			locDoc([2]string{"A", "https://contoso-a.documents.azure.com:0/"}, [2]string{"B", "https://contoso-b.documents.azure.com:000/"},
				[2]string{"West US", westus}),
			[]string{"West US=" + westus}, 2},
		{"loopback port 0 dropped", "http://127.0.0.1:8081/",
			locDoc([2]string{"A", "http://127.0.0.1:0/"}, [2]string{"B", "http://[::ffff:127.0.0.1]:0/"}, [2]string{"C", "http://127.0.0.1:9001/"}),
			[]string{"C=http://127.0.0.1:9001/"}, 2},
		{"loopback account, other ports", "http://127.0.0.1:8081/",
			locDoc([2]string{"A", "http://127.0.0.1:9001/"}, [2]string{"B", "http://127.0.0.2:9002/"}, [2]string{"C", "http://localhost:9003/"}),
			[]string{"A=http://127.0.0.1:9001/"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := `{"writableLocations": ` + tt.write + `}`
			a, err := parseAccount([]byte(doc), mustURL(t, tt.account))
			require.NoError(t, err)
			assert.Equal(t, tt.wantWrite, names(a.Write))
			assert.Len(t, a.Dropped, tt.dropped, "%q", a.Dropped)
			for _, d := range a.Dropped {
				assert.NotContains(t, d, "evil.")
				assert.Less(t, len(d), 200)
			}
		})
	}
}

func TestParseAccountToleratesUnknownFieldsAndCasing(t *testing.T) {
	doc := `{"ID": "c", "WRITABLELOCATIONS": [{"Name": "West US", "DatabaseAccountEndpoint": "https://contoso-westus.documents.azure.com/", "extra": {"a": [1, 2, {"b": null}]}}],
		"EnableMultipleWriteLocations": true, "enableperpartitionfailoverbehavior": true, "userconsistencypolicy": {"DefaultConsistencyLevel": "Eventual", "maxStalenessPrefix": 100},
		"newFeature": {"deep": [[[[[["ok"]]]]]]}, "readableLocations": null}`
	a, err := parseAccount([]byte(doc), mustURL(t, testAccountURL))
	require.NoError(t, err)
	assert.Equal(t, "c", a.ID)
	assert.True(t, a.MultipleWriteLocations)
	assert.True(t, a.PerPartitionFailover)
	assert.Equal(t, "Eventual", a.ConsistencyLevel)
	assert.Equal(t, []string{"West US=https://contoso-westus.documents.azure.com/"}, names(a.Write))
	assert.Empty(t, a.Read)
}

func TestParseAccountErrors(t *testing.T) {
	many := make([][2]string, 65)
	for i := range many {
		many[i] = [2]string{fmt.Sprint("R", i), fmt.Sprintf("https://contoso-r%d.documents.azure.com/", i)}
	}
	hostile := strings.Repeat("<script>", 1000)
	tests := []struct {
		name string
		doc  string
		want error
	}{
		{"empty", ``, region.ErrBadAccount},
		{"not JSON", `<html>hello</html>`, region.ErrBadAccount},
		{"null", `null`, region.ErrBadAccount},
		{"array", `[{"writableLocations": []}]`, region.ErrBadAccount},
		{"number", `42`, region.ErrBadAccount},
		{"truncated", goodAccountDoc[:len(goodAccountDoc)/2], region.ErrBadAccount},
		{"trailing garbage", goodAccountDoc + `}`, region.ErrBadAccount},
		{"wrong shape of a list", `{"writableLocations": "West US"}`, region.ErrBadAccount},
		{"wrong shape of an entry", `{"writableLocations": [["West US"]]}`, region.ErrBadAccount},
		{"wrong shape of a flag", `{"writableLocations": [], "enableMultipleWriteLocations": "yes"}`, region.ErrBadAccount},
		{"hostile value in a wrong shape", `{"writableLocations": [{"name": 1, "x": "` + hostile + `"}]}`, region.ErrBadAccount},
		{"huge array", `{"writableLocations": ` + locDoc(many...) + `}`, region.ErrBadAccount},
		{"huge readable array", `{"writableLocations": ` + locDoc(many[0]) + `, "readableLocations": ` + locDoc(many...) + `}`, region.ErrBadAccount},
		{"deeply nested junk", `{"junk": ` + strings.Repeat("[", 200000) + strings.Repeat("]", 200000) + `}`, region.ErrBadAccount},
		{"no writable locations", `{"id": "c", "readableLocations": ` + locDoc(many[0]) + `}`, region.ErrNoWriteRegion},
		{"empty writable list", `{"writableLocations": []}`, region.ErrNoWriteRegion},
		{"only foreign writable locations", `{"writableLocations": ` + locDoc([2]string{hostile, "https://" + hostile + ".evil.com/"}) + `}`, region.ErrNoWriteRegion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := parseAccount([]byte(tt.doc), mustURL(t, testAccountURL))
			require.ErrorIs(t, err, tt.want)
			assert.Nil(t, a)
			assert.True(t, strings.HasPrefix(err.Error(), "region: "), err.Error())
			assert.NotContains(t, err.Error(), "<script>")
			assert.Less(t, len(err.Error()), 200, err.Error())
		})
	}
}

func TestParseAccountAcceptsTheBoundAndCutsLongStrings(t *testing.T) {
	locs := make([][2]string, 64)
	for i := range locs {
		locs[i] = [2]string{fmt.Sprint("R", i), fmt.Sprintf("https://contoso-r%d.documents.azure.com/", i)}
	}
	doc := `{"id": "` + strings.Repeat("é", 200) + `", "writableLocations": ` + locDoc(locs...) + `}`
	a, err := parseAccount([]byte(doc), mustURL(t, testAccountURL))
	require.NoError(t, err)
	assert.Len(t, a.Write, 64)
	assert.Len(t, a.ID, 256)
	assert.Equal(t, strings.Repeat("é", 128), a.ID)
}

func TestParseAccountRejectsBadAccountURL(t *testing.T) {
	for _, s := range []string{"", "/relative", "ftp://contoso.documents.azure.com/", "https://bad host/"} {
		u, _ := url.Parse(s)
		_, err := parseAccount([]byte(goodAccountDoc), u)
		assert.Error(t, err, s)
	}
	_, err := parseAccount([]byte(goodAccountDoc), nil)
	assert.Error(t, err)
}

func Example_parseAccount() {
	account, _ := url.Parse("https://contoso.documents.azure.com:443/")
	doc := `{"id": "contoso",
		"writableLocations": [{"name": "West US 2", "databaseAccountEndpoint": "https://contoso-westus2.documents.azure.com:443/"}],
		"readableLocations": [
			{"name": "West US 2", "databaseAccountEndpoint": "https://contoso-westus2.documents.azure.com:443/"},
			{"name": "Elsewhere", "databaseAccountEndpoint": "https://attacker.example.com/"}]}`
	a, err := parseAccount([]byte(doc), account)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("write:", a.Write[0].Name, a.Write[0].Endpoint)
	fmt.Println("read regions:", len(a.Read))
	fmt.Println("dropped:", a.Dropped)
	// Output:
	// write: West US 2 https://contoso-westus2.documents.azure.com:443/
	// read regions: 1
	// dropped: [readable location 1 "Elsewhere": endpoint host outside the account]
}
