package partition_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/internal/partition"
)

// The cache, loading a container of cosmostest's account over HTTP as the
// chain will, names for each key the range that the account names in its
// answer (x-ms-documentdb-partitionkeyrangeid): an independent
// implementation of the version 2 hash and of the ranges' order.
func TestLookupAgreesWithTheAccountSimulator(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	do := func(ctx context.Context, method, path, body string, header ...string) (*http.Response, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, method, acct.Endpoint()+path, strings.NewReader(body))
		if err != nil {
			return nil, nil, err
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		if err := acct.Sign(req); err != nil {
			return nil, nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode >= 300 {
			err = fmt.Errorf("%s %s: %s", method, path, resp.Status)
		}
		return resp, b, err
	}
	ctx := context.Background()
	_, _, err := do(ctx, "POST", "dbs", `{"id":"shop"}`)
	require.NoError(t, err)
	_, _, err = do(ctx, "POST", "dbs/shop/colls", `{"id":"orders","partitionKey":{"paths":["/region"],"kind":"Hash","version":2}}`)
	require.NoError(t, err)

	loaded := make(chan struct{}, 1)
	c := partition.NewCache(func(ctx context.Context, container string) (partition.Definition, []partition.Range, error) {
		defer func() {
			select {
			case loaded <- struct{}{}:
			default:
			}
		}()
		_, doc, err := do(ctx, "GET", container, "")
		if err != nil {
			return partition.Definition{}, nil, err
		}
		def, err := partition.ParseContainer(doc)
		if err != nil {
			return partition.Definition{}, nil, err
		}
		_, feed, err := do(ctx, "GET", container+"/pkranges", "")
		if err != nil {
			return partition.Definition{}, nil, err
		}
		ranges, err := partition.ParseRanges(feed)
		return def, ranges, err
	}, partition.CacheOptions{})
	defer c.Close()
	const orders = "dbs/shop/colls/orders"
	_, ok := c.Lookup(orders, `["eu"]`)
	require.False(t, ok)
	<-loaded
	for ok = false; !ok; _, ok = c.Lookup(orders, `["eu"]`) {
		runtime.Gosched() // the load is storing what it read
	}

	seen := map[string]int{}
	for i := range 40 {
		for _, value := range []string{fmt.Sprintf("%q", fmt.Sprint("region-", i)), fmt.Sprint(i*7 - 20), fmt.Sprint(i%2 == 0)} {
			header := "[" + value + "]"
			resp, _, err := do(ctx, "POST", orders+"/docs",
				fmt.Sprintf(`{"id":"item-%d-%s","region":%s}`, i, strings.Trim(value, `"`), value),
				"X-Ms-Documentdb-Partitionkey", header, "X-Ms-Documentdb-Is-Upsert", "true")
			require.NoError(t, err)
			want := resp.Header.Get("X-Ms-Documentdb-Partitionkeyrangeid")
			require.NotEmpty(t, want)
			got, ok := c.Lookup(orders, header)
			require.True(t, ok, header)
			assert.Equal(t, want, got, header)
			seen[got]++
		}
	}
	assert.Len(t, seen, 2, "the keys fall in both of the account's ranges: %v", seen)
}
