package cosmostest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// patchDoc is the item every patch case starts from.
const patchDoc = `{"id":"1","pk":"a","n":1,"f":1.5,"s":"x","_trackingId":"t-1","addr":{"zip":"98052"},"tags":["a","b"],"rows":[{"q":1}]}`

func TestPatchOperations(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	createOrders(t, c, "/pk")
	item := a.Endpoint() + ordersDocs + "/1"

	for _, tt := range []struct {
		name string
		ops  string
		want string // part of the item afterwards (system properties aside, keys sorted), or "" if refused with 400
	}{
		{"set top-level", `{"op":"set","path":"/s","value":"y"}`, `"s":"y"`},
		{"set new property", `{"op":"set","path":"/new","value":{"k":[1]}}`, `"new":{"k":[1]}`},
		{"set nested", `{"op":"set","path":"/addr/city","value":"Redmond"}`, `"addr":{"city":"Redmond","zip":"98052"}`},
		{"set array element", `{"op":"set","path":"/tags/0","value":"z"}`, `"tags":["z","b"]`},
		{"add property", `{"op":"add","path":"/addr/zip","value":"10001"}`, `"addr":{"zip":"10001"}`},
		{"add inserts into an array", `{"op":"add","path":"/tags/1","value":"m"}`, `"tags":["a","m","b"]`},
		{"add appends with -", `{"op":"add","path":"/tags/-","value":"c"}`, `"tags":["a","b","c"]`},
		{"add at the array's end", `{"op":"add","path":"/tags/2","value":"c"}`, `"tags":["a","b","c"]`},
		{"add deep in an array", `{"op":"add","path":"/rows/0/r","value":2}`, `"rows":[{"q":1,"r":2}]`},
		{"replace", `{"op":"replace","path":"/n","value":null}`, `"n":null`},
		{"remove", `{"op":"remove","path":"/addr/zip"}`, `"addr":{}`},
		{"remove array element", `{"op":"remove","path":"/tags/0"}`, `"tags":["b"]`},
		{"incr integer", `{"op":"incr","path":"/n","value":41}`, `"n":42`},
		{"incr float", `{"op":"incr","path":"/f","value":1}`, `"f":2.5`},
		{"incr absent", `{"op":"incr","path":"/m","value":-3}`, `"m":-3`},
		{"incr array element", `{"op":"incr","path":"/rows/0/q","value":1}`, `"rows":[{"q":2}]`},
		{"two operations", `{"op":"set","path":"/s","value":"y"},{"op":"remove","path":"/s"}`, `"rows":[{"q":1}],"tags"`},
		{"escaped path", `{"op":"set","path":"/a~1b","value":1}`, `"a/b":1`},

		{"unknown op", `{"op":"move","path":"/n","from":"/s"}`, ""},
		{"no value", `{"op":"set","path":"/n"}`, ""},
		{"relative path", `{"op":"set","path":"n","value":1}`, ""},
		{"root path", `{"op":"set","path":"/","value":1}`, ""},
		{"missing parent", `{"op":"set","path":"/nope/x","value":1}`, ""},
		{"replace absent", `{"op":"replace","path":"/nope","value":1}`, ""},
		{"remove absent", `{"op":"remove","path":"/nope"}`, ""},
		{"index out of range", `{"op":"set","path":"/tags/5","value":1}`, ""},
		{"index not a number", `{"op":"set","path":"/tags/x","value":1}`, ""},
		{"incr a string", `{"op":"incr","path":"/s","value":1}`, ""},
		{"incr by a string", `{"op":"incr","path":"/n","value":"1"}`, ""},
		{"change the id", `{"op":"set","path":"/id","value":"2"}`, ""},
		{"remove the id", `{"op":"remove","path":"/id"}`, ""},
		{"change the partition key", `{"op":"set","path":"/pk","value":"b"}`, ""},
		{"a failing second operation", `{"op":"set","path":"/s","value":"y"},{"op":"remove","path":"/nope"}`, ""},
	} {
		r := c.do("POST", a.Endpoint()+ordersDocs, patchDoc, append(pkHeader(`"a"`), "x-ms-documentdb-is-upsert", "true")...)
		require.Less(t, r.status, 300, "%s: reset", tt.name)
		before := a.Commits("shop", "orders", "1")

		r = c.do("PATCH", item, `{"operations":[`+tt.ops+`]}`, pkHeader(`"a"`)...)
		stored, ok := a.DocumentInPartition("shop", "orders", "a", "1")
		require.True(t, ok)
		if tt.want == "" {
			assert.Equal(t, http.StatusBadRequest, r.status, "%s: %s", tt.name, r.body)
			assert.Equal(t, before, a.Commits("shop", "orders", "1"), "%s: nothing committed", tt.name)
			assert.JSONEq(t, patchDoc, withoutSystemProperties(t, stored), tt.name)
			continue
		}
		require.Equal(t, http.StatusOK, r.status, "%s: %s", tt.name, r.body)
		assert.Equal(t, before+1, a.Commits("shop", "orders", "1"), tt.name)
		assert.JSONEq(t, string(stored), string(r.body), "%s: the answer is the stored item", tt.name)
		assert.Equal(t, r.header.Get("Etag"), r.json(t)["_etag"], tt.name)
		got := withoutSystemProperties(t, stored) // keys sorted
		assert.Contains(t, got, tt.want, tt.name)
		assert.Contains(t, got, `"_trackingId":"t-1"`, "%s: other properties are untouched", tt.name)
	}
}

// withoutSystemProperties returns a stored item's JSON without the
// properties the account stamps.
func withoutSystemProperties(t *testing.T, doc []byte) string {
	t.Helper()
	v, err := decodeJSON(doc)
	require.NoError(t, err)
	m := v.(map[string]any)
	for _, p := range []string{"_rid", "_self", "_etag", "_ts", "_attachments"} {
		delete(m, p)
	}
	return string(encodeJSON(m))
}

func TestPatchPreconditions(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	createOrders(t, c, "/pk")
	item := a.Endpoint() + ordersDocs + "/1"
	created := c.do("POST", a.Endpoint()+ordersDocs, patchDoc, pkHeader(`"a"`)...)
	require.Equal(t, http.StatusCreated, created.status)
	set := `"operations":[{"op":"set","path":"/s","value":"y"}]`

	for _, tt := range []struct {
		name, body string
		hdr        []string
		want       int
	}{
		{"condition false", `{"condition":"FROM c WHERE c.s = 'z'",` + set + `}`, pkHeader(`"a"`), 412},
		{"condition undefined", `{"condition":"from c where c.nope > 1",` + set + `}`, pkHeader(`"a"`), 412},
		{"bad condition", `{"condition":"WHERE c.s = 'x'",` + set + `}`, pkHeader(`"a"`), 400},
		{"stale if-match", `{` + set + `}`, append(pkHeader(`"a"`), "If-Match", `"stale"`), 412},
		{"absent item", `{` + set + `}`, pkHeader(`"b"`), 404},
		{"no partition key", `{` + set + `}`, nil, 400},
		{"not an object", `[]`, pkHeader(`"a"`), 400},
		{"no operations", `{"operations":[]}`, pkHeader(`"a"`), 400},
		{"eleven operations", `{"operations":[` + strings.Repeat(`{"op":"set","path":"/s","value":"y"},`, 10) +
			`{"op":"set","path":"/s","value":"y"}]}`, pkHeader(`"a"`), 400},
		{"condition true", `{"condition":"FROM c WHERE c.s = 'x' AND c.n = 1",` + set + `}`,
			append(pkHeader(`"a"`), "If-Match", created.header.Get("Etag")), 200},
	} {
		r := c.do("PATCH", item, tt.body, tt.hdr...)
		assert.Equal(t, tt.want, r.status, "%s: %s", tt.name, r.body)
	}
	assert.Equal(t, 2, a.Commits("shop", "orders", "1"), "the create and the one patch that held")

	refused := c.do("PATCH", a.RegionEndpoint("East US")+ordersDocs+"/1", `{`+set+`}`, pkHeader(`"a"`)...)
	assert.Equal(t, http.StatusForbidden, refused.status, "a patch is a write")
	assert.Equal(t, "3", refused.sub)
}
