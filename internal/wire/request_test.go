package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestResourceOf(t *testing.T) {
	tests := []struct {
		path, typ, link string
	}{
		{"/", "", ""},
		{"", "", ""},
		{"/dbs", "dbs", ""},
		{"/dbs/ToDoList", "dbs", "dbs/ToDoList"},
		{"/dbs/d/colls", "colls", "dbs/d"},
		{"/dbs/d/colls/c", "colls", "dbs/d/colls/c"},
		{"/dbs/d/colls/c/docs", "docs", "dbs/d/colls/c"},
		{"/dbs/d/colls/c/docs/1", "docs", "dbs/d/colls/c/docs/1"},
		{"/dbs/d/colls/c/docs/1/", "docs", "dbs/d/colls/c/docs/1"},
		{"/dbs/d/colls/c/sprocs/s", "sprocs", "dbs/d/colls/c/sprocs/s"},
		{"/dbs/d//colls", "colls", "dbs/d"},
		{"//dbs//d//colls//c//docs//1//", "docs", "dbs/d/colls/c/docs/1"},
	}
	for _, tt := range tests {
		typ, link := ResourceOf(tt.path)
		assert.Equal(t, tt.typ, typ, "type of %q", tt.path)
		assert.Equal(t, tt.link, link, "link of %q", tt.path)
	}
}

func TestParsePath(t *testing.T) {
	tests := []struct {
		path string
		want Resource
	}{
		{"/", Resource{}},
		{"/dbs", Resource{Type: "dbs", Feed: true, Segments: 1}},
		{"/dbs/shop", Resource{Type: "dbs", Link: "dbs/shop", Segments: 2, Database: "shop"}},
		{"/dbs/shop/colls/orders/docs", Resource{Type: "docs", Link: "dbs/shop/colls/orders", Feed: true, Segments: 5, Database: "shop", Container: "orders"}},
		{"/dbs/shop/colls/orders/docs/42/", Resource{Type: "docs", Link: "dbs/shop/colls/orders/docs/42", Segments: 6, Database: "shop", Container: "orders"}},
		{"//dbs//shop//colls//orders", Resource{Type: "colls", Link: "dbs/shop/colls/orders", Segments: 4, Database: "shop", Container: "orders"}},
		{"/offers/abc", Resource{Type: "offers", Link: "offers/abc", Segments: 2}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, ParsePath(tt.path), tt.path)
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = ParsePath("/dbs/shop/colls/orders/docs/42") }), "a clean path is parsed without allocating")
}
