package transport

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/policy"
)

func TestStatusWithoutAnAccount(t *testing.T) {
	rt, err := New(Options{Base: always(200)})
	require.NoError(t, err)
	defer rt.Close()
	assert.Equal(t, Status{}, rt.Status())
}

// An operator can tell which region an open circuit belongs to: Status
// names the account's endpoints as it names circuits.
func TestStatusNamesAccountEndpointsAsItNamesCircuits(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	rt := newTransport(t, acct, Options{
		PreferredRegions: []string{"East US"},
		Breaker:          policy.BreakerOptions{ConsecutiveFailures: 1},
	})
	c := &http.Client{Transport: rt}
	mustCreate(t, c, acct, "s")
	acct.Inject("East US", cosmostest.Fault{Status: http.StatusInternalServerError, Count: 1, Ops: cosmostest.ReadOps})
	code, _, err := do(t, context.Background(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/s", "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, "read again in another region")

	st := rt.Status()
	require.True(t, st.Account.Loaded)
	require.Len(t, st.OpenCircuits, 1)
	var region string
	for _, e := range st.Account.Read {
		if e.Endpoint == st.OpenCircuits[0].Endpoint {
			region = e.Region
		}
	}
	assert.Equal(t, "East US", region, "the open circuit %s among %+v", st.OpenCircuits[0].Endpoint, st.Account.Read)
}

// The public snapshot carries the router's (Status converts one to the
// other, so their fields cannot drift apart), and it is a copy the caller
// may keep and modify.
func TestStatusIsACopyOfTheRoutersSnapshot(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{AccountID: "contoso", MultipleWriteLocations: true})
	defer acct.Close()
	rt := newTransport(t, acct, Options{PreferredRegions: []string{"East US", "Mars"}})
	c := &http.Client{Transport: rt}
	mustCreate(t, c, acct, "s")

	st := rt.Status()
	require.True(t, st.Account.Loaded)
	assert.NotZero(t, st.Account.LastLookup)
	assert.Empty(t, st.Account.LastError)
	assert.Equal(t, "contoso", st.Account.AccountID)
	assert.True(t, st.Account.MultipleWriteLocations)
	require.NotEmpty(t, st.Account.Write)
	require.NotEmpty(t, st.Account.Read)
	assert.Equal(t, "East US", st.Account.Write[0].Region)
	assert.Equal(t, "East US", st.Account.Read[0].Region)
	assert.Equal(t, []string{"Mars"}, st.Account.UnmatchedPreferred)

	st.Account.Read[0].Region = "changed"
	st.Account.UnmatchedPreferred[0] = "changed"
	again := rt.Status()
	assert.Equal(t, "East US", again.Account.Read[0].Region, "a copy")
	assert.Equal(t, []string{"Mars"}, again.Account.UnmatchedPreferred, "a copy")
}
