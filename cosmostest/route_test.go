package cosmostest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestUnknownPathsAndMethods(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	for _, tt := range []struct {
		method, path string
		want         int
	}{
		{"GET", "dbs", 405},
		{"GET", "dbs/db", 404},
		{"GET", "dbs/db/colls/coll", 404},
		{"GET", "dbs/db/colls/coll/sprocs", 404},
		{"GET", "dbs/db/colls/coll/docs/1/attachments", 404},
		{"GET", "dbs//colls/coll/docs", 404},
		{"POST", "", 405},
		{"PUT", docsPath, 405},
		{"POST", docsPath + "/1", 405},
	} {
		r := c.do(tt.method, a.Endpoint()+tt.path, "{}")
		assert.Equal(t, tt.want, r.status, "%s /%s", tt.method, tt.path)
	}
}

func TestQueriesOfDatabasesAndContainersAreNotServed(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	for _, path := range []string{"dbs", "dbs/shop/colls"} {
		r := c.do("POST", a.Endpoint()+path, `{"query":"SELECT * FROM root"}`, "x-ms-documentdb-isquery", "true")
		assert.Equal(t, http.StatusMethodNotAllowed, r.status, path)
	}
	assert.Equal(t, http.StatusNotFound, c.do("GET", a.Endpoint()+"dbs/shop", "").status, "no database was created")
}
