package transport

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cosmosrt/cosmosrt/cosmostest"
)

// TestMain fails the package if any test leaves a goroutine behind: the
// account's background refresh, a look-up, a wait or a connection.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestCloseStopsTheBackgroundRefresh(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	rt, err := New(Options{Endpoint: acct.Endpoint(), Key: acct.Key(), RefreshInterval: time.Millisecond})
	require.NoError(t, err)
	c := &http.Client{Transport: rt}
	mustCreate(t, c, acct, "x")
	require.Eventually(t, func() bool { return len(entries(acct, isAccountRead)) >= 3 }, 5*time.Second, time.Millisecond,
		"the account is re-read in the background")
	require.NoError(t, rt.Close())
	n := len(entries(acct, isAccountRead))
	served := len(acct.Log())
	_, _, err = do(t, context.Background(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/x", "")
	require.ErrorIs(t, err, ErrClosed, "a call after Close fails clearly")
	assert.LessOrEqual(t, len(entries(acct, isAccountRead)), n+1, "no look-ups after Close but one in flight")
	assert.LessOrEqual(t, len(acct.Log()), served+1, "nothing sent after Close but a look-up in flight")
}
