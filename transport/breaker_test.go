package transport

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/policy"
)

func sendTo(t *testing.T, rt http.RoundTripper, host string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+host+"/dbs/d/colls/c/docs/1", nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	if resp != nil {
		resp.Body.Close()
	}
	return resp, err
}

func TestBreakerOpensAfterConsecutive500sAndFailsFast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(status(500))
		b := NewBreaker(f, policy.BreakerOptions{ConsecutiveFailures: 3, OpenTimeout: 10 * time.Second})
		var transitions []string
		b.onTransition = func(ep string, from, to gobreaker.State) {
			transitions = append(transitions, ep+":"+from.String()+">"+to.String())
		}

		for range 3 {
			resp, err := sendTo(t, b, "a:1")
			require.NoError(t, err)
			assert.Equal(t, 500, resp.StatusCode)
		}
		assert.Equal(t, gobreaker.StateOpen, b.State("a:1"))
		assert.Equal(t, []string{"a:1:closed>open"}, transitions)

		opened := time.Now()
		for range 5 {
			_, err := sendTo(t, b, "a:1")
			require.ErrorIs(t, err, ErrCircuitOpen)
			var coe *CircuitOpenError
			require.True(t, errors.As(err, &coe))
			assert.Equal(t, "a:1", coe.Endpoint)
			assert.Equal(t, opened.Add(10*time.Second), coe.Until)
		}
		assert.Equal(t, 3, f.count(), "an open circuit does not touch the network")
	})
}

func TestBreakerHalfOpenProbeClosesAfterRecovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(status(500), status(500), status(200))
		b := NewBreaker(f, policy.BreakerOptions{ConsecutiveFailures: 2, OpenTimeout: 5 * time.Second})
		sendTo(t, b, "a:1")
		sendTo(t, b, "a:1")
		require.Equal(t, gobreaker.StateOpen, b.State("a:1"))

		time.Sleep(5*time.Second + time.Nanosecond) // gobreaker half-opens strictly after the timeout
		resp, err := sendTo(t, b, "a:1")
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, gobreaker.StateClosed, b.State("a:1"))
		assert.Equal(t, 3, f.count())
	})
}

func TestBreakerCircuitsAreIndependentPerEndpoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.answer = func(req *http.Request, _ int) answer {
			if req.URL.Host == "sick:1" {
				return status(500)
			}
			return status(200)
		}
		b := NewBreaker(f, policy.BreakerOptions{ConsecutiveFailures: 2})
		sendTo(t, b, "sick:1")
		sendTo(t, b, "sick:1")
		_, err := sendTo(t, b, "sick:1")
		require.ErrorIs(t, err, ErrCircuitOpen)

		resp, err := sendTo(t, b, "well:1")
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, gobreaker.StateClosed, b.State("well:1"))
	})
}

func TestBreakerIgnoresThrottling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(status(429))
		b := NewBreaker(f, policy.BreakerOptions{ConsecutiveFailures: 2})
		for range 10 {
			resp, err := sendTo(t, b, "a:1")
			require.NoError(t, err)
			assert.Equal(t, 429, resp.StatusCode)
		}
		assert.Equal(t, gobreaker.StateClosed, b.State("a:1"))
		assert.Equal(t, 10, f.count())
	})
}
