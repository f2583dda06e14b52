package azcosmosrt

import (
	"errors"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azpolicy "github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/region"
	"github.com/cosmosrt/cosmosrt/transport"
)

// Create, read, replace, upsert (insert and update), delete and a read of
// the deleted item: one attempt each at the server, writes in the write
// region, reads in the first preferred region, each write committed once.
func TestCRUDThroughTheClient(t *testing.T) {
	r := newRig(t, cosmostest.Options{}, func(o *Options) { o.Chain.PreferredRegions = []string{"East US"} })
	ctx := t.Context()

	resp, err := r.orders.CreateItem(ctx, pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, resp.RawResponse.StatusCode)
	got, err := r.orders.ReadItem(ctx, pk, "1", nil)
	require.NoError(t, err)
	assert.Equal(t, order{ID: "1", PK: "eu", Total: 10}, decodeOrder(t, got.Value))
	_, err = r.orders.ReplaceItem(ctx, pk, "1", orderJSON(t, "1", 11), nil)
	require.NoError(t, err)
	_, err = r.orders.UpsertItem(ctx, pk, orderJSON(t, "2", 20), nil)
	require.NoError(t, err)
	_, err = r.orders.UpsertItem(ctx, pk, orderJSON(t, "2", 21), nil)
	require.NoError(t, err)
	_, err = r.orders.DeleteItem(ctx, pk, "1", nil)
	require.NoError(t, err)
	_, err = r.orders.ReadItem(ctx, pk, "1", nil)
	var re *azcore.ResponseError
	require.True(t, errors.As(err, &re), "got %v, want a 404", err)
	assert.Equal(t, http.StatusNotFound, re.StatusCode)

	assert.Equal(t, []string{
		"POST docs West US 2 201",
		"GET docs/1 East US 200",
		"PUT docs/1 West US 2 200",
		"POST docs West US 2 201",
		"POST docs West US 2 200",
		"DELETE docs/1 West US 2 204",
		"GET docs/1 East US 404",
	}, trail(r.acct))
	assert.Equal(t, 3, r.acct.Commits(dbName, collName, "1"))
	assert.Equal(t, 2, r.acct.Commits(dbName, collName, "2"))
	assert.Equal(t, 2, r.acct.Requests("")-len(trail(r.acct)), "azcosmos and the chain each read the account once")
	doc, ok := r.acct.Document(dbName, collName, "2")
	require.True(t, ok)
	assert.Equal(t, order{ID: "2", PK: "eu", Total: 21}, decodeOrder(t, doc))
}

// A manual failover between two writes: the second meets 403.3 at the
// former write region and the chain resends it to the new one; the SDK sees
// one success, the item is committed once, and later writes go straight to
// the new write region.
func TestWriteAcrossAFailoverLandsOnce(t *testing.T) {
	r := newRig(t, cosmostest.Options{}, nil)
	ctx := t.Context()
	_, err := r.orders.CreateItem(ctx, pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)
	require.NoError(t, r.acct.Failover("East US"))
	r.acct.ResetLog()

	resp, err := r.orders.CreateItem(ctx, pk, orderJSON(t, "2", 20), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, resp.RawResponse.StatusCode)
	_, err = r.orders.ReplaceItem(ctx, pk, "1", orderJSON(t, "1", 11), nil)
	require.NoError(t, err)

	assert.Equal(t, []string{
		"POST docs West US 2 403.3",
		"POST docs East US 201",
		"PUT docs/1 East US 200",
	}, trail(r.acct))
	assert.Equal(t, 1, r.acct.Commits(dbName, collName, "2"))
	assert.Equal(t, 2, r.acct.Commits(dbName, collName, "1"), "create before the failover, replace after")
}

// throttle answers count writes at the write region with 429 and a 1 ms
// hint (count ≤ 0: every write).
func throttle(acct *cosmostest.Account, count int) {
	acct.Inject("West US 2", cosmostest.Fault{
		Status: http.StatusTooManyRequests, SubStatus: 3200,
		Header: http.Header{"X-Ms-Retry-After-Ms": {"1"}},
		Ops:    cosmostest.WriteOps, Count: count,
	})
}

// A throttled write is retried once, by the chain: two attempts at the
// server, one commit.
func TestThrottledWriteIsRetriedOnceByTheChain(t *testing.T) {
	r := newRig(t, cosmostest.Options{}, nil)
	throttle(r.acct, 1)

	resp, err := r.orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, resp.RawResponse.StatusCode)
	assert.Equal(t, []string{
		"POST docs West US 2 429.3200",
		"POST docs West US 2 201",
	}, trail(r.acct))
	assert.Equal(t, 1, r.acct.Commits(dbName, collName, "1"))
}

// Throttling that outlasts the chain's retries costs the chain's 1 + 9
// attempts and reaches the caller as the 429: azcore does not send the
// call through the chain again (it would, three more times, with its
// default retries).
func TestPersistentThrottlingIsNotMultipliedByAzcore(t *testing.T) {
	r := newRig(t, cosmostest.Options{}, nil)
	throttle(r.acct, 0)

	_, err := r.orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
	var re *azcore.ResponseError
	require.True(t, errors.As(err, &re), "got %v, want the 429", err)
	assert.Equal(t, http.StatusTooManyRequests, re.StatusCode)
	assert.Equal(t, repeat("POST docs West US 2 429.3200", 10), trail(r.acct))
	assert.Zero(t, r.acct.Commits(dbName, collName, "1"))
}

// Every request is signed with the shared MasterKey as it is now: after
// Update to a key the account does not take, the next read is refused
// (azcosmos kept no copy of the key the Client was built with), and after
// Update back to the account's key it is served again, by the same Client.
func TestKeyRotationReachesEveryRequest(t *testing.T) {
	r := newRig(t, cosmostest.Options{Key: accountKey}, nil)
	ctx := t.Context()
	_, err := r.orders.CreateItem(ctx, pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)

	require.NoError(t, r.key.Update(otherKey))
	_, err = r.orders.ReadItem(ctx, pk, "1", nil)
	var re *azcore.ResponseError
	require.True(t, errors.As(err, &re), "got %v, want a 401", err)
	assert.Equal(t, http.StatusUnauthorized, re.StatusCode)
	_, err = r.orders.UpsertItem(ctx, pk, orderJSON(t, "1", 11), nil)
	require.True(t, errors.As(err, &re), "got %v, want a 401", err)
	assert.Equal(t, http.StatusUnauthorized, re.StatusCode)

	require.NoError(t, r.key.Update(accountKey))
	got, err := r.orders.ReadItem(ctx, pk, "1", nil)
	require.NoError(t, err)
	assert.Equal(t, order{ID: "1", PK: "eu", Total: 10}, decodeOrder(t, got.Value))
	assert.Equal(t, []string{
		"POST docs West US 2 201",
		"GET docs/1 West US 2 401",
		"POST docs West US 2 401",
		"GET docs/1 West US 2 200",
	}, trail(r.acct))
	assert.Equal(t, 1, r.acct.Commits(dbName, collName, "1"))
}

// azcosmos v1.5.0 reads the account once before its first call and, when
// that fails, repeats the failure for 5 minutes without asking again. A
// Client built while its key is wrong therefore keeps failing after Update
// fixes the key, although the chain has recovered; a new Client over the
// same MasterKey works at once.
func TestAClientBuiltWithAWrongKeyIsBuiltAgain(t *testing.T) {
	r := newRig(t, cosmostest.Options{Key: accountKey}, nil)
	require.NoError(t, r.key.Update(otherKey))
	r2 := newRigFor(t, r.acct, r.key) // built while the key is wrong
	ctx := t.Context()

	_, err := r2.orders.CreateItem(ctx, pk, orderJSON(t, "1", 10), nil)
	var re *azcore.ResponseError
	require.True(t, errors.As(err, &re), "got %v, want a 401", err)
	assert.Equal(t, http.StatusUnauthorized, re.StatusCode)
	assert.Contains(t, r2.client.Status().Account.LastError, "401", "the chain's look-up was refused too")

	require.NoError(t, r.key.Update(accountKey))
	_, err = r2.orders.CreateItem(ctx, pk, orderJSON(t, "1", 10), nil)
	require.Error(t, err, "azcosmos repeats its failed account read")
	assert.Zero(t, r.acct.Commits(dbName, collName, "1"))

	r3 := newRigFor(t, r.acct, r.key)
	_, err = r3.orders.CreateItem(ctx, pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)
	assert.Equal(t, 1, r.acct.Commits(dbName, collName, "1"))
}

// headerSeen is an azcore policy that records the Authorization header of
// the requests it sees.
type headerSeen struct{ auths *[]string }

func (h headerSeen) Do(req *azpolicy.Request) (*http.Response, error) {
	*h.auths = append(*h.auths, req.Raw().Header.Get("Authorization"))
	return req.Next()
}

// azcosmos's own signature never leaves the SDK: a per-retry policy of the
// caller's, which runs after azcosmos's authorization policy, finds no
// Authorization header, while every attempt the chain sends carries one.
// (Every other test shows the chain's signature is the one the account
// accepts: azcosmos signs with a placeholder key the account refuses.)
func TestTheSDKSignatureIsRemovedAndTheChainSigns(t *testing.T) {
	var seen []string
	r := newRig(t, cosmostest.Options{}, func(o *Options) {
		o.SDK.PerRetryPolicies = []azpolicy.Policy{headerSeen{&seen}}
	})
	_, err := r.orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)
	_, err = r.orders.ReadItem(t.Context(), pk, "1", nil)
	require.NoError(t, err)

	require.NotEmpty(t, seen)
	for _, a := range seen {
		assert.Empty(t, a, "the SDK's Authorization header reached the chain")
	}
	auths := r.base.authorizations()
	require.GreaterOrEqual(t, len(auths), 2)
	for _, a := range auths {
		assert.Contains(t, a, "type%3Dmaster", "every attempt is signed by the chain")
	}
}

// Close closes the chain: later calls fail with transport.ErrClosed through
// the SDK. Close is idempotent.
func TestCloseClosesTheChain(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)
	key, err := region.NewMasterKey(acct.Key())
	require.NoError(t, err)
	client, err := NewClientWithKey(acct.Endpoint(), key, nil)
	require.NoError(t, err)
	orders, err := client.NewContainer(dbName, collName)
	require.NoError(t, err)
	_, err = orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)

	require.NoError(t, client.Close())
	require.NoError(t, client.Close())
	_, err = orders.ReadItem(t.Context(), pk, "1", nil)
	require.ErrorIs(t, err, transport.ErrClosed)
}

// The options the constructor sets itself are refused when the caller
// sets them, and the caller's Options are left as they were.
func TestOptionsTheConstructorOwnsAreRefused(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)
	key, err := region.NewMasterKey(acct.Key())
	require.NoError(t, err)

	for name, edit := range map[string]func(*Options){
		"chain endpoint":   func(o *Options) { o.Chain.Endpoint = acct.Endpoint() },
		"chain key":        func(o *Options) { o.Chain.Key = acct.Key() },
		"chain credential": func(o *Options) { o.Chain.Credential = key },
		"sdk transport":    func(o *Options) { o.SDK.Transport = http.DefaultClient },
		"sdk retries":      func(o *Options) { o.SDK.Retry.MaxRetries = 3 },
		"sdk try timeout":  func(o *Options) { o.SDK.Retry.TryTimeout = 1 },
		"sdk preferred":    func(o *Options) { o.SDK.PreferredRegions = []string{"East US"} },
	} {
		t.Run(name, func(t *testing.T) {
			var o Options
			edit(&o)
			client, err := NewClientWithKey(acct.Endpoint(), key, &o)
			require.Error(t, err)
			assert.Nil(t, client)
			assert.Contains(t, err.Error(), "azcosmosrt: Options.")
		})
	}

	_, err = NewClientWithKey(acct.Endpoint(), nil, nil)
	require.Error(t, err)
	_, err = NewClient(acct.Endpoint(), nil, nil)
	require.Error(t, err)

	// Accepted: azcore's retries already off, and the caller's own per-retry
	// policies, whose backing array (with room to spare) is not written to.
	policies := make([]azpolicy.Policy, 1, 4)
	policies[0] = headerSeen{new([]string)}
	o := Options{}
	o.SDK.Retry.MaxRetries = -1
	o.SDK.PerRetryPolicies = policies
	client, err := NewClientWithKey(acct.Endpoint(), key, &o)
	require.NoError(t, err)
	require.NoError(t, client.Close())
	assert.Len(t, o.SDK.PerRetryPolicies, 1)
	assert.Nil(t, policies[:2][1])
	assert.Nil(t, o.SDK.Transport)
	assert.Equal(t, int32(-1), o.SDK.Retry.MaxRetries)
}
