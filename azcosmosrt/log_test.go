package azcosmosrt

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azpolicy "github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
)

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// sdkTries is a per-retry policy of azcosmos's pipeline: it records the
// status of each try azcosmos sends to an item, as azcosmos sees it.
type sdkTries struct {
	mu       sync.Mutex
	statuses []int
}

func (s *sdkTries) Do(req *azpolicy.Request) (*http.Response, error) {
	resp, err := req.Next()
	if strings.Contains(req.Raw().URL.Path, "/docs") {
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil {
			s.statuses = append(s.statuses, 0)
		} else {
			s.statuses = append(s.statuses, resp.StatusCode)
		}
	}
	return resp, err
}

// TestA429ReturnedAfterTheChainsRetriesIsLoggedWithItsAttempts: azcosmos
// sees one try, answered 429, and returns it; the chain's log has the
// call with the ten attempts it took, though the caller asked for no
// diagnostics.
func TestA429ReturnedAfterTheChainsRetriesIsLoggedWithItsAttempts(t *testing.T) {
	var logs syncBuffer
	tries := &sdkTries{}
	r := newRig(t, cosmostest.Options{}, func(o *Options) {
		o.Chain.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
		o.SDK.PerRetryPolicies = []azpolicy.Policy{tries}
	})
	throttle(r.acct, 0)

	_, err := r.orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
	var re *azcore.ResponseError
	require.True(t, errors.As(err, &re), "got %v, want the 429", err)
	assert.Equal(t, http.StatusTooManyRequests, re.StatusCode)
	assert.Equal(t, []int{http.StatusTooManyRequests}, tries.statuses, "azcosmos: one failed request")
	assert.Equal(t, repeat("POST docs West US 2 429.3200", 10), trail(r.acct), "the account: ten")

	var entries []map[string]any
	dec := json.NewDecoder(strings.NewReader(logs.String()))
	for dec.More() {
		var e map[string]any
		require.NoError(t, dec.Decode(&e))
		entries = append(entries, e)
	}
	require.Len(t, entries, 1, "the chain's log: the call")
	e := entries[0]
	assert.Equal(t, "WARN", e["level"])
	assert.Equal(t, "cosmosrt: failed call", e["msg"])
	assert.Equal(t, "create_item", e["operation"])
	assert.Equal(t, dbName, e["database"])
	assert.Equal(t, collName, e["container"])
	assert.Equal(t, 429.0, e["status"])
	assert.Equal(t, 3200.0, e["sub_status"])
	assert.Equal(t, 10.0, e["attempt_count"])
	attempts, ok := e["attempts"].(map[string]any)
	require.True(t, ok)
	require.Len(t, attempts, 10)
	for i := 1; i <= 10; i++ {
		a, ok := attempts[strconv.Itoa(i)].(map[string]any)
		require.True(t, ok, "attempt %d", i)
		assert.Equal(t, "West US 2", a["region"], "attempt %d", i)
		assert.Equal(t, 429.0, a["status"], "attempt %d", i)
		assert.Equal(t, 3200.0, a["sub_status"], "attempt %d", i)
		if i < 10 {
			assert.Equal(t, "throttled", a["retry"], "attempt %d", i)
			assert.Contains(t, a, "wait", "attempt %d", i)
		}
	}
	assert.NotContains(t, logs.String(), r.acct.Key())
	assert.NotContains(t, logs.String(), "sig")
}
