package azcosmosrt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	azpolicy "github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
)

// fakeCredential is an azcore.TokenCredential whose answers a test
// scripts; it counts the calls and remembers the scopes asked for.
type fakeCredential struct {
	answer func(ctx context.Context, n int) (azcore.AccessToken, error) // n counts from 1

	mu     sync.Mutex // guards calls and scopes
	calls  int
	scopes [][]string
}

func (f *fakeCredential) GetToken(ctx context.Context, o azpolicy.TokenRequestOptions) (azcore.AccessToken, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.scopes = append(f.scopes, o.Scopes)
	f.mu.Unlock()
	return f.answer(ctx, n)
}

func (f *fakeCredential) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// hourTokens answers call n with token "tok-n", valid for an hour.
func hourTokens(_ context.Context, n int) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "tok-" + strconv.Itoa(n), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// entraRig is a Client built with NewClient on a cosmostest account.
// cosmostest takes master-key signatures only, so the chain's Base checks
// nothing and re-signs each attempt with the account's key after recording
// the Authorization the chain sent.
func entraRig(t *testing.T, cred azcore.TokenCredential, edit func(*Options)) (*cosmostest.Account, *azcosmos.ContainerClient, *recorder) {
	t.Helper()
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)
	base := &recorder{next: http.DefaultTransport.(*http.Transport).Clone(), rewrite: acct.Sign}
	o := &Options{}
	o.Chain.Base = base
	if edit != nil {
		edit(o)
	}
	client, err := NewClient(acct.Endpoint(), cred, o)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, client.Close()) })
	orders, err := client.NewContainer(dbName, collName)
	require.NoError(t, err)
	return acct, orders, base
}

// With an Entra ID credential every attempt, the DatabaseAccount look-ups
// included, carries the token in the Cosmos DB format, for the account's
// scope; the credential is asked once for all of them.
func TestEntraTokenSignsEveryAttemptAndIsAskedOnce(t *testing.T) {
	cred := &fakeCredential{answer: hourTokens}
	acct, orders, base := entraRig(t, cred, nil)
	ctx := t.Context()

	_, err := orders.CreateItem(ctx, pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)
	_, err = orders.ReadItem(ctx, pk, "1", nil)
	require.NoError(t, err)
	_, err = orders.UpsertItem(ctx, pk, orderJSON(t, "1", 11), nil)
	require.NoError(t, err)

	auths := base.authorizations()
	require.GreaterOrEqual(t, len(auths), 4, "look-ups and three calls")
	for _, a := range auths {
		assert.Equal(t, url.QueryEscape("type=aad&ver=1.0&sig=tok-1"), a)
	}
	assert.Equal(t, 1, cred.count())
	assert.Equal(t, [][]string{{"http://127.0.0.1/.default"}}, cred.scopes)
	assert.Equal(t, 2, acct.Commits(dbName, collName, "1"))
}

// The Cosmos DB audience of Options.SDK.Cloud, when set, gives the scope,
// as in azcosmos.
func TestEntraScopeFollowsTheCloudAudience(t *testing.T) {
	cred := &fakeCredential{answer: hourTokens}
	_, orders, _ := entraRig(t, cred, func(o *Options) {
		o.SDK.Cloud = cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			azcosmos.ServiceName: {Audience: "https://cosmos.azure.com"},
		}}
	})
	_, err := orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"https://cosmos.azure.com/.default"}}, cred.scopes)
}

// A credential that fails reaches the caller through the SDK with its
// cause, and nothing is sent.
func TestEntraCredentialFailureReachesTheCaller(t *testing.T) {
	cause := errors.New("no identity")
	cred := &fakeCredential{answer: func(context.Context, int) (azcore.AccessToken, error) { return azcore.AccessToken{}, cause }}
	_, orders, base := entraRig(t, cred, nil)

	_, err := orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
	require.ErrorIs(t, err, cause)
	assert.Empty(t, base.authorizations())
}

func TestEntraScope(t *testing.T) {
	u, err := url.Parse("https://contoso.documents.azure.com:443/")
	require.NoError(t, err)
	assert.Equal(t, "https://contoso.documents.azure.com/.default", entraScope(u, cloud.Configuration{}))
	assert.Equal(t, "https://cosmos.azure.us/.default", entraScope(u, cloud.Configuration{
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{azcosmos.ServiceName: {Audience: "https://cosmos.azure.us"}},
	}))
}

// A token is kept until 5 minutes before it expires, then replaced.
func TestEntraTokenIsKeptUntilFiveMinutesBeforeExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cred := &fakeCredential{answer: hourTokens}
		e := newEntraToken(cred, "s")
		ctx := t.Context()

		for _, at := range []time.Duration{0, 30 * time.Minute, 54*time.Minute + 59*time.Second} {
			time.Sleep(at - elapsed(t))
			tok, err := e.get(ctx)
			require.NoError(t, err)
			assert.Equal(t, "tok-1", tok, "at %v", at)
		}
		time.Sleep(55*time.Minute - elapsed(t))
		tok, err := e.get(ctx)
		require.NoError(t, err)
		assert.Equal(t, "tok-2", tok)
		assert.Equal(t, 2, cred.count())
	})
}

// elapsed is the fake time since the bubble started (synctest starts every
// bubble at the same instant).
func elapsed(t *testing.T) time.Duration {
	t.Helper()
	return time.Since(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
}

// A token with RefreshOn is replaced from then on.
func TestEntraTokenRefreshOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cred := &fakeCredential{answer: func(_ context.Context, n int) (azcore.AccessToken, error) {
			tk, _ := hourTokens(nil, n)
			tk.RefreshOn = time.Now().Add(20 * time.Minute)
			return tk, nil
		}}
		e := newEntraToken(cred, "s")
		tok, err := e.get(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "tok-1", tok)
		time.Sleep(19 * time.Minute)
		tok, _ = e.get(t.Context())
		assert.Equal(t, "tok-1", tok)
		time.Sleep(time.Minute)
		tok, _ = e.get(t.Context())
		assert.Equal(t, "tok-2", tok)
	})
}

// An early refresh that fails leaves the valid token in use, and the next
// attempt to refresh waits 30 seconds; once the token has expired, the
// credential's error comes back, wrapped.
func TestEntraTokenEarlyRefreshFailureKeepsTheToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cause := errors.New("identity endpoint down")
		cred := &fakeCredential{answer: func(ctx context.Context, n int) (azcore.AccessToken, error) {
			if n == 1 {
				return hourTokens(ctx, n)
			}
			return azcore.AccessToken{}, cause
		}}
		e := newEntraToken(cred, "s")
		ctx := t.Context()
		_, err := e.get(ctx)
		require.NoError(t, err)

		time.Sleep(56 * time.Minute) // due
		tok, err := e.get(ctx)
		require.NoError(t, err)
		assert.Equal(t, "tok-1", tok)
		assert.Equal(t, 2, cred.count())

		time.Sleep(29 * time.Second)
		tok, err = e.get(ctx)
		require.NoError(t, err)
		assert.Equal(t, "tok-1", tok)
		assert.Equal(t, 2, cred.count(), "within 30 s of the failed refresh, no new request")

		time.Sleep(time.Second)
		_, err = e.get(ctx)
		require.NoError(t, err)
		assert.Equal(t, 3, cred.count())

		time.Sleep(4 * time.Minute) // expired
		_, err = e.get(ctx)
		require.ErrorIs(t, err, cause)
		assert.ErrorContains(t, err, "azcosmosrt: getting an Entra ID token")
		assert.Equal(t, 4, cred.count())
	})
}

// Calls that need a token while one is being asked for share that request;
// a call whose context ends while it waits returns the context's error.
func TestEntraTokenOneRequestAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		cred := &fakeCredential{answer: func(ctx context.Context, n int) (azcore.AccessToken, error) {
			<-release
			return hourTokens(ctx, n)
		}}
		e := newEntraToken(cred, "s")

		toks := make(chan string, 8)
		get := func() {
			tok, err := e.get(t.Context())
			assert.NoError(t, err)
			toks <- tok
		}
		go get()
		synctest.Wait() // the first call is asking the credential
		for range 7 {
			go get()
		}
		ctx, cancel := context.WithCancel(t.Context())
		waitErr := make(chan error, 1)
		go func() {
			_, err := e.get(ctx)
			waitErr <- err
		}()
		synctest.Wait()
		cancel()
		assert.ErrorIs(t, <-waitErr, context.Canceled)

		close(release)
		for range 8 {
			assert.Equal(t, "tok-1", <-toks)
		}
		assert.Equal(t, 1, cred.count())
	})
}

// The token a Client keeps never prints, whatever the verb.
func TestEntraTokenNeverPrintsItsToken(t *testing.T) {
	e := newEntraToken(&fakeCredential{answer: hourTokens}, "s")
	tok, err := e.get(t.Context())
	require.NoError(t, err)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		assert.NotContains(t, fmt.Sprintf(verb, e), tok, verb)
		assert.NotContains(t, fmt.Sprintf(verb, struct{ T *entraToken }{e}), tok, verb)
	}
}
