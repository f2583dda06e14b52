package cosmostest

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQueryConditions(t *testing.T) {
	v, err := decodeJSON([]byte(`{"id":"1","pk":"eu","n":5,"f":2.5,"ok":true,"none":null,
		"addr":{"zip":"98052","city":"Redmond"},"tags":["a","b"],"my-prop":"x","big":12345678901234567890}`))
	require.NoError(t, err)
	doc := v.(map[string]any)
	params := map[string]any{"@id": "1", "@n": json.Number("5"), "@min": 3, "@tags": []any{"a", "b"}}

	for _, tt := range []struct {
		query string
		want  bool
	}{
		{"SELECT * FROM c", true},
		{"select * from c where c.id = '1'", true},
		{`SELECT * FROM c WHERE c.id = "2"`, false},
		{"SELECT * FROM c WHERE c.id = @id", true},
		{"SELECT * FROM c WHERE c.n = @n AND c.pk = 'eu'", true},
		{"SELECT * FROM c WHERE c.n = 5.0", true},
		{"SELECT * FROM c WHERE c.n = '5'", false},
		{"SELECT * FROM c WHERE c.n != '5'", false}, // different types: undefined
		{"SELECT * FROM c WHERE c.n > @min AND c.n <= 5 AND c.f < 3 AND c.f >= 2.5", true},
		{"SELECT * FROM c WHERE c.n <> 5", false},
		{"SELECT * FROM c WHERE c.pk > 'a' AND c.pk < 'f'", true},
		{"SELECT * FROM c WHERE c.ok = true AND c.none = null", true},
		{"SELECT * FROM c WHERE c.addr.zip = '98052' AND c['addr']['city'] = 'Redmond'", true},
		{`SELECT * FROM c WHERE c["my-prop"] = 'x' AND c.tags[1] = 'b'`, true},
		{"SELECT * FROM c WHERE c.tags = @tags", true},
		{"SELECT * FROM c WHERE c.missing = 1", false},
		{"SELECT * FROM c WHERE NOT (c.missing = 1)", false}, // undefined stays undefined
		{"SELECT * FROM c WHERE NOT c.id = '2'", true},
		{"SELECT * FROM c WHERE c.missing = 1 OR c.id = '1'", true},
		{"SELECT * FROM c WHERE (c.id = '2' OR c.id = '1') AND c.pk = 'eu'", true},
		{"SELECT * FROM c WHERE c.id IN ('0', @id)", true},
		{"SELECT * FROM c WHERE c.id IN ('0', '2')", false},
		{"SELECT * FROM c WHERE IS_NULL(c.none) AND NOT IS_NULL(c.id) AND IS_DEFINED(c.n) AND NOT IS_DEFINED(c.x)", true},
		{"SELECT * FROM c WHERE c.big = 12345678901234567890", true},
		{"SELECT * FROM root r WHERE r.id = '1'", true},
		{"SELECT * FROM orders AS o WHERE o.id = '1'", true},
		// The shapes azcosmos's ReadManyItems sends.
		{"SELECT * FROM c WHERE c.id IN (@id, '9')", true},
		{"SELECT * FROM c WHERE c.pk = 'eu' AND c.id IN ('1')", true},
		{"SELECT * FROM c WHERE (c.id = '9' AND c.pk = 'eu') OR (c.id = @id AND c.pk = 'eu')", true},
		{`SELECT * FROM c WHERE (c.id = '1' AND IS_NULL(c["none"]))`, true},
	} {
		c, err := parseQuery(tt.query, params)
		require.NoError(t, err, tt.query)
		assert.Equal(t, tt.want, matches(c, doc), tt.query)
	}
}

func TestUnsupportedQueries(t *testing.T) {
	for _, q := range []string{
		"",
		"DELETE FROM c",
		"SELECT c.id FROM c",
		"SELECT VALUE COUNT(1) FROM c",
		"SELECT TOP 10 * FROM c",
		"SELECT * FROM c ORDER BY c.id",
		"SELECT * FROM c JOIN t IN c.tags",
		"SELECT * FROM c WHERE",
		"SELECT * FROM c WHERE c.id",
		"SELECT * FROM c WHERE c.id = @undefined",
		"SELECT * FROM c WHERE d.id = '1'",
		"SELECT * FROM c WHERE c.id = 'open",
		"SELECT * FROM c WHERE c.n + 1 = 2",
		"SELECT * FROM c WHERE STARTSWITH(c.id, 'a')",
		"SELECT * FROM c WHERE c.id IN ()",
		"SELECT * FROM c WHERE (c.id = '1'",
		"SELECT * FROM c WHERE c.tags[-1] = 'a'",
		"SELECT * FROM c WHERE c.id = '1' LIMIT 1",
	} {
		_, err := parseQuery(q, nil)
		var qe *queryError
		assert.ErrorAs(t, err, &qe, "%q", q)
	}
}

func TestQueryAtTheWire(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	for _, d := range []string{
		`{"id":"1","status":"paid","total":10}`,
		`{"id":"2","status":"open","total":20}`,
		`{"id":"3","status":"paid","total":30}`,
	} {
		require.Equal(t, http.StatusCreated, c.do("POST", a.Endpoint()+docsPath, d).status)
	}
	query := func(body string) result {
		return c.do("POST", a.RegionEndpoint("North Europe")+docsPath, body,
			"x-ms-documentdb-isquery", "True", "Content-Type", "application/query+json")
	}
	r := query(`{"query":"SELECT * FROM c WHERE c.status = @s AND c.total > @min","parameters":[{"name":"@s","value":"paid"},{"name":"@min","value":15}]}`)
	assert.Equal(t, []string{"3"}, decodePage(t, r).ids)
	assert.Equal(t, "1", r.header.Get("x-ms-request-charge"), "a query is a read")

	for _, body := range []string{
		`{"query":"SELECT c.id FROM c"}`,
		`{"query":"SELECT * FROM c WHERE c.status = @s"}`,
		`{"query":"SELECT * FROM c","parameters":[{"name":"s","value":1}]}`,
		`{"parameters":[]}`,
		`not json`,
	} {
		r := query(body)
		assert.Equal(t, http.StatusBadRequest, r.status, body)
		assert.Equal(t, "BadRequest", r.json(t)["code"], body)
	}
	unsupported := query(`{"query":"SELECT * FROM c ORDER BY c.total"}`).json(t)["message"].(string)
	assert.Contains(t, unsupported, `found "ORDER"`)
	assert.Contains(t, unsupported, "SELECT * FROM c [WHERE ...]", "the message says what is supported")
}
