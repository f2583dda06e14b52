package transport

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/internal/account"
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

// The public snapshot is a copy of the router's, field for field.
func TestAccountStatusCopiesTheRoutersSnapshot(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	in := account.Status{
		Loaded:                 true,
		LastLookup:             at,
		LastError:              "DatabaseAccount look-up answered 503 Service Unavailable (substatus 0)",
		AccountID:              "contoso",
		MultipleWriteLocations: true,
		Write:                  []account.EndpointStatus{{Region: "West US", Endpoint: "https://contoso-westus.documents.azure.com:443", MarkedUntil: at}},
		Read: []account.EndpointStatus{
			{Region: "East US", Endpoint: "https://contoso-eastus.documents.azure.com:443"},
			{Region: "West US", Endpoint: "https://contoso-westus.documents.azure.com:443"},
		},
		UnmatchedPreferred: []string{"Mars"},
	}
	out := accountStatus(in)
	assert.Equal(t, AccountStatus{
		Loaded:                 true,
		LastLookup:             at,
		LastError:              "DatabaseAccount look-up answered 503 Service Unavailable (substatus 0)",
		AccountID:              "contoso",
		MultipleWriteLocations: true,
		Write:                  []EndpointStatus{{Region: "West US", Endpoint: "https://contoso-westus.documents.azure.com:443", MarkedUntil: at}},
		Read: []EndpointStatus{
			{Region: "East US", Endpoint: "https://contoso-eastus.documents.azure.com:443"},
			{Region: "West US", Endpoint: "https://contoso-westus.documents.azure.com:443"},
		},
		UnmatchedPreferred: []string{"Mars"},
	}, out)
	out.UnmatchedPreferred[0] = "changed"
	assert.Equal(t, "Mars", in.UnmatchedPreferred[0], "a copy")
	assert.Equal(t, AccountStatus{}, accountStatus(account.Status{}), "nothing loaded: empty")
}
