package transport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/policy"
)

// TestInvalidRequestsAreRefusedAtOnce: what net/http would refuse is
// refused before any attempt, with a clear error, its body closed, and
// without a panic.
func TestInvalidRequestsAreRefusedAtOnce(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	rt, err := New(Options{Endpoint: acct.Endpoint(), Key: acct.Key()})
	require.NoError(t, err)
	defer rt.Close()

	valid := func() *http.Request {
		req, err := http.NewRequest(http.MethodPost, acct.Endpoint()+"dbs/d/colls/c/docs", strings.NewReader(`{"id":"a"}`))
		require.NoError(t, err)
		return req
	}
	tests := map[string]func(*http.Request){
		"nil URL":                func(r *http.Request) { r.URL = nil },
		"nil Header":             func(r *http.Request) { r.Header = nil },
		"no host":                func(r *http.Request) { r.URL.Host = "" },
		"unsupported scheme":     func(r *http.Request) { r.URL.Scheme = "ftp" },
		"bad method":             func(r *http.Request) { r.Method = "PO ST" },
		"length without body":    func(r *http.Request) { r.Body, r.GetBody, r.ContentLength = nil, nil, 5 },
		"bad header name":        func(r *http.Request) { r.Header["X Bad"] = []string{"1"} },
		"line break in a header": func(r *http.Request) { r.Header.Set("Authorization", "secret\r\nX-Injected: 1") },
	}
	for name, spoil := range tests {
		t.Run(name, func(t *testing.T) {
			before := len(acct.Log())
			req := valid()
			body := &trackedBody{r: strings.NewReader(`{"id":"a"}`)}
			req.Body = body
			spoil(req)
			var resp *http.Response
			require.NotPanics(t, func() { resp, err = rt.RoundTrip(req) })
			require.ErrorIs(t, err, ErrInvalidRequest)
			assert.Nil(t, resp)
			assert.NotContains(t, err.Error(), "secret", "header values are never quoted")
			assert.Equal(t, before, len(acct.Log()), "nothing was sent, not even a look-up")
			if req.Body != nil {
				_, closed := body.state()
				assert.True(t, closed, "the body is closed")
			}
		})
	}
}

// TestLocalRefusalsLeaveTheBudgetAlone: bad requests cost the shared
// retry budget nothing, so a later transient 503 is still retried.
func TestLocalRefusalsLeaveTheBudgetAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(status(503), status(200))
		r := NewRetry(f, policy.RetryOptions{})
		for range 20 {
			req := get(t, context.Background())
			req.URL.Scheme = "gopher"
			_, err := r.RoundTrip(req)
			require.ErrorIs(t, err, ErrInvalidRequest)
		}
		// A local refusal from a Base past the chain's own checks.
		local := NewRetry(newPhases(&http.Transport{Proxy: func(*http.Request) (*url.URL, error) {
			return nil, errors.New("no proxy")
		}}), policy.RetryOptions{})
		for range 20 {
			_, err := local.RoundTrip(get(t, context.Background()))
			require.Error(t, err)
		}
		assert.Zero(t, f.count(), "nothing was sent")
		resp, err := r.RoundTrip(get(t, context.Background()))
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "the 503 was retried: the budget is intact")
		assert.Equal(t, 2, f.count())
	})
}

// TestLocalRefusalIsNotRetried: an error net/http raises before seeking a
// connection is returned after one attempt.
func TestLocalRefusalIsNotRetried(t *testing.T) {
	proxies := 0
	base := &http.Transport{Proxy: func(*http.Request) (*url.URL, error) {
		proxies++
		return nil, errors.New("no proxy")
	}}
	_, err := NewRetry(newPhases(base), policy.RetryOptions{}).RoundTrip(get(t, context.Background()))
	require.Error(t, err)
	assert.Equal(t, 1, proxies, "one attempt")
}

// failingGetBody is a caller's body whose GetBody fails after the first
// attempt.
func failingGetBody(t *testing.T, method string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, docsURL+"/sprocs/s", strings.NewReader(`{}`))
	require.NoError(t, err)
	req.GetBody = func() (io.ReadCloser, error) { return nil, errors.New("body source gone") }
	return req
}

// TestFailingGetBodyReturnsTheRetryableAnswer: when the body cannot be
// had for a resend, the caller gets the answer that called for it, intact.
func TestFailingGetBodyReturnsTheRetryableAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(status(429, "x-ms-retry-after-ms", "10"), status(201))
		resp, err := NewRetry(f, policy.RetryOptions{}).RoundTrip(failingGetBody(t, http.MethodPost))
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		assert.Contains(t, string(b), "Too Many Requests", "the body is intact")
		assert.Equal(t, 1, f.count())
	})
}

// TestCloseEndsCallsWaitingToResend: a call waiting out a long hint when
// the chain is closed returns at once with ErrClosed.
func TestCloseEndsCallsWaitingToResend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(status(429, "x-ms-retry-after-ms", "20000"))
		rt, err := New(Options{Base: f, NoAttemptSpans: true})
		require.NoError(t, err)
		done := make(chan error, 1)
		start := time.Now()
		go func() {
			resp, err := rt.RoundTrip(get(t, context.Background()))
			if resp != nil {
				resp.Body.Close()
			}
			done <- err
		}()
		time.Sleep(time.Second) // fake time: the call is waiting out the hint
		synctest.Wait()
		require.NoError(t, rt.Close())
		err = <-done
		require.ErrorIs(t, err, ErrClosed)
		assert.Equal(t, time.Second, time.Since(start), "it returned when Close was called")
		assert.Equal(t, 1, f.count())
	})
}
