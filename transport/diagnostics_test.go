package transport

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/policy"
)

// TestDiagnosticsOfAReadThatMeetsA503 reads through a chain with no
// tracer or meter (the otel globals of this test process are the no-op
// defaults) and through one with an SDK: the diagnostics are the same.
func TestDiagnosticsOfAReadThatMeetsA503(t *testing.T) {
	_, probe := otel.GetTracerProvider().Tracer("probe").Start(context.Background(), "probe")
	require.False(t, probe.IsRecording(), "no tracer provider is installed")
	for name, traced := range map[string]bool{"no providers": false, "SDK providers": true} {
		t.Run(name, func(t *testing.T) {
			acct := cosmostest.NewAccount(cosmostest.Options{})
			defer acct.Close()
			var o Options
			var ob *observed
			if traced {
				ob = observe(&o)
			}
			c := newChain(t, acct, o)
			mustCreate(t, c, acct, "x")
			first := acct.Regions()[0]
			acct.Inject(first, cosmostest.Fault{Status: 503, SubStatus: 21008, Ops: cosmostest.ReadOps, Count: 1,
				Header: http.Header{"X-Ms-Request-Charge": {"0.5"}}})
			acct.ResetLog()

			ctx, diag := WithDiagnostics(context.Background())
			code, _, err := do(t, ctx, c, acct, http.MethodGet, "/dbs/d/colls/c/docs/x", "")
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, code)

			reads := entries(acct, func(e cosmostest.Entry) bool { return e.Path == "/dbs/d/colls/c/docs/x" })
			require.Len(t, reads, 2)
			got := diag.Attempts()
			require.Len(t, got, 2)
			for i, a := range got {
				assert.Equal(t, reads[i].Region, a.Region, "attempt %d", i)
				assert.Equal(t, reads[i].Status, a.Status, "attempt %d", i)
				assert.Positive(t, a.Duration, "attempt %d", i)
				assert.Empty(t, a.ErrorType, "attempt %d", i)
			}
			assert.Equal(t, first, got[0].Region)
			assert.Equal(t, 503, got[0].Status)
			assert.Equal(t, 21008, got[0].SubStatus)
			assert.Equal(t, "unavailable", got[0].RetryReason)
			assert.NotEqual(t, first, got[1].Region, "the read moved to the next region")
			assert.Equal(t, 200, got[1].Status)
			assert.Empty(t, got[1].RetryReason)
			assert.False(t, got[1].Start.Before(got[0].Start.Add(got[0].Duration+got[0].Wait)),
				"the second attempt started after the first one's answer and wait")
			assert.Equal(t, 0.5, got[0].RequestCharge)
			assert.Equal(t, 1.0, got[1].RequestCharge)
			assert.Equal(t, 1.5, diag.RequestCharge())

			if traced {
				var calls int
				for _, s := range ob.spans.Ended() {
					if s.Name() == "read_item c" {
						calls++
					}
				}
				assert.Equal(t, 1, calls, "tracing goes on as usual")
			}
		})
	}
}

func TestDiagnosticsNameTheErrorOfAnAttempt(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	c := newChain(t, acct, Options{})
	mustCreate(t, c, acct, "warm")
	acct.Inject(acct.WriteRegion(), cosmostest.Fault{DropAfterCommit: true, Ops: cosmostest.WriteOps, Count: 1})

	ctx, diag := WithDiagnostics(context.Background())
	_, err := create(t, ctx, c, acct, "lost")
	require.Error(t, err, "a write that may have run is not resent")
	got := diag.Attempts()
	require.Len(t, got, 1)
	assert.Equal(t, acct.WriteRegion(), got[0].Region)
	assert.Zero(t, got[0].Status)
	assert.Contains(t, []string{"eof", "unexpected_eof", "connection_reset"}, got[0].ErrorType,
		"a stable name for a connection closed without an answer")
}

func TestDiagnosticsOfAHedgedRead(t *testing.T) {
	acct, c := hedgeRig(t, Options{Hedge: policy.HedgeOptions{Threshold: 20 * time.Millisecond, Step: time.Hour}}) // no third arm
	acct.Inject("East US", cosmostest.Fault{Delay: time.Minute, Ops: cosmostest.ReadOps, Count: 1})

	ctx, diag := WithDiagnostics(t.Context())
	code, _, err := do(t, ctx, c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)

	got := diag.Attempts()
	require.Len(t, got, 2, "one attempt per arm")
	slow, fast := got[0], got[1]
	assert.Equal(t, "East US", slow.Region)
	assert.Zero(t, slow.Status)
	assert.Equal(t, "canceled", slow.ErrorType, "the slow arm was cancelled when the hedge won")
	assert.Equal(t, "North Europe", fast.Region)
	assert.Equal(t, 200, fast.Status)
	assert.Greater(t, slow.Duration, fast.Duration)
	assert.Equal(t, 1.0, diag.RequestCharge(), "only the winner was charged")
}

func TestDiagnosticsAreBoundedAndSumEveryCharge(t *testing.T) {
	acct, c := hedgeRig(t, Options{})
	ctx, diag := WithDiagnostics(t.Context())
	const calls = 70
	for range calls {
		code, _, err := do(t, ctx, c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
	}
	assert.Len(t, diag.Attempts(), 64, "the last 64 attempts")
	assert.Equal(t, float64(calls), diag.RequestCharge(), "1 RU per read, every read counted")

	var none *Diagnostics
	assert.Empty(t, none.Attempts())
	assert.Zero(t, none.RequestCharge())
}

// ExampleWithDiagnostics reads a document whose first region answers 503
// and prints what each attempt met.
func ExampleWithDiagnostics() {
	acct := cosmostest.NewAccount(cosmostest.Options{Regions: []string{"East US", "North Europe"}})
	defer acct.Close()
	rt, err := New(Options{Endpoint: acct.Endpoint(), Key: acct.Key()})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	client := &http.Client{Transport: rt}
	put, _ := http.NewRequest(http.MethodPost, acct.Endpoint()+"dbs/shop/colls/orders/docs",
		strings.NewReader(`{"id":"42"}`))
	if resp, err := client.Do(put); err == nil {
		resp.Body.Close()
	}
	acct.Inject("East US", cosmostest.Fault{Status: 503, Ops: cosmostest.ReadOps, Count: 1})

	ctx, diag := WithDiagnostics(context.Background())
	get, _ := http.NewRequestWithContext(ctx, http.MethodGet, acct.Endpoint()+"dbs/shop/colls/orders/docs/42", nil)
	resp, err := client.Do(get)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()

	for _, a := range diag.Attempts() {
		fmt.Printf("%s: %d", a.Region, a.Status)
		if a.RetryReason != "" {
			fmt.Printf(", retried (%s)", a.RetryReason)
		}
		fmt.Println()
	}
	fmt.Printf("%.1f RU\n", diag.RequestCharge())
	fmt.Println("every attempt timed:", !slices.ContainsFunc(diag.Attempts(), func(a AttemptDiagnostics) bool { return a.Duration <= 0 }))
	// Output:
	// East US: 503, retried (unavailable)
	// North Europe: 200
	// 1.0 RU
	// every attempt timed: true
}

func TestErrorsNameTheirAttemptsAndRegions(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	c := newChain(t, acct, Options{})
	mustCreate(t, c, acct, "x")
	regions := acct.Regions()
	acct.Inject(regions[0], cosmostest.Fault{Status: 503, Ops: cosmostest.ReadOps})
	acct.Inject(regions[1], cosmostest.Fault{Drop: true, Ops: cosmostest.ReadOps})
	acct.Inject(regions[2], cosmostest.Fault{Delay: time.Minute, Ops: cosmostest.ReadOps})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	ctx, _ = WithDiagnostics(ctx)
	_, _, err := do(t, ctx, c, acct, http.MethodGet, "/dbs/d/colls/c/docs/x", "")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "(after 3 attempts: West US 2, East US, North Europe)")
}
