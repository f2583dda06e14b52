package wire

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDescribe(t *testing.T) {
	tests := []struct {
		method, path string
		headers      []string
		write, query bool
		kind         DocumentWrite
	}{
		{http.MethodGet, "/dbs/d/colls/c/docs/1", nil, false, false, NotDocumentWrite},
		{"", "/dbs/d/colls/c/docs/1", nil, false, false, NotDocumentWrite},
		{http.MethodPost, "/dbs/d/colls/c/docs", nil, true, false, CreateDocument},
		{http.MethodPost, "/dbs/d/colls/c/docs/", []string{"x-ms-documentdb-is-upsert", " TRUE "}, true, false, UpsertDocument},
		{http.MethodPost, "/dbs/d/colls/c/docs", []string{"x-ms-documentdb-isquery", "true"}, false, true, NotDocumentWrite},
		{http.MethodPost, "/dbs/d/colls/c/docs", []string{"Content-Type", "application/query+json; charset=utf-8"}, false, true, NotDocumentWrite},
		{http.MethodPost, "/dbs/d/colls/c/docs", []string{"x-ms-cosmos-is-batch-request", "true"}, true, false, NotDocumentWrite},
		{http.MethodPut, "/dbs/d/colls/c/docs/1", nil, true, false, ReplaceDocument},
		{http.MethodPut, "/dbs/d/colls/c/docs", nil, true, false, NotDocumentWrite},
		{http.MethodPatch, "/dbs/d/colls/c/docs/1", nil, true, false, NotDocumentWrite},
		{http.MethodDelete, "/dbs/d/colls/c/docs/1", nil, true, false, NotDocumentWrite},
		{http.MethodPost, "/dbs/d/colls/c/sprocs/p", nil, true, false, NotDocumentWrite},
		{http.MethodPut, "/dbs/d/colls/c", nil, true, false, NotDocumentWrite},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, "https://a.example"+tt.path, nil)
		assert.NoError(t, err)
		for i := 0; i+1 < len(tt.headers); i += 2 {
			req.Header.Set(tt.headers[i], tt.headers[i+1])
		}
		d := Describe(req)
		name := tt.method + " " + tt.path + " " + strings.Join(tt.headers, " ")
		assert.Equal(t, tt.write, d.Write, "write: %s", name)
		assert.Equal(t, tt.write, IsWrite(req), "the same as IsWrite: %s", name)
		assert.Equal(t, tt.query, d.Query, "query: %s", name)
		assert.Equal(t, tt.kind, d.DocumentWrite(), "document write: %s", name)
		assert.Equal(t, ParsePath(tt.path), d.Resource, name)
	}
}

func TestDescribeReadsThePartitionHeaders(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, "https://a.example/dbs/d/colls/c/docs", nil)
	req.Header.Set("x-ms-documentdb-partitionkey", `["p1"]`)
	req.Header.Set("x-ms-documentdb-partitionkeyrangeid", "7")
	d := Describe(req)
	assert.Equal(t, `["p1"]`, d.PartitionKey)
	assert.Equal(t, "7", d.RangeID)
	assert.Equal(t, "c", d.Container)
	assert.Equal(t, "d", d.Database)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = Describe(req) }), "a request is described without allocating")
}
