package account_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/internal/account"
	"github.com/cosmosrt/cosmosrt/region"
)

func TestRouterFollowsAFailoverWhileTheGlobalEndpointIsDown(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	key, err := region.NewMasterKey(acct.Key())
	require.NoError(t, err)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	global, err := url.Parse(acct.Endpoint())
	require.NoError(t, err)
	r, err := account.NewRouter(account.RouterOptions{Endpoint: global, Credential: key, Transport: tr, RefreshInterval: -1})
	require.NoError(t, err)
	defer r.Close()

	east, err := url.Parse(acct.RegionEndpoint("East US"))
	require.NoError(t, err)
	assert.True(t, r.Owns(east), "a regional endpoint is owned before the account is loaded")

	require.NoError(t, account.Ensure(t.Context(), r))
	w, _ := r.WriteEndpoint()
	assert.Equal(t, acct.RegionEndpoint("West US 2"), w.String())

	// The global endpoint stops answering look-ups; then a failover.
	acct.Inject(cosmostest.Global, cosmostest.Fault{Status: http.StatusServiceUnavailable, Ops: cosmostest.AccountOps})
	require.NoError(t, acct.Failover("East US"))
	acct.ResetLog()

	require.NoError(t, account.ForceRefresh(t.Context(), r))
	w, _ = r.WriteEndpoint()
	assert.Equal(t, acct.RegionEndpoint("East US"), w.String(), "the new write region, learned from a regional endpoint")
	var asked []string
	for _, e := range acct.Log() {
		asked = append(asked, e.Region+" "+http.StatusText(e.Status))
	}
	assert.Equal(t, []string{"global Service Unavailable", "West US 2 OK"}, asked)
}
