package azcosmosrt

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/policy"
	"github.com/cosmosrt/cosmosrt/transport"
)

// An azcosmos call that joins a throughput group is paced by it; one the
// group cannot serve before its deadline fails once, with the chain's
// error, and is not resent; azcosmos's own priority header wins over the
// group's priority.
func TestThroughputGroupThroughAzcosmos(t *testing.T) {
	var mu sync.Mutex
	var priorities []string
	low := azcosmos.PriorityLevelLow
	r := newRig(t, cosmostest.Options{Regions: []string{"West US 2"}}, func(o *Options) {
		o.Chain.Throughput = policy.ThroughputOptions{Groups: []policy.ThroughputGroup{{Name: "batch", TargetRU: 2, Priority: policy.PriorityHigh}}}
		o.SDK.PriorityLevel = &low
	})
	r.base.rewrite = func(req *http.Request) error {
		if strings.Contains(req.URL.Path, "/docs") {
			mu.Lock()
			priorities = append(priorities, req.Header.Get("X-Ms-Cosmos-Priority-Level"))
			mu.Unlock()
		}
		return nil
	}
	ctx := transport.WithRequestOptions(t.Context(), transport.RequestOptions{ThroughputGroup: "batch"})
	_, err := r.orders.CreateItem(ctx, pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err, "the group's first write goes at once")

	// A write costs about 6 RU: at 2 RU/s the next turn is ~3 s away.
	dctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = r.orders.CreateItem(dctx, pk, orderJSON(t, "2", 20), nil)
	require.ErrorIs(t, err, transport.ErrThroughputLimit)
	assert.Less(t, time.Since(start), 400*time.Millisecond, "refused at once")
	assert.Zero(t, r.acct.Commits(dbName, collName, "2"), "never sent")

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"Low"}, priorities, "one attempt reached the account, with azcosmos's header unchanged")
}
