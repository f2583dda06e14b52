package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/policy"
)

const docsURL = "http://127.0.0.1:1/dbs/d/colls/c/docs"

func get(t *testing.T, ctx context.Context) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, docsURL+"/1", nil)
	require.NoError(t, err)
	return req
}

// post builds a write whose body has no GetBody, so the loop must buffer it.
func post(t *testing.T, ctx context.Context, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, docsURL, io.NopCloser(strings.NewReader(body)))
	require.NoError(t, err)
	require.Nil(t, req.GetBody)
	return req
}

func gaps(as []attempt) []time.Duration {
	var d []time.Duration
	for i := 1; i < len(as); i++ {
		d = append(d, as[i].at.Sub(as[i-1].at))
	}
	return d
}

func TestRetryWaitsForThrottleHintThenSucceeds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(status(429, "x-ms-retry-after-ms", "250"), status(429, "Retry-After", "2"), status(200))
		resp, err := NewRetry(f, policy.RetryOptions{}).RoundTrip(get(t, context.Background()))
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode)

		g := gaps(f.seen())
		require.Len(t, g, 2)
		assert.GreaterOrEqual(t, g[0], 250*time.Millisecond, "never before the hint")
		assert.LessOrEqual(t, g[0], 250*time.Millisecond*110/100, "at most a little jitter")
		assert.GreaterOrEqual(t, g[1], 2*time.Second)
		assert.LessOrEqual(t, g[1], 2*time.Second*110/100)
	})
}

func TestRetryThrottleCapsReturnLastResponseIntact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(answer{status: 429, header: map[string]string{"x-ms-retry-after-ms": "10", "x-ms-activity-id": "last"}, body: "throttled"})
		start := time.Now()
		resp, err := NewRetry(f, policy.RetryOptions{}).RoundTrip(get(t, context.Background()))
		require.NoError(t, err)
		assert.Equal(t, 10, f.count(), "one attempt and the SDKs' 9 retries")
		assert.Equal(t, 429, resp.StatusCode)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, "throttled", string(b))
		assert.GreaterOrEqual(t, time.Since(start), 90*time.Millisecond)
	})
}

func TestRetryThrottleCumulativeWaitCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(status(429, "x-ms-retry-after-ms", "8000"))
		start := time.Now()
		resp, err := NewRetry(f, policy.RetryOptions{}).RoundTrip(get(t, context.Background()))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 4, f.count(), "3 waits of 8s fit in 30s, a 4th does not")
		assert.Less(t, time.Since(start), 30*time.Second)
	})
}

func TestRetryReturnsAtOnceWhenHintEndsAfterDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(status(429, "x-ms-retry-after-ms", "5000"), status(200))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		resp, err := NewRetry(f, policy.RetryOptions{}).RoundTrip(get(t, ctx))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 429, resp.StatusCode)
		assert.Equal(t, 1, f.count())
		assert.Zero(t, time.Since(start), "no sleeping into the deadline")
	})
}

func TestRetryCancelDuringWaitReturnsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(status(429, "x-ms-retry-after-ms", "5000"), status(200))
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			time.Sleep(100 * time.Millisecond)
			cancel()
		}()
		start := time.Now()
		resp, err := NewRetry(f, policy.RetryOptions{}).RoundTrip(get(t, ctx))
		assert.Nil(t, resp)
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
		assert.Equal(t, 1, f.count())
		_, closed := f.bodies[0].state()
		assert.True(t, closed, "the discarded 429 was closed")
	})
}

func TestRetryReplaysBufferedBodyAndLeavesCallerRequestAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(status(449), status(503), status(201))
		req := post(t, context.Background(), `{"id":"1"}`)
		req.Header.Set("x-custom", "v")
		origURL, origBody := *req.URL, req.Body
		resp, err := NewRetry(f, policy.RetryOptions{}).RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 201, resp.StatusCode)

		seen := f.seen()
		require.Len(t, seen, 3)
		for _, a := range seen {
			assert.Equal(t, `{"id":"1"}`, a.body, "every attempt carries the whole body")
			assert.Equal(t, int64(len(`{"id":"1"}`)), a.length, "with its length known")
		}
		assert.Equal(t, origURL, *req.URL)
		assert.True(t, origBody == req.Body, "the caller's Body field is untouched")
		assert.Equal(t, http.Header{"X-Custom": {"v"}}, req.Header)
		for i, b := range f.bodies[:2] {
			drained, closed := b.state()
			assert.True(t, drained && closed, "discarded response %d drained and closed", i)
		}
	})
}

func TestRetryUsesGetBodyWithoutBuffering(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(status(503), status(201))
		req, err := http.NewRequest(http.MethodPost, docsURL, strings.NewReader(`{"id":"2"}`))
		require.NoError(t, err)
		calls := 0
		inner := req.GetBody
		req.GetBody = func() (io.ReadCloser, error) { calls++; return inner() }
		resp, err := NewRetry(f, policy.RetryOptions{MaxBufferedBody: -1}).RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 201, resp.StatusCode)
		assert.Equal(t, 1, calls, "the first attempt sends the caller's body, the resend a fresh one")
		for _, a := range f.seen() {
			assert.Equal(t, `{"id":"2"}`, a.body)
		}
	})
}

func TestRetryDoesNotRetryBodyItCannotReplay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(status(503), status(201))
		long := strings.Repeat("x", 100)
		resp, err := NewRetry(f, policy.RetryOptions{MaxBufferedBody: 10}).RoundTrip(post(t, context.Background(), long))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 503, resp.StatusCode, "the answer comes back rather than a resend with a partial body")
		require.Equal(t, 1, f.count())
		assert.Equal(t, long, f.seen()[0].body, "the one attempt carried the whole body")
	})
}

func TestRetryNeverResendsAmbiguousWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
		f := newFake(answer{err: reset}, status(201))
		resp, err := NewRetry(f, policy.RetryOptions{}).RoundTrip(post(t, context.Background(), `{"id":"3"}`))
		assert.Nil(t, resp)
		require.ErrorIs(t, err, ErrOutcomeUnknown, "it may have run: the caller is told so")
		assert.NotErrorIs(t, err, syscall.ECONNRESET, "a client above must not take it for a failure it may resend")
		var unknown *OutcomeUnknownError
		require.ErrorAs(t, err, &unknown)
		assert.ErrorIs(t, unknown.Cause(), syscall.ECONNRESET, "the cause is kept")
		assert.Equal(t, 1, unknown.Attempts)
		assert.Equal(t, 1, f.count())
	})
}

func TestRetryResendsAmbiguousRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(answer{err: io.ErrUnexpectedEOF}, status(200))
		resp, err := NewRetry(f, policy.RetryOptions{}).RoundTrip(get(t, context.Background()))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 2, f.count())
	})
}

func TestRetryWithBacksOffExponentially(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(status(449), status(449), status(449), status(449), status(201))
		resp, err := NewRetry(f, policy.RetryOptions{}).RoundTrip(post(t, context.Background(), "{}"))
		require.NoError(t, err)
		resp.Body.Close()
		g := gaps(f.seen())
		require.Len(t, g, 4)
		assert.Greater(t, g[3], g[0], "later waits are longer")
		for _, d := range g {
			assert.Greater(t, d, time.Duration(0))
			assert.LessOrEqual(t, d, 1500*time.Millisecond)
		}
	})
}

func TestRetryNeverReturnsResponseAndError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, script := range [][]answer{
			{status(200)}, {status(500)}, {status(503)}, {answer{err: io.EOF}},
			{answer{err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}},
		} {
			resp, err := NewRetry(newFake(script...), policy.RetryOptions{}).RoundTrip(get(t, context.Background()))
			assert.True(t, (resp == nil) != (err == nil), "resp %v err %v", resp, err)
			if resp != nil {
				resp.Body.Close()
			}
		}
	})
}

// TestRetryBudgetKeepsSustainedOutageNearOneAttemptPerCall: writes that
// start 100 a second, every attempt answered 503, cost at most 1.1
// attempts per call; a quiet caller, one write after another, retries
// each call in full, and its retries stay within the bucket's 10 tokens
// and 10 a second (BudgetOptions.PerSecond).
func TestRetryBudgetKeepsSustainedOutageNearOneAttemptPerCall(t *testing.T) {
	t.Run("100 calls a second", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFake(status(503))
			r := NewRetry(f, policy.RetryOptions{})
			const calls = 1000
			var wg sync.WaitGroup
			for range calls {
				wg.Go(func() {
					resp, err := r.RoundTrip(post(t, context.Background(), "{}"))
					if assert.NoError(t, err) {
						resp.Body.Close()
					}
				})
				time.Sleep(10 * time.Millisecond)
			}
			wg.Wait()
			ratio := float64(f.count()) / calls
			t.Logf("sustained 503: %d attempts for %d calls (%.3f per call)", f.count(), calls, ratio)
			assert.LessOrEqual(t, ratio, 1.1)
		})
	})
	t.Run("one call after another", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFake(status(503))
			r := NewRetry(f, policy.RetryOptions{})
			const calls = 200
			start := time.Now()
			for range calls {
				resp, err := r.RoundTrip(post(t, context.Background(), "{}"))
				require.NoError(t, err)
				resp.Body.Close()
			}
			elapsed := time.Since(start)
			retries := f.count() - calls
			t.Logf("sustained 503: %d retries for %d calls in %s", retries, calls, elapsed)
			assert.LessOrEqual(t, float64(retries), 10+10*elapsed.Seconds())
		})
	})
}

func TestRetryBudgetStillRetriesABurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(status(503), status(503), status(201))
		resp, err := NewRetry(f, policy.RetryOptions{}).RoundTrip(post(t, context.Background(), "{}"))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 201, resp.StatusCode)
		assert.Equal(t, 3, f.count())
	})
}

func TestRetryClosesBodyWhenContextAlreadyDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := newFake(status(200))
	tb := &trackedBody{r: strings.NewReader("{}")}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, docsURL, tb)
	require.NoError(t, err)
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("{}")), nil }
	_, err = NewRetry(f, policy.RetryOptions{}).RoundTrip(req)
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, f.count())
	_, closed := tb.state()
	assert.True(t, closed)
	assert.False(t, errors.Is(err, context.DeadlineExceeded))
}

func TestRetryUnavailableReadGoesAgainAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(status(503), status(503), status(200))
		resp, err := NewRetry(f, policy.RetryOptions{}).RoundTrip(get(t, context.Background()))
		require.NoError(t, err)
		resp.Body.Close()
		g := gaps(f.seen())
		require.Len(t, g, 2)
		assert.Zero(t, g[0], "the first 503 of a read moves on at once")
		assert.Greater(t, g[1], time.Duration(0), "later ones back off")
	})
}

// TestRetryBudgetQuietClientRecoversFromABrownout: in a one-region
// account with nothing else going on, a caller reading once every 100 ms,
// each read meeting 503, 503 before its 200, gets every 200: the budget
// refills with time (BudgetOptions.PerSecond), not only with successes,
// which alone would starve it by its third call. The waits run on the
// bubble's clock; the account serves from outside the bubble (see
// TestScenarioEndless403_3ReturnsByTheDeadlineWithFewAttempts).
func TestRetryBudgetQuietClientRecoversFromABrownout(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{Regions: []string{"West US 2"}, Now: func() time.Time { return synctestEpoch }})
	defer acct.Close()
	synctest.Test(t, func(t *testing.T) {
		base := newDefaultBase()
		base.DisableKeepAlives = true // no connection waits in the pool, holding the clock still
		c := newChain(t, acct, Options{Base: base})
		mustCreate(t, c, acct, "q")

		const calls = 100
		got := map[int]int{}
		acct.ResetLog()
		for range calls {
			acct.Inject("West US 2", cosmostest.Fault{Status: http.StatusServiceUnavailable, Count: 2, Ops: cosmostest.ReadOps})
			code, _, err := do(t, context.Background(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/q", "")
			require.NoError(t, err)
			got[code]++
			acct.ClearFaults("West US 2") // what a starved call left
			time.Sleep(100 * time.Millisecond)
		}
		reads := entries(acct, func(e cosmostest.Entry) bool { return e.Method == http.MethodGet && e.Path != "/" })
		t.Logf("%d calls: %v, %d reads sent", calls, got, len(reads))
		assert.Equal(t, map[int]int{http.StatusOK: calls}, got, "every call got its 200")
		assert.Equal(t, 3*calls, len(reads), "503, 503, 200 each")
	})
}
