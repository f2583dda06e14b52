package bench

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// The facts BENCHMARKS.md relies on, checked by behaviour only (attempts,
// connections, answers), never by timing.

// send makes calls reads with c's client to h, each carrying its number
// in callHeader, and fails t unless every answer has status want. It
// returns the attempts and connections the server saw.
func send(t *testing.T, c contender, h http.Handler, calls, want int) (attempts, conns int64) {
	t.Helper()
	srv, cnt := newServer(t, h)
	client := c.client(t, newBase(t))
	for i := range calls {
		req, err := http.NewRequest(http.MethodGet, srv.URL+docPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(callHeader, strconv.Itoa(i))
		call(t, client, req, want)
	}
	return cnt.requests.Load(), cnt.conns.Load()
}

func TestOutageCostsCosmosrtAboutOneAttemptPerCall(t *testing.T) {
	const calls = 200
	attempts, conns := send(t, cosmosrt, unavailableHandler(), calls, http.StatusServiceUnavailable)
	if attempts > calls*12/10 {
		t.Errorf("%d attempts for %d calls, want at most %d", attempts, calls, calls*12/10)
	}
	if conns != 1 {
		t.Errorf("%d connections, want 1 (every discarded answer drained)", conns)
	}
}

func TestOutageWithoutBudgetCostsOnePlusMaxRetries(t *testing.T) {
	const calls = 20
	for _, c := range outageContenders {
		if c.name == cosmosrt.name {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			attempts, _ := send(t, c, unavailableHandler(), calls, http.StatusServiceUnavailable)
			if want := int64(calls * (1 + maxRetries)); attempts != want {
				t.Errorf("%d attempts for %d calls, want %d", attempts, calls, want)
			}
		})
	}
}

func TestOutageConnections(t *testing.T) {
	const calls = 20
	t.Run("retryablehttp closes idle connections after each call that runs out of retries", func(t *testing.T) {
		if _, conns := send(t, retryable, unavailableHandler(), calls, http.StatusServiceUnavailable); conns != calls {
			t.Errorf("%d connections for %d calls, want %d", conns, calls, calls)
		}
	})
	t.Run("failsafego does not close the answers it retries", func(t *testing.T) {
		if _, conns := send(t, failsafe, unavailableHandler(), calls, http.StatusServiceUnavailable); conns < calls*maxRetries {
			t.Errorf("%d connections for %d calls, want at least %d", conns, calls, calls*maxRetries)
		}
	})
}

func TestThrottledOnceTakesTwoAttempts(t *testing.T) {
	const calls = 20
	for _, c := range retriers {
		t.Run(c.name, func(t *testing.T) {
			th := &throttleOnce{hintName: "x-ms-retry-after-ms", hintValue: "1"}
			attempts, conns := send(t, c, th, calls, http.StatusOK)
			if attempts != 2*calls {
				t.Errorf("%d attempts for %d calls, want %d", attempts, calls, 2*calls)
			}
			wantConns := int64(1)
			if c.name == failsafe.name {
				wantConns = 1 + calls // one connection left behind by each discarded 429
			}
			if conns != wantConns {
				t.Errorf("%d connections, want %d", conns, wantConns)
			}
		})
	}
}

// A hint far longer than the call's deadline tells who reads
// x-ms-retry-after-ms: cosmosrt returns the 429 at once; a library that
// ignores the header retries after its own backoff and gets the 200.
func TestMillisecondHint(t *testing.T) {
	th := func() http.Handler {
		return &throttleOnce{hintName: "x-ms-retry-after-ms", hintValue: strconv.Itoa(int(time.Hour / time.Millisecond))}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct {
		c          contender
		attempts   int64
		wantStatus int
	}{
		{cosmosrt, 1, http.StatusTooManyRequests},
		{retryable, 2, http.StatusOK},
		{failsafe, 2, http.StatusOK},
	} {
		t.Run(tc.c.name, func(t *testing.T) {
			srv, cnt := newServer(t, th())
			client := tc.c.client(t, newBase(t))
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+docPath, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set(callHeader, "1")
			call(t, client, req, tc.wantStatus)
			if got := cnt.requests.Load(); got != tc.attempts {
				t.Errorf("%d attempts, want %d", got, tc.attempts)
			}
		})
	}
}

// A Retry-After (seconds) longer than the deadline: every library reads it
// and makes no second attempt; cosmosrt returns the 429 at once, the peers
// wait for the deadline and return its error.
func TestRetryAfterSeconds(t *testing.T) {
	for _, c := range retriers {
		t.Run(c.name, func(t *testing.T) {
			srv, cnt := newServer(t, &throttleOnce{hintName: "Retry-After", hintValue: "3600"})
			client := c.client(t, newBase(t))
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+docPath, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set(callHeader, "1")
			resp, err := client.Do(req)
			if got := cnt.requests.Load(); got != 1 {
				t.Errorf("%d attempts, want 1", got)
			}
			if c.name == cosmosrt.name {
				if err != nil {
					t.Fatalf("cosmosrt: error %v, want the 429", err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusTooManyRequests {
					t.Errorf("status %d, want 429", resp.StatusCode)
				}
				return
			}
			if resp != nil {
				resp.Body.Close()
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v, want the deadline's", err)
			}
		})
	}
}
