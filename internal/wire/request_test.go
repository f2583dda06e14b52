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
