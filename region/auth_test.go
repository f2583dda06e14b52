package region

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testVectorKey = "dsZQi3KtZmCv1ljt3VNWNm7sQUF1y5rJfC6kv5JiwvW0EndXdDku/dkKBp8/ufDToSxLzR4y+O/0H/t4bQtVNw=="

func TestMasterKeySignatureMatchesPublishedVector(t *testing.T) {
	k, err := NewMasterKey(testVectorKey)
	require.NoError(t, err)
	sig := k.Signature("GET", "dbs", "dbs/ToDoList", "Thu, 27 Apr 2017 00:51:12 GMT")
	assert.Equal(t, "c09PEVJrgp2uQRkr934kFbTqhByc7TVr3OHyqlu+c+c=", sig)

	auth, err := k.Authorization(context.Background(), "GET", "dbs", "dbs/ToDoList", "Thu, 27 Apr 2017 00:51:12 GMT")
	require.NoError(t, err)
	assert.Equal(t, url.QueryEscape("type=master&ver=1.0&sig=c09PEVJrgp2uQRkr934kFbTqhByc7TVr3OHyqlu+c+c="), auth)
}

func TestNewMasterKeyRejectsBadKeyWithoutEchoingIt(t *testing.T) {
	for _, key := range []string{"", "not base64!!", "c2VjcmV0"[:5]} {
		_, err := NewMasterKey(key)
		require.ErrorIs(t, err, ErrBadKey)
		if key != "" {
			assert.NotContains(t, err.Error(), key)
		}
	}
}

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

func TestSignSetsHeadersThatVerify(t *testing.T) {
	k, err := NewMasterKey(testVectorKey)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, "https://contoso.documents.azure.com/dbs/d/colls/c/docs", nil)
	require.NoError(t, err)
	now := time.Date(2017, 4, 27, 0, 51, 12, 0, time.UTC)
	require.NoError(t, Sign(context.Background(), req, k, now))

	assert.Equal(t, "Thu, 27 Apr 2017 00:51:12 GMT", req.Header.Get(HeaderDate))
	assert.Equal(t, APIVersion, req.Header.Get(HeaderVersion))
	want, _ := k.Authorization(context.Background(), "post", "docs", "dbs/d/colls/c", "Thu, 27 Apr 2017 00:51:12 GMT")
	assert.Equal(t, want, req.Header.Get("Authorization"))
}
