package integration

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/transport"
)

func chainPrefers(regions ...string) func(*transport.Options) {
	return func(o *transport.Options) { o.PreferredRegions = regions }
}

func sdkPrefers(regions ...string) func(*azcosmos.ClientOptions) {
	return func(o *azcosmos.ClientOptions) { o.PreferredRegions = regions }
}

// Reads go to the chain's first preferred region, writes to the write
// region. The chain routes every request to the account, so preferred
// regions given to azcosmos do not decide where requests go.
func TestReadsGoToTheChainsPreferredRegion(t *testing.T) {
	for _, tc := range []struct {
		name  string
		o     rigOptions
		reads string // the region that serves reads
	}{
		{"chain prefers North Europe", rigOptions{chain: chainPrefers("North Europe")}, "North Europe"},
		{"chain prefers East US, then North Europe", rigOptions{chain: chainPrefers("East US", "North Europe")}, "East US"},
		{"both prefer North Europe", rigOptions{chain: chainPrefers("North Europe"), sdk: sdkPrefers("North Europe")}, "North Europe"},
		{"chain and SDK disagree: the chain wins", rigOptions{chain: chainPrefers("North Europe"), sdk: sdkPrefers("East US")}, "North Europe"},
		{"only the SDK prefers: the account's order", rigOptions{sdk: sdkPrefers("North Europe")}, "West US 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.o)
			ctx := t.Context()
			_, err := r.orders.CreateItem(ctx, pk, orderJSON(t, "1", 10), nil)
			require.NoError(t, err)
			read, err := r.orders.ReadItem(ctx, pk, "1", nil)
			require.NoError(t, err)
			assert.Equal(t, 10, decodeOrder(t, read.Value).Total)
			pager := r.orders.NewQueryItemsPager("SELECT * FROM c", pk, nil)
			page, err := pager.NextPage(ctx)
			require.NoError(t, err)
			assert.Len(t, page.Items, 1)

			assert.Equal(t, []string{
				"POST docs West US 2 201",
				"GET docs/1 " + tc.reads + " 200",
				"POST docs " + tc.reads + " 200", // the query
			}, trail(r.acct))
		})
	}
}

// A read whose preferred region answers 503 is served by the next region
// at once, and the SDK sees the success.
func TestReadMovesOnFromAnUnavailablePreferredRegion(t *testing.T) {
	r := newRig(t, rigOptions{chain: chainPrefers("North Europe", "East US")})
	ctx := t.Context()
	_, err := r.orders.CreateItem(ctx, pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)
	r.acct.Inject("North Europe", cosmostest.Fault{Status: http.StatusServiceUnavailable, Ops: cosmostest.ReadOps, Count: 1})

	read, err := r.orders.ReadItem(ctx, pk, "1", nil)
	require.NoError(t, err)
	assert.Equal(t, 10, decodeOrder(t, read.Value).Total)
	assert.Equal(t, []string{
		"POST docs West US 2 201",
		"GET docs/1 North Europe 503",
		"GET docs/1 East US 200",
	}, trail(r.acct))
}

// When every region answers a read with 503, the chain gives up after
// 1 + 3 attempts. azcosmos retries a 503 once per preferred region it
// knows, each time through the whole chain, so preferred regions given to
// azcosmos multiply the attempts; with none it does not retry. (The retry
// budget is off so that the counts show the layers alone.)
func TestPreferredRegionsOnTheSDKMultiplyUnavailableReads(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sdk      func(*azcosmos.ClientOptions)
		attempts int
	}{
		{"recommended", nil, 4},
		{"SDK prefers three regions", sdkPrefers("West US 2", "East US", "North Europe"), 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigOptions{sdk: tc.sdk, chain: func(o *transport.Options) {
				o.Retry.Budget.Tokens = -1
				o.Retry.UnavailableInitial = time.Millisecond
				o.Retry.UnavailableMax = time.Millisecond
			}})
			for _, region := range r.acct.Regions() {
				r.acct.Inject(region, cosmostest.Fault{Status: http.StatusServiceUnavailable, Ops: cosmostest.ReadOps})
			}

			_, err := r.orders.ReadItem(t.Context(), pk, "1", nil)
			var re *azcore.ResponseError
			require.True(t, errors.As(err, &re), "got %v, want the 503", err)
			assert.Equal(t, http.StatusServiceUnavailable, re.StatusCode)
			got := trail(r.acct)
			t.Logf("%s: %d attempts at the server: %q", tc.name, len(got), got)
			assert.Len(t, got, tc.attempts)
		})
	}
}

// A 500 on a read is retried once by the chain, in another region. azcosmos
// then retries the read once more in its own retry policy, which no option
// turns off, so the attempts double: 2 × 2. Writes are not affected (neither
// layer retries a write's 500).
func TestServerErrorOnReadIsRetriedByTheSDKToo(t *testing.T) {
	r := newRig(t, rigOptions{})
	for _, region := range r.acct.Regions() {
		r.acct.Inject(region, cosmostest.Fault{Status: http.StatusInternalServerError, Ops: cosmostest.ReadOps})
	}
	r.acct.Inject("West US 2", cosmostest.Fault{Status: http.StatusInternalServerError, Ops: cosmostest.WriteOps})

	_, err := r.orders.ReadItem(t.Context(), pk, "1", nil)
	var re *azcore.ResponseError
	require.True(t, errors.As(err, &re), "got %v, want the 500", err)
	assert.Equal(t, http.StatusInternalServerError, re.StatusCode)
	assert.Equal(t, []string{
		"GET docs/1 West US 2 500",
		"GET docs/1 East US 500",
		"GET docs/1 West US 2 500",
		"GET docs/1 East US 500",
	}, trail(r.acct))

	r.acct.ResetLog()
	_, err = r.orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
	require.True(t, errors.As(err, &re), "got %v, want the 500", err)
	assert.Equal(t, http.StatusInternalServerError, re.StatusCode)
	assert.Equal(t, []string{"POST docs West US 2 500"}, trail(r.acct))
}
