package instrument

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/policy"
)

func TestFailedIsJavasDefinitionWithAFinal429(t *testing.T) {
	for _, c := range []struct {
		status, sub int
		err         error
		want        bool
	}{
		{200, 0, nil, false},
		{201, 0, nil, false},
		{304, 0, nil, false},
		{400, 0, nil, true},
		{401, 0, nil, true},
		{403, 3, nil, true},
		{404, 0, nil, false},
		{404, 1002, nil, true},
		{404, 1003, nil, true},
		{408, 0, nil, true},
		{409, 0, nil, false},
		{409, 1, nil, true},
		{412, 0, nil, false},
		{413, 0, nil, true},
		{429, 0, nil, true},
		{429, 3200, nil, true}, // Java: not a failure; here the chain's retries ran out
		{449, 0, nil, true},
		{500, 0, nil, true},
		{503, 21008, nil, true},
		{0, 0, errors.New("boom"), true},
		{0, 0, context.Canceled, true},
	} {
		hasResp := c.err == nil
		assert.Equal(t, c.want, failed(hasResp, c.status, c.sub, c.err), "%d.%d %v", c.status, c.sub, c.err)
	}
}

func TestLogRateIsATokenBucketThatCountsWhatItLeavesOut(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	l := newCallLog(slog.New(slog.DiscardHandler), policy.LogOptions{Rate: 2, Burst: 3}, func() time.Time { return now })
	take := func() (int, bool) { return l.allow() }

	for i := range 3 {
		s, ok := take()
		require.True(t, ok, "burst entry %d", i)
		assert.Zero(t, s)
	}
	for range 5 {
		_, ok := take()
		assert.False(t, ok, "the bucket is empty")
	}
	now = now.Add(499 * time.Millisecond)
	_, ok := take()
	assert.False(t, ok, "not yet a whole token")
	now = now.Add(time.Millisecond)
	s, ok := take()
	require.True(t, ok, "one token after 1/Rate")
	assert.Equal(t, 6, s, "the entries left out since the last one written")
	s, ok = take()
	assert.False(t, ok)
	assert.Zero(t, s)

	now = now.Add(time.Hour)
	for i := range 3 {
		s, ok := take()
		require.True(t, ok, "refilled to Burst, no more: %d", i)
		assert.Equal(t, map[int]int{0: 1}[i], s)
	}
	_, ok = take()
	assert.False(t, ok)

	unlimited := newCallLog(slog.New(slog.DiscardHandler), policy.LogOptions{Rate: -1}, func() time.Time { return now })
	for range 1000 {
		_, ok := unlimited.allow()
		require.True(t, ok, "a negative Rate: no limit")
	}
	one := newCallLog(slog.New(slog.DiscardHandler), policy.LogOptions{Burst: -1}, func() time.Time { return now })
	_, ok = one.allow()
	assert.True(t, ok)
	_, ok = one.allow()
	assert.False(t, ok, "a negative Burst: 1")
}

func TestLogOptionsDefaults(t *testing.T) {
	l := newCallLog(slog.New(slog.DiscardHandler), policy.LogOptions{}, time.Now)
	assert.Equal(t, time.Second, l.point, "Java's DEFAULT_POINT_OPERATION_LATENCY_THRESHOLD")
	assert.Equal(t, 3*time.Second, l.other, "Java's DEFAULT_NON_POINT_OPERATION_LATENCY_THRESHOLD")
	assert.Equal(t, 1000.0, l.charge, "Java's DEFAULT_REQUEST_CHARGE_THRESHOLD")
	assert.Equal(t, 5.0, l.rate)
	assert.Equal(t, 10.0, l.burst)
	assert.Nil(t, newCallLog(nil, policy.LogOptions{}, time.Now), "no logger: no log")
}

// logRig is a Telemetry whose log is written as JSON to buf, on a clock
// the test moves.
type logRig struct {
	*rig
	buf bytes.Buffer
}

func newLogRig(t *testing.T, o policy.LogOptions) *logRig {
	r := &logRig{}
	r.rig = newRig(t, Options{Logger: slog.New(slog.NewJSONHandler(&r.buf, nil)), Log: o})
	return r
}

// entries decodes the entries written so far.
func (r *logRig) entries(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.buf.Bytes()))
	for dec.More() {
		var e map[string]any
		require.NoError(t, dec.Decode(&e))
		out = append(out, e)
	}
	return out
}

func TestLogEntryOfACallThatRanOutOfThrottlingRetries(t *testing.T) {
	r := newLogRig(t, policy.LogOptions{})
	req := mustRequest(t, http.MethodPost, "https://acct.documents.azure.com/dbs/shop/colls/orders/docs")
	req.Header.Set("Authorization", secretAuth)

	_, c := startCall(r.tel, context.Background(), req)
	throttled := respWith(429, "x-ms-substatus", "3200", "x-ms-request-charge", "0.5")
	actx := c.Attempt(context.Background(), 0, "West US", false)
	r.now = r.now.Add(3 * time.Millisecond)
	c.Answered(actx, throttled, nil, true, reasonString("throttled"), 10*time.Millisecond)
	r.now = r.now.Add(10 * time.Millisecond)
	actx = c.Attempt(context.Background(), 1, "West US", false)
	r.now = r.now.Add(2 * time.Millisecond)
	c.Answered(actx, throttled, nil, false, nil, 0)
	require.NoError(t, c.End(throttled, nil))

	got := r.entries(t)
	require.Len(t, got, 1)
	e := got[0]
	assert.Equal(t, "WARN", e["level"])
	assert.Equal(t, "cosmosrt: failed call", e["msg"])
	assert.Equal(t, "create_item", e["operation"])
	assert.Equal(t, "shop", e["database"])
	assert.Equal(t, "orders", e["container"])
	assert.Equal(t, float64(15*time.Millisecond), e["duration"])
	assert.Equal(t, 1.0, e["request_charge"])
	assert.Equal(t, 429.0, e["status"])
	assert.Equal(t, 3200.0, e["sub_status"])
	assert.Equal(t, 2.0, e["attempt_count"])
	assert.NotContains(t, e, "suppressed")
	assert.Equal(t, map[string]any{
		"1": map[string]any{"region": "West US", "duration": float64(3 * time.Millisecond), "status": 429.0,
			"sub_status": 3200.0, "request_charge": 0.5, "retry": "throttled", "wait": float64(10 * time.Millisecond)},
		"2": map[string]any{"region": "West US", "duration": float64(2 * time.Millisecond), "status": 429.0,
			"sub_status": 3200.0, "request_charge": 0.5},
	}, e["attempts"])
	assert.NotContains(t, r.buf.String(), "SECRETSIGNATURE")
	assert.NotContains(t, r.buf.String(), "sig")
	assert.NotContains(t, r.buf.String(), "acct.documents.azure.com", "no URL or host beyond the regions")
}

type reasonString string

func (s reasonString) String() string { return string(s) }

func TestLogEntryOfACallThatEndedWithAnError(t *testing.T) {
	r := newLogRig(t, policy.LogOptions{})
	req := mustRequest(t, http.MethodGet, "https://acct.documents.azure.com/dbs/shop/colls/orders/docs/1")
	_, c := startCall(r.tel, context.Background(), req)
	actx := c.Attempt(context.Background(), 0, "West US", false)
	c.Answered(actx, nil, context.DeadlineExceeded, false, nil, 0)
	err := c.End(nil, fmt.Errorf("transport: attempt 1: %w", context.DeadlineExceeded))
	require.Error(t, err)

	got := r.entries(t)
	require.Len(t, got, 1)
	e := got[0]
	assert.Equal(t, "cosmosrt: failed call", e["msg"])
	assert.Equal(t, "read_item", e["operation"])
	assert.Equal(t, "timeout", e["error_type"])
	assert.Equal(t, err.Error(), e["error"], "the error the caller got, attempts named")
	assert.NotContains(t, e, "status")
	assert.Equal(t, map[string]any{"1": map[string]any{"region": "West US", "duration": 0.0, "error_type": "timeout"}}, e["attempts"])
}

func TestLogJudgesSlowAndCostlyByOperation(t *testing.T) {
	const (
		point = "https://acct.documents.azure.com/dbs/d/colls/c/docs/1"
		query = "https://acct.documents.azure.com/dbs/d/colls/c/docs"
	)
	for _, c := range []struct {
		name   string
		o      policy.LogOptions
		url    string
		took   time.Duration
		charge string
		want   string // the message, "" for no entry
	}{
		{"fast point read", policy.LogOptions{}, point, 999 * time.Millisecond, "1", ""},
		{"slow point read", policy.LogOptions{}, point, 1001 * time.Millisecond, "1", "cosmosrt: slow call"},
		{"read feed under the other threshold", policy.LogOptions{}, query, 2 * time.Second, "1", ""},
		{"slow read feed", policy.LogOptions{}, query, 3001 * time.Millisecond, "1", "cosmosrt: slow call"},
		{"costly read", policy.LogOptions{}, point, time.Millisecond, "1000.5", "cosmosrt: costly call"},
		{"at the charge threshold", policy.LogOptions{}, point, time.Millisecond, "1000", ""},
		{"point latency off", policy.LogOptions{PointLatency: -1}, point, time.Hour, "1", ""},
		{"other latency off", policy.LogOptions{OtherLatency: -1}, query, time.Hour, "1", ""},
		{"charge off", policy.LogOptions{RequestCharge: -1}, point, time.Millisecond, "1e6", ""},
		{"small thresholds", policy.LogOptions{PointLatency: time.Millisecond, RequestCharge: 0.5}, point, 2 * time.Millisecond, "1", "cosmosrt: slow call"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newLogRig(t, c.o)
			_, call := startCall(r.tel, context.Background(), mustRequest(t, http.MethodGet, c.url))
			call.Attempt(context.Background(), 0, "West US", false)
			r.now = r.now.Add(c.took)
			require.NoError(t, call.End(respWith(200, "x-ms-request-charge", c.charge), nil))
			got := r.entries(t)
			if c.want == "" {
				assert.Empty(t, got)
				return
			}
			require.Len(t, got, 1)
			assert.Equal(t, c.want, got[0]["msg"])
			assert.Equal(t, "INFO", got[0]["level"])
		})
	}
}

func TestLogEntriesBeyondTheRateAreCountedInTheNextOne(t *testing.T) {
	r := newLogRig(t, policy.LogOptions{Rate: 1, Burst: 2})
	fail := func() {
		_, c := startCall(r.tel, context.Background(), mustRequest(t, http.MethodGet, "https://acct.documents.azure.com/dbs/d/colls/c/docs/1"))
		c.Attempt(context.Background(), 0, "West US", false)
		c.End(respWith(503), nil)
	}
	for range 100 {
		fail()
	}
	require.Len(t, r.entries(t), 2, "the burst")
	r.now = r.now.Add(time.Second)
	fail()
	got := r.entries(t)
	require.Len(t, got, 3)
	assert.Equal(t, 98.0, got[2]["suppressed"])
}

func TestLogEntryReadsInText(t *testing.T) {
	var buf bytes.Buffer
	r := newRig(t, Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	_, c := startCall(r.tel, context.Background(), mustRequest(t, http.MethodGet, "https://acct.documents.azure.com/dbs/d/colls/c/docs/1"))
	actx := c.Attempt(context.Background(), 0, "West US 2", false)
	c.Answered(actx, respWith(503, "x-ms-substatus", "21008"), nil, true, reasonString("unavailable"), 0)
	actx = c.Attempt(context.Background(), 1, "East US", false)
	c.Answered(actx, respWith(503), nil, false, nil, 0)
	c.End(respWith(503), nil)
	line := buf.String()
	for _, want := range []string{
		`level=WARN msg="cosmosrt: failed call" operation=read_item database=d container=c`,
		` status=503 sub_status=0 attempt_count=2 attempts.1.region="West US 2" attempts.1.duration=0s attempts.1.status=503 attempts.1.sub_status=21008`,
		` attempts.1.retry=unavailable attempts.1.wait=0s attempts.2.region="East US"`,
	} {
		assert.Contains(t, line, want)
	}
	assert.Equal(t, 1, strings.Count(line, "\n"), "one line per call")
}

// A logger that writes nothing at Warn makes the log off: nothing is
// recorded for it, so a call without a tracer, a meter or diagnostics has
// no Call at all.
func TestLogOffAtWarnRecordsNothing(t *testing.T) {
	quiet := slog.New(slog.NewJSONHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelError}))
	tel := New(Options{Logger: quiet})
	_, c := startCall(tel, context.Background(), mustRequest(t, http.MethodGet, "https://acct.documents.azure.com/dbs/d/colls/c/docs/1"))
	assert.Nil(t, c)

	tel = New(Options{Logger: slog.New(slog.DiscardHandler)})
	_, c = startCall(tel, context.Background(), mustRequest(t, http.MethodGet, "https://acct.documents.azure.com/dbs/d/colls/c/docs/1"))
	assert.Nil(t, c, "slog.DiscardHandler is enabled at no level")

	tel = New(Options{Logger: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))})
	_, c = startCall(tel, context.Background(), mustRequest(t, http.MethodGet, "https://acct.documents.azure.com/dbs/d/colls/c/docs/1"))
	assert.NotNil(t, c, "a logger enabled at Warn records the call")
}
