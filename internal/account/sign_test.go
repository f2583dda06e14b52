package account

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/region"
)

// testVectorKey is the master key of the REST documentation's signature example.
const testVectorKey = "dsZQi3KtZmCv1ljt3VNWNm7sQUF1y5rJfC6kv5JiwvW0EndXdDku/dkKBp8/ufDToSxLzR4y+O/0H/t4bQtVNw=="

func TestSignSetsHeadersThatVerify(t *testing.T) {
	k, err := region.NewMasterKey(testVectorKey)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, "https://contoso.documents.azure.com/dbs/d/colls/c/docs", nil)
	require.NoError(t, err)
	now := time.Date(2017, 4, 27, 0, 51, 12, 0, time.UTC)
	require.NoError(t, Sign(context.Background(), req, k, now))

	assert.Equal(t, "Thu, 27 Apr 2017 00:51:12 GMT", req.Header.Get(wire.HeaderDate))
	assert.Equal(t, wire.APIVersion, req.Header.Get(wire.HeaderVersion))
	want, _ := k.Authorization(context.Background(), "post", "docs", "dbs/d/colls/c", "Thu, 27 Apr 2017 00:51:12 GMT")
	assert.Equal(t, want, req.Header.Get("Authorization"))
}
