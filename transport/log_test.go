package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/policy"
)

// logBuffer is where a chain's Logger writes its JSON entries; it is safe
// for concurrent use, as calls end at once.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logEntry is a decoded entry.
type logEntry map[string]any

// entries decodes the entries written so far.
func (b *logBuffer) entries(t *testing.T) []logEntry {
	t.Helper()
	var out []logEntry
	dec := json.NewDecoder(strings.NewReader(b.String()))
	for dec.More() {
		var e logEntry
		require.NoError(t, dec.Decode(&e))
		out = append(out, e)
	}
	return out
}

// attempts returns the entry's attempts in order, 1 first.
func (e logEntry) attempts(t *testing.T) []map[string]any {
	t.Helper()
	group, ok := e["attempts"].(map[string]any)
	require.True(t, ok, "attempts is a group: %v", e["attempts"])
	out := make([]map[string]any, len(group))
	for i := range out {
		a, ok := group[strconv.Itoa(i+1)].(map[string]any)
		require.True(t, ok, "attempt %d in %v", i+1, group)
		out[i] = a
	}
	return out
}

// newLoggedChain is newChain with a JSON logger writing to the returned
// buffer.
func newLoggedChain(t *testing.T, acct *cosmostest.Account, o Options) (*http.Client, *logBuffer) {
	t.Helper()
	buf := new(logBuffer)
	o.Logger = slog.New(slog.NewJSONHandler(buf, nil))
	return newChain(t, acct, o), buf
}

// TestLogACallThatMeets429sUntilItGivesUp: the 429 the caller gets back
// after the chain's 1 + 9 attempts is logged once, as failed, with every
// attempt, though the call carried no WithDiagnostics.
func TestLogACallThatMeets429sUntilItGivesUp(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	c, logs := newLoggedChain(t, acct, Options{})
	mustCreate(t, c, acct, "x")
	first := acct.Regions()[0]
	acct.Inject(first, cosmostest.Fault{Status: 429, SubStatus: 3200, Header: hint("1"), Ops: cosmostest.ReadOps,
		Count: 0})

	code, _, err := do(t, context.Background(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/x", "")
	require.NoError(t, err)
	require.Equal(t, http.StatusTooManyRequests, code, "the last response, as it came")

	got := logs.entries(t)
	require.Len(t, got, 1, "one entry per call; the create before was not logged")
	e := got[0]
	assert.Equal(t, "WARN", e["level"])
	assert.Equal(t, "cosmosrt: failed call", e["msg"])
	assert.Equal(t, "read_item", e["operation"])
	assert.Equal(t, "d", e["database"])
	assert.Equal(t, "c", e["container"])
	assert.Equal(t, 429.0, e["status"])
	assert.Equal(t, 3200.0, e["sub_status"])
	assert.Equal(t, 10.0, e["attempt_count"])
	assert.Positive(t, e["duration"])

	reads := entries(acct, func(e cosmostest.Entry) bool { return e.Path == "/dbs/d/colls/c/docs/x" && !e.Write })
	require.Len(t, reads, 10)
	attempts := e.attempts(t)
	require.Len(t, attempts, 10)
	for i, a := range attempts {
		assert.Equal(t, reads[i].Region, a["region"], "attempt %d", i+1)
		assert.Equal(t, 429.0, a["status"], "attempt %d", i+1)
		assert.Equal(t, 3200.0, a["sub_status"], "attempt %d", i+1)
		if i < 9 {
			assert.Equal(t, "throttled", a["retry"], "attempt %d", i+1)
			assert.GreaterOrEqual(t, a["wait"], float64(time.Millisecond), "attempt %d waited the hint", i+1)
		} else {
			assert.NotContains(t, a, "retry", "the last attempt ended the call")
		}
	}
	assertNoSecret(t, logs.String(), acct)
}

// assertNoSecret checks that a log holds no key, signature or URL.
func assertNoSecret(t *testing.T, log string, acct *cosmostest.Account) {
	t.Helper()
	assert.NotContains(t, log, acct.Key())
	for _, s := range []string{"type=master", "type%3Dmaster", "sig", "Authorization", "authorization", "http://", "127.0.0.1"} {
		assert.NotContains(t, log, s)
	}
}

// TestLogASlowCall: a read slower than PointLatency is logged as slow, at
// Info, with its attempt's duration; a query under OtherLatency is not.
func TestLogASlowCall(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	c, logs := newLoggedChain(t, acct, Options{Log: policy.LogOptions{PointLatency: 100 * time.Millisecond, OtherLatency: time.Minute}})
	mustCreate(t, c, acct, "x")
	acct.Inject(acct.Regions()[0], cosmostest.Fault{Delay: 150 * time.Millisecond, Ops: cosmostest.ReadOps, Count: 1})

	code, _, err := do(t, context.Background(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/x", "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	acct.Inject(acct.Regions()[0], cosmostest.Fault{Delay: 150 * time.Millisecond, Ops: cosmostest.ReadOps, Count: 1})
	code, _, err = do(t, context.Background(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs", "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)

	got := logs.entries(t)
	require.Len(t, got, 1, "the slow read; not the read feed, under OtherLatency")
	e := got[0]
	assert.Equal(t, "INFO", e["level"])
	assert.Equal(t, "cosmosrt: slow call", e["msg"])
	assert.Equal(t, "read_item", e["operation"])
	assert.Equal(t, 200.0, e["status"])
	assert.GreaterOrEqual(t, e["duration"], float64(150*time.Millisecond))
	attempts := e.attempts(t)
	require.Len(t, attempts, 1)
	assert.Equal(t, acct.Regions()[0], attempts[0]["region"])
	assert.GreaterOrEqual(t, attempts[0]["duration"], float64(150*time.Millisecond))
	assert.Equal(t, 1.0, attempts[0]["request_charge"])
}

// TestLogLeavesOutAnswersApplicationsExpect: 404, 409 and 412 without a
// sub-status are answers, not failures; the same statuses with one are
// failures, as is a 400.
func TestLogLeavesOutAnswersApplicationsExpect(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	c, logs := newLoggedChain(t, acct, Options{})
	mustCreate(t, c, acct, "x")
	w := acct.WriteRegion()
	send := func(method, path, body string, want int) {
		t.Helper()
		code, _, err := do(t, context.Background(), c, acct, method, path, body)
		require.NoError(t, err)
		require.Equal(t, want, code, "%s %s", method, path)
	}

	send(http.MethodGet, "/dbs/d/colls/c/docs/absent", "", http.StatusNotFound)
	send(http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"x"}`, http.StatusConflict)
	acct.Inject(w, cosmostest.Fault{Status: http.StatusPreconditionFailed, Ops: cosmostest.WriteOps, Count: 1})
	send(http.MethodPut, "/dbs/d/colls/c/docs/x", `{"id":"x"}`, http.StatusPreconditionFailed)
	require.Empty(t, logs.entries(t), "404, 409 and 412 without a sub-status")

	acct.Inject(acct.Regions()[0], cosmostest.Fault{Status: http.StatusNotFound, SubStatus: 1003, Ops: cosmostest.ReadOps, Count: 1})
	send(http.MethodGet, "/dbs/d/colls/c/docs/x", "", http.StatusNotFound)
	acct.Inject(acct.Regions()[0], cosmostest.Fault{Status: http.StatusBadRequest, Ops: cosmostest.ReadOps, Count: 1})
	send(http.MethodGet, "/dbs/d/colls/c/docs/x", "", http.StatusBadRequest)

	got := logs.entries(t)
	require.Len(t, got, 2)
	assert.Equal(t, []any{404.0, 1003.0}, []any{got[0]["status"], got[0]["sub_status"]})
	assert.Equal(t, 400.0, got[1]["status"])
	for _, e := range got {
		assert.Equal(t, "cosmosrt: failed call", e["msg"])
	}
}

// TestLogAStormOfFailedCallsIsRateLimited: 1000 failed calls at once write
// at most what the token bucket allows over the storm, and the entries
// left out are counted: once a token comes back, the next entry says how
// many, so that every failed call is either written or counted.
func TestLogAStormOfFailedCallsIsRateLimited(t *testing.T) {
	const (
		calls   = 1000
		workers = 8
		rate    = 10.0
		burst   = 5
	)
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	c, logs := newLoggedChain(t, acct, Options{Log: policy.LogOptions{Rate: rate, Burst: burst}})
	mustCreate(t, c, acct, "x")
	acct.Inject(acct.Regions()[0], cosmostest.Fault{Status: http.StatusServiceUnavailable, Ops: cosmostest.ReadOps, Count: 0})
	acct.Inject(acct.Regions()[1], cosmostest.Fault{Status: http.StatusServiceUnavailable, Ops: cosmostest.ReadOps, Count: 0})
	acct.Inject(acct.Regions()[2], cosmostest.Fault{Status: http.StatusServiceUnavailable, Ops: cosmostest.ReadOps, Count: 0})
	fail := func() {
		code, _, err := do(t, context.Background(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/x", "")
		require.NoError(t, err)
		require.Equal(t, http.StatusServiceUnavailable, code)
	}

	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= calls {
				fail()
			}
		})
	}
	wg.Wait()
	storm := time.Since(start)
	written := len(logs.entries(t))
	t.Logf("%d failed calls in %s: %d entries", calls, storm.Round(time.Millisecond), written)
	assert.GreaterOrEqual(t, written, burst, "the burst goes through")
	assert.LessOrEqual(t, float64(written), burst+rate*storm.Seconds(), "at most the bucket's allowance")

	// One more failed call at a time until one is written: it counts
	// those left out since the last entry.
	sent := calls
	deadline := time.Now().Add(10 * time.Second)
	for len(logs.entries(t)) == written {
		require.True(t, time.Now().Before(deadline), "a token comes back within 1/rate")
		fail()
		sent++
	}
	got := logs.entries(t)
	total := len(got)
	for _, e := range got {
		if s, ok := e["suppressed"]; ok {
			total += int(s.(float64))
		}
	}
	assert.Equal(t, sent, total, "every failed call is written or counted")
	assert.Positive(t, got[len(got)-1]["suppressed"])
}

// TestLogEntryHasItsOwnCallsAttempts: a call that carries WithDiagnostics
// shared with an earlier call logs only its own attempts, and the
// diagnostics still get every attempt.
func TestLogEntryHasItsOwnCallsAttempts(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	c, logs := newLoggedChain(t, acct, Options{})
	mustCreate(t, c, acct, "x")
	ctx, diag := WithDiagnostics(context.Background())
	code, _, err := do(t, ctx, c, acct, http.MethodGet, "/dbs/d/colls/c/docs/x", "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	acct.Inject(acct.Regions()[0], cosmostest.Fault{Status: 503, Ops: cosmostest.ReadOps, Count: 1})
	acct.Inject(acct.Regions()[1], cosmostest.Fault{Status: 400, Ops: cosmostest.ReadOps, Count: 1})
	code, _, err = do(t, ctx, c, acct, http.MethodGet, "/dbs/d/colls/c/docs/x", "")
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, code)

	assert.Len(t, diag.Attempts(), 3, "the diagnostics have both calls' attempts")
	got := logs.entries(t)
	require.Len(t, got, 1)
	attempts := got[0].attempts(t)
	require.Len(t, attempts, 2, "the entry has its call's")
	assert.Equal(t, []any{503.0, 400.0}, []any{attempts[0]["status"], attempts[1]["status"]})
	assert.Equal(t, "unavailable", attempts[0]["retry"])
}

// TestLogACallThatEndsWithAnError: a read dropped in every region ends
// with the chain's error, logged with its error type, and each attempt's.
func TestLogACallThatEndsWithAnError(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	c, logs := newLoggedChain(t, acct, Options{})
	mustCreate(t, c, acct, "x")
	for _, r := range acct.Regions() {
		acct.Inject(r, cosmostest.Fault{Drop: true, Ops: cosmostest.ReadOps, Count: 0})
	}
	_, _, err := do(t, context.Background(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/x", "")
	var ae *AttemptError
	require.ErrorAs(t, err, &ae)

	got := logs.entries(t)
	require.Len(t, got, 1)
	e := got[0]
	assert.Equal(t, "cosmosrt: failed call", e["msg"])
	assert.NotContains(t, e, "status")
	assert.Equal(t, ae.ErrorType(), e["error_type"])
	assert.Contains(t, e["error"], "transport: attempt failed")
	attempts := e.attempts(t)
	require.Len(t, attempts, ae.Attempts)
	for i, a := range attempts {
		assert.NotEmpty(t, a["error_type"], "attempt %d", i+1)
		assert.NotContains(t, a, "status", "attempt %d", i+1)
	}
	assert.NotContains(t, logs.String(), acct.Key())
	assert.NotContains(t, logs.String(), "sig")
}

// TestLogWithoutALoggerWritesNothing: the zero Options log nothing, and a
// Logger that is not enabled at Warn gets nothing either.
func TestLogWithoutALoggerWritesNothing(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	buf := new(logBuffer)
	quiet := slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelError}))
	c := newChain(t, acct, Options{Logger: quiet})
	acct.Inject(acct.Regions()[0], cosmostest.Fault{Status: 400, Ops: cosmostest.ReadOps, Count: 1})
	code, _, err := do(t, context.Background(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/x", "")
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, code)
	assert.Empty(t, buf.String())
}

// TestLogAHedgedRead: both arms of a hedged read are in its entry, the
// slow one cancelled when the hedge won.
func TestLogAHedgedRead(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)
	buf := new(logBuffer)
	c := hedgeChain(t, acct, Options{
		Hedge:  policy.HedgeOptions{Threshold: 20 * time.Millisecond, Step: time.Hour},
		Logger: slog.New(slog.NewJSONHandler(buf, nil)),
		Log:    policy.LogOptions{PointLatency: 10 * time.Millisecond},
	})
	acct.Inject("East US", cosmostest.Fault{Delay: time.Minute, Ops: cosmostest.ReadOps, Count: 1})

	code, _, err := do(t, t.Context(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)

	var got []logEntry
	for _, e := range buf.entries(t) {
		if e["operation"] == "read_item" { // the rig's create may be slow too on a loaded machine
			got = append(got, e)
		}
	}
	require.Len(t, got, 1)
	assert.Equal(t, "cosmosrt: slow call", got[0]["msg"])
	attempts := got[0].attempts(t)
	require.Len(t, attempts, 2, "one attempt per arm")
	assert.Equal(t, "East US", attempts[0]["region"])
	assert.Equal(t, "canceled", attempts[0]["error_type"])
	assert.Equal(t, "North Europe", attempts[1]["region"])
	assert.Equal(t, 200.0, attempts[1]["status"])
}
