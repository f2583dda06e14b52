package instrument

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// clock is a fake clock the tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// quiet is a Telemetry that records no span and no metric.
func quiet(clk *clock) *Telemetry {
	return New(Options{TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider(),
		now: clk.Now})
}

func TestDiagnosticsWithNothingElseRecorded(t *testing.T) {
	clk := newClock()
	tel := quiet(clk)
	var d Diagnostics
	ctx := WithDiagnostics(context.Background(), &d)
	req := mustRequest(t, http.MethodGet, "https://acct.documents.azure.com/dbs/d/colls/c/docs/1")

	_, c := startCall(tel, ctx, req)
	require.NotNil(t, c, "diagnostics are recorded without a tracer or meter")
	t0 := clk.Now()
	first := c.Attempt(ctx, 0, "West US", false)
	clk.advance(10 * time.Millisecond)
	c.Answered(first, respWith(503, "x-ms-substatus", "21008", "x-ms-request-charge", "0.5"), nil, true, reason("unavailable"), 100*time.Millisecond)
	clk.advance(100 * time.Millisecond)
	second := c.Attempt(ctx, 1, "East US", false)
	clk.advance(5 * time.Millisecond)
	ok := respWith(200, "x-ms-request-charge", "1")
	c.Answered(second, ok, nil, false, nil, 0)
	c.End(ok, nil)

	assert.Equal(t, []attemptDiagnostics{
		{Region: "West US", Start: t0, Duration: 10 * time.Millisecond, Status: 503, SubStatus: 21008,
			RequestCharge: 0.5, RetryReason: "unavailable", Wait: 100 * time.Millisecond},
		{Region: "East US", Start: t0.Add(110 * time.Millisecond), Duration: 5 * time.Millisecond, Status: 200,
			RequestCharge: 1},
	}, d.Attempts())
	assert.Equal(t, 1.5, d.RequestCharge())
}

func TestDiagnosticsNameAnAttemptsError(t *testing.T) {
	clk := newClock()
	tel := quiet(clk)
	var d Diagnostics
	ctx := WithDiagnostics(context.Background(), &d)
	req := mustRequest(t, http.MethodGet, "https://a.example/dbs/d/colls/c/docs/1")
	rt := tel.Attempts(failing{fmt.Errorf("read: %w", io.EOF)})

	ctx, c := startCall(tel, ctx, req)
	actx := c.Attempt(ctx, 0, "West US", false)
	_, err := rt.RoundTrip(req.WithContext(actx))
	require.Error(t, err)
	c.Answered(actx, nil, err, false, nil, 0)
	c.End(nil, err)

	got := d.Attempts()
	require.Len(t, got, 1)
	assert.Equal(t, "eof", got[0].ErrorType)
	assert.Zero(t, got[0].Status)
}

// circuitOpen is an error that names itself, as the transport's refusal
// by an open circuit does.
type circuitOpen struct{}

func (circuitOpen) Error() string     { return "transport: circuit open for a.example" }
func (circuitOpen) ErrorType() string { return "circuit_open" }

// unsigned is a failure to prepare a request that names itself.
type unsigned struct{}

func (unsigned) Error() string     { return "transport: signing attempt 1: no key" }
func (unsigned) ErrorType() string { return "signing" }

func TestDiagnosticsNameARefusalTheWireNeverSaw(t *testing.T) {
	tel := quiet(newClock())
	var d Diagnostics
	ctx := WithDiagnostics(context.Background(), &d)
	_, c := startCall(tel, ctx, mustRequest(t, http.MethodGet, "https://a.example/dbs/d/colls/c/docs/1"))
	actx := c.Attempt(ctx, 0, "West US", false)
	c.Answered(actx, nil, circuitOpen{}, false, nil, 0)
	c.End(nil, circuitOpen{})
	assert.Equal(t, "circuit_open", d.Attempts()[0].ErrorType)

	// An attempt that never got an answer (its request could not be
	// prepared) is named after the failure the call ends with.
	var d2 Diagnostics
	ctx = WithDiagnostics(context.Background(), &d2)
	_, c = startCall(tel, ctx, mustRequest(t, http.MethodGet, "https://a.example/dbs/d/colls/c/docs/1"))
	c.Attempt(ctx, 0, "West US", false)
	c.End(nil, unsigned{})
	assert.Equal(t, "signing", d2.Attempts()[0].ErrorType)
}

// TestDiagnosticsMatchHedgedAnswersToTheirAttempts: two arms in flight
// answer in the other order than they started; each answer lands on its
// own attempt.
func TestDiagnosticsMatchHedgedAnswersToTheirAttempts(t *testing.T) {
	clk := newClock()
	tel := quiet(clk)
	var d Diagnostics
	ctx := WithDiagnostics(context.Background(), &d)
	req := mustRequest(t, http.MethodGet, "https://a.example/dbs/d/colls/c/docs/1")
	ctx, c := startCall(tel, ctx, req)

	slow := c.Attempt(ctx, 0, "West US", false)
	clk.advance(20 * time.Millisecond)
	fast := c.Attempt(ctx, 0, "East US", false)
	clk.advance(5 * time.Millisecond)
	won, err := tel.Attempts(answering(200)).RoundTrip(req.WithContext(fast))
	require.NoError(t, err)
	c.Answered(fast, won, nil, false, nil, 0)
	clk.advance(time.Millisecond)
	_, err = tel.Attempts(failing{context.Canceled}).RoundTrip(req.WithContext(slow))
	require.Error(t, err)
	c.Answered(slow, nil, err, false, nil, 0)
	c.End(won, nil)

	got := d.Attempts()
	require.Len(t, got, 2)
	assert.Equal(t, "West US", got[0].Region)
	assert.Equal(t, "canceled", got[0].ErrorType)
	assert.Equal(t, 26*time.Millisecond, got[0].Duration)
	assert.Equal(t, "East US", got[1].Region)
	assert.Equal(t, 200, got[1].Status)
	assert.Equal(t, 5*time.Millisecond, got[1].Duration)

	// Without the attempt stage, an answer lands on its own attempt.
	var d2 Diagnostics
	ctx = WithDiagnostics(context.Background(), &d2)
	_, c = startCall(tel, ctx, req)
	first := c.Attempt(ctx, 0, "West US", false)
	c.Attempt(ctx, 0, "East US", false)
	c.Answered(first, &http.Response{StatusCode: 404, Header: http.Header{}}, nil, false, nil, 0)
	got = d2.Attempts()
	assert.Equal(t, 404, got[0].Status, "the answer of the first attempt")
	assert.Zero(t, got[1].Status, "still in flight")
}

func TestDiagnosticsKeepTheLastAttemptsAndCountAllCharges(t *testing.T) {
	tel := quiet(newClock())
	var d Diagnostics
	ctx := WithDiagnostics(context.Background(), &d)
	req := mustRequest(t, http.MethodGet, "https://a.example/dbs/d/colls/c/docs/1")
	const calls = maxDiagnosticAttempts + 10
	for i := range calls {
		_, c := startCall(tel, ctx, req)
		actx := c.Attempt(ctx, 0, fmt.Sprint(i), false)
		resp := respWith(200, "x-ms-request-charge", "2")
		c.Answered(actx, resp, nil, false, nil, 0)
		c.End(resp, nil)
	}
	got := d.Attempts()
	require.Len(t, got, maxDiagnosticAttempts)
	assert.Equal(t, "10", got[0].Region, "the oldest go first")
	assert.Equal(t, fmt.Sprint(calls-1), got[len(got)-1].Region)
	assert.Equal(t, 2.0*calls, d.RequestCharge())
}

// TestAnAccountLookUpIsNotTakenForTheAttempt: a look-up an attempt starts
// runs on the attempt's context; its request leaves the attempt's record
// alone.
func TestAnAccountLookUpIsNotTakenForTheAttempt(t *testing.T) {
	tel := quiet(newClock())
	var d Diagnostics
	ctx := WithDiagnostics(context.Background(), &d)
	req := mustRequest(t, http.MethodGet, "https://a.example/dbs/d/colls/c/docs/1")
	ctx, c := startCall(tel, ctx, req)
	actx := c.Attempt(ctx, 0, "West US", false)

	lctx, done := tel.OnRefresh(actx, false)
	resp, err := tel.Attempts(answering(401)).RoundTrip(mustRequest(t, http.MethodGet, "https://a.example/").WithContext(lctx))
	require.NoError(t, err)
	resp.Body.Close()
	done(nil)
	assert.Zero(t, d.Attempts()[0].Status, "the look-up's 401 is not the attempt's")

	resp, err = tel.Attempts(answering(200)).RoundTrip(req.WithContext(actx))
	require.NoError(t, err)
	c.Answered(actx, resp, nil, false, nil, 0)
	c.End(resp, nil)
	assert.Equal(t, 200, d.Attempts()[0].Status)
}

func TestDiagnosticsUnderConcurrentArms(t *testing.T) {
	tel := quiet(newClock())
	var d Diagnostics
	ctx := WithDiagnostics(context.Background(), &d)
	req := mustRequest(t, http.MethodGet, "https://a.example/dbs/d/colls/c/docs/1")
	ctx, c := startCall(tel, ctx, req)
	rt := tel.Attempts(answering(200))
	var wg sync.WaitGroup
	for arm := range 8 {
		wg.Go(func() {
			for n := range 4 {
				actx := c.Attempt(ctx, n, fmt.Sprint(arm), false)
				resp, err := rt.RoundTrip(req.WithContext(actx))
				if err != nil {
					panic(err)
				}
				c.Answered(actx, resp, nil, n < 3, reason("unavailable"), time.Millisecond)
				_ = d.Attempts()
			}
		})
	}
	wg.Wait()
	c.End(respWith(200), nil)
	got := d.Attempts()
	require.Len(t, got, 32)
	for _, a := range got {
		assert.Equal(t, 200, a.Status)
	}
}

func TestNoDiagnosticsWithoutTheContext(t *testing.T) {
	tel := quiet(newClock())
	_, c := startCall(tel, context.Background(), mustRequest(t, http.MethodGet, "https://a.example/dbs/d"))
	assert.Nil(t, c)
}

// answering is a base transport that answers every request with status.
type answering int

func (s answering) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: int(s), Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

// failing is a base transport that fails every request with its error.
type failing struct{ err error }

func (f failing) RoundTrip(*http.Request) (*http.Response, error) { return nil, f.err }
