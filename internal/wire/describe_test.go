package wire

import (
	"net/http"
	"net/http/httptest"
	"net/url"
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

func TestDescribeTellsReadsFromWrites(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		headers map[string]string
		want    bool
	}{
		{"GET", http.MethodGet, nil, false},
		{"empty method means GET", "", nil, false},
		{"HEAD", http.MethodHead, nil, false},
		{"OPTIONS", http.MethodOptions, nil, false},
		{"POST create", http.MethodPost, map[string]string{"Content-Type": "application/json"}, true},
		{"POST query by header", http.MethodPost, map[string]string{"x-ms-documentdb-isquery": "true"}, false},
		{"POST query by header, any case", http.MethodPost, map[string]string{"X-Ms-Documentdb-Isquery": "True"}, false},
		{"POST isquery false", http.MethodPost, map[string]string{"x-ms-documentdb-isquery": "false"}, true},
		{"POST query by content type", http.MethodPost, map[string]string{"Content-Type": "application/query+json"}, false},
		{"POST query content type with params", http.MethodPost, map[string]string{"Content-Type": "Application/Query+JSON; charset=utf-8"}, false},
		{"POST query content type with odd params", http.MethodPost, map[string]string{"Content-Type": "application/query+json; ="}, false}, // the media type decides
		{"PUT", http.MethodPut, nil, true},
		{"PATCH", http.MethodPatch, nil, true},
		{"DELETE", http.MethodDelete, nil, true},
		{"PUT with query header", http.MethodPut, map[string]string{"x-ms-documentdb-isquery": "true"}, true},
		{"lower-case get is another method", "get", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "https://a.example/dbs/d/colls/c/docs", nil)
			req.Method = tt.method
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			assert.Equal(t, tt.want, Describe(req).Write)
		})
	}
}

// A header set in the map under another spelling is found and removed as
// the canonical one.
func TestHeaderInAnySpelling(t *testing.T) {
	h := http.Header{"x-ms-documentdb-is-upsert": {"true"}, "X-Ms-Version": {"2018-12-31"}}
	assert.Equal(t, []string{"true"}, Values(h, HeaderIsUpsert))
	assert.Equal(t, []string{"2018-12-31"}, Values(h, HeaderVersion))
	assert.Nil(t, Values(h, HeaderPartitionKey))
	req := &http.Request{Method: http.MethodPost, Header: h, URL: &url.URL{Path: "/dbs/d/colls/c/docs"}}
	assert.True(t, Describe(req).Upsert)
	Delete(h, HeaderIsUpsert)
	assert.Nil(t, Values(h, HeaderIsUpsert))
	assert.Len(t, h, 1)
}
