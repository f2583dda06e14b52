package integration

import (
	"errors"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
)

// throttle answers count writes at the write region with 429 and a hint
// of 1 ms (count ≤ 0: every write).
func throttle(acct *cosmostest.Account, count int) {
	acct.Inject("West US 2", cosmostest.Fault{
		Status: http.StatusTooManyRequests, SubStatus: 3200,
		Header: http.Header{"X-Ms-Retry-After-Ms": {"1"}},
		Ops:    cosmostest.WriteOps, Count: count,
	})
}

// azcoreRetriesOn restores azcore's default retry policy (three retries),
// whose first delay follows the server's hint.
func azcoreRetriesOn(o *azcosmos.ClientOptions) { o.Retry.MaxRetries = 0 }

// A write throttled twice is retried by the chain alone: three attempts
// at the server, one commit, the document intact. azcore's retries do not
// change that, because the SDK only ever sees the final 201.
func TestThrottledWriteSucceedsInThreeAttempts(t *testing.T) {
	for _, tc := range []struct {
		name string
		sdk  func(*azcosmos.ClientOptions)
	}{
		{"recommended", nil},
		{"azcore retries on", azcoreRetriesOn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigOptions{sdk: tc.sdk})
			throttle(r.acct, 2)

			resp, err := r.orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
			require.NoError(t, err)
			assert.Equal(t, http.StatusCreated, resp.RawResponse.StatusCode)

			assert.Equal(t, []string{
				"POST docs West US 2 429.3200",
				"POST docs West US 2 429.3200",
				"POST docs West US 2 201",
			}, trail(r.acct))
			assert.Equal(t, 1, r.acct.Commits(dbName, collName, "1"))
			doc, ok := r.acct.Document(dbName, collName, "1")
			require.True(t, ok)
			assert.Equal(t, order{ID: "1", PK: "eu", Total: 10}, decodeOrder(t, doc), "the replayed body is the original")
		})
	}
}

// When throttling outlasts the chain's retries (1 try + 9 retries), the
// caller gets the 429. With azcore's retry policy on, azcore sends the
// call through the chain three more times: the attempts multiply, 4 × 10.
func TestPersistentThrottlingMultipliesOnlyWithAzcoreRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sdk      func(*azcosmos.ClientOptions)
		attempts int
	}{
		{"recommended", nil, 10},
		{"azcore retries on", azcoreRetriesOn, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigOptions{sdk: tc.sdk})
			throttle(r.acct, 0)

			_, err := r.orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
			var re *azcore.ResponseError
			require.True(t, errors.As(err, &re), "got %v, want the 429", err)
			assert.Equal(t, http.StatusTooManyRequests, re.StatusCode)

			got := trail(r.acct)
			t.Logf("%s: %d attempts at the server", tc.name, len(got))
			assert.Equal(t, repeat("POST docs West US 2 429.3200", tc.attempts), got)
			assert.Zero(t, r.acct.Commits(dbName, collName, "1"))
		})
	}
}
