package transport

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/policy"
)

// trackRig is an account and a chain that tracks writes (or not).
func trackRig(t *testing.T, track bool, base http.RoundTripper) (*cosmostest.Account, *http.Client) {
	t.Helper()
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)
	return acct, newChain(t, acct, Options{Base: base, Retry: policy.RetryOptions{TrackWrites: track}})
}

func writesTo(acct *cosmostest.Account) []cosmostest.Entry {
	return entries(acct, func(e cosmostest.Entry) bool { return e.Path != "/" })
}

func trackingIDOf(t *testing.T, doc []byte) string {
	t.Helper()
	var d struct {
		TrackingID string `json:"_trackingId"`
	}
	require.NoError(t, json.Unmarshal(doc, &d))
	return d.TrackingID
}

func TestTrackedCreateAcrossADropAfterCommitIsAcknowledgedOnce(t *testing.T) {
	acct, c := trackRig(t, true, nil)
	acct.Inject("West US 2", cosmostest.Fault{DropAfterCommit: true, Ops: cosmostest.WriteOps, Count: 1})

	code, body, err := do(t, t.Context(), c, acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"1","total":10}`)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, code, "the first attempt had committed: the caller learns it")
	assert.Equal(t, 1, acct.Commits("d", "c", "1"))
	stored, ok := acct.Document("d", "c", "1")
	require.True(t, ok)
	assert.NotEmpty(t, trackingIDOf(t, stored))
	assert.Equal(t, trackingIDOf(t, stored), trackingIDOf(t, []byte(body)), "the caller gets the stored item")

	var seen []string
	for _, e := range writesTo(acct) {
		seen = append(seen, e.Method+" "+http.StatusText(e.Status))
	}
	assert.Equal(t, []string{"POST ", "POST Conflict", "GET OK"}, seen, "dropped, resent (409), read back")
}

func TestTrackedCreateAcrossADropBeforeCommitCommitsOnceOnTheResend(t *testing.T) {
	acct, c := trackRig(t, true, nil)
	acct.Inject("West US 2", cosmostest.Fault{Drop: true, Ops: cosmostest.WriteOps, Count: 1})
	code, _, err := do(t, t.Context(), c, acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"1"}`)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, code)
	assert.Equal(t, 1, acct.Commits("d", "c", "1"))
	assert.Len(t, writesTo(acct), 2, "dropped, resent: no read needed")
}

func TestTrackedReplaceAndUpsertAcrossADropAfterCommitAreReadBackNotResent(t *testing.T) {
	for _, tc := range []struct {
		name, method, path string
		header             http.Header
	}{
		{"replace", http.MethodPut, "/dbs/d/colls/c/docs/1", nil},
		{"upsert", http.MethodPost, "/dbs/d/colls/c/docs", http.Header{"X-Ms-Documentdb-Is-Upsert": {"true"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acct, c := trackRig(t, true, nil)
			mustCreate(t, c, acct, "1")
			acct.ResetLog()
			acct.Inject("West US 2", cosmostest.Fault{DropAfterCommit: true, Ops: cosmostest.WriteOps, Count: 1})

			req, err := http.NewRequestWithContext(t.Context(), tc.method, acct.Endpoint()+tc.path[1:], stringsReader(`{"id":"1","total":20}`))
			require.NoError(t, err)
			for k, v := range tc.header {
				req.Header[k] = v
			}
			resp, err := c.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, 2, acct.Commits("d", "c", "1"), "the create and one write: never twice")
			assert.Len(t, writesTo(acct), 2, "the dropped write and the read back: no resend")
		})
	}
}

// A create in doubt that meets another writer's item cannot tell "ours
// never ran" from "ours ran and was overwritten": the outcome is unknown,
// never a guessed 409.
func TestTrackedCreateThatMeetsAnotherWritersDocumentIsUnknown(t *testing.T) {
	acct, c := trackRig(t, true, nil)
	mustCreate(t, c, acct, "1") // another writer's, with another tracking id
	acct.ResetLog()
	acct.Inject("West US 2", cosmostest.Fault{Drop: true, Ops: cosmostest.WriteOps, Count: 1})
	_, _, err := do(t, t.Context(), c, acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"1"}`)
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	var unknown *OutcomeUnknownError
	require.ErrorAs(t, err, &unknown)
	assert.Equal(t, http.StatusConflict, unknown.Status, "the last answer")
	assert.Contains(t, err.Error(), "another version")
	assert.Equal(t, 1, acct.Commits("d", "c", "1"))

	acct.ResetLog()
	code, _, err := do(t, t.Context(), c, acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"1"}`)
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, code, "a 409 without doubt is returned as it came")
	assert.Len(t, writesTo(acct), 1, "and costs no read")
}

// failoverAfterFirstWrite is a Base that fails the account over when the
// first write attempt has ended in an error.
type failoverAfterFirstWrite struct {
	http.RoundTripper
	acct *cosmostest.Account
	once sync.Once
}

func (f *failoverAfterFirstWrite) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := f.RoundTripper.RoundTrip(req)
	if err != nil && req.Method == http.MethodPost {
		f.once.Do(func() { _ = f.acct.Failover("East US") })
	}
	return resp, err
}

func TestTrackedCreateAcrossADropAndAFailoverIsSettledInTheNewRegion(t *testing.T) {
	base := &failoverAfterFirstWrite{RoundTripper: http.DefaultTransport.(*http.Transport).Clone()}
	acct, c := trackRig(t, true, base)
	base.acct = acct
	acct.Inject("West US 2", cosmostest.Fault{DropAfterCommit: true, Ops: cosmostest.WriteOps, Count: 1})
	code, _, err := do(t, t.Context(), c, acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"1"}`)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, code)
	assert.Equal(t, 1, acct.Commits("d", "c", "1"))
	last := writesTo(acct)[len(writesTo(acct))-1]
	assert.Equal(t, "East US", last.Region, "read back where the resend's 409 came from")
	assert.Equal(t, http.MethodGet, last.Method)
}

func TestUntrackedWritesKeepTodaysRule(t *testing.T) {
	t.Run("tracking off", func(t *testing.T) {
		acct, c := trackRig(t, false, nil)
		acct.Inject("West US 2", cosmostest.Fault{DropAfterCommit: true, Ops: cosmostest.WriteOps, Count: 1})
		_, _, err := do(t, t.Context(), c, acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"1"}`)
		require.Error(t, err, "the outcome is unknown: returned, never resent")
		assert.Equal(t, 1, acct.Commits("d", "c", "1"))
		stored, _ := acct.Document("d", "c", "1")
		assert.Empty(t, trackingIDOf(t, stored), "no property added")
	})
	t.Run("off for one call", func(t *testing.T) {
		acct, c := trackRig(t, true, nil)
		acct.Inject("West US 2", cosmostest.Fault{DropAfterCommit: true, Ops: cosmostest.WriteOps, Count: 1})
		off := false
		ctx := WithRequestOptions(context.Background(), RequestOptions{TrackWrites: &off})
		_, _, err := do(t, ctx, c, acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"1"}`)
		require.Error(t, err)
		assert.Len(t, writesTo(acct), 1)
	})
	t.Run("body not a JSON object", func(t *testing.T) {
		acct, c := trackRig(t, true, nil)
		acct.Inject("West US 2", cosmostest.Fault{Drop: true, Ops: cosmostest.WriteOps, Count: 1})
		_, _, err := do(t, t.Context(), c, acct, http.MethodPost, "/dbs/d/colls/c/docs", `["not","an","object"]`)
		require.Error(t, err, "sent untouched, under today's rule")
		assert.Len(t, writesTo(acct), 1)
	})
}

// The chain owns the tracking id: a body's own is written over, in place;
// a caller chooses one per call through RequestOptions.TrackingID.
func TestTrackingIDIsTheCallsOwn(t *testing.T) {
	t.Run("a body's id is written over", func(t *testing.T) {
		sent := &bodyRecorder{RoundTripper: http.DefaultTransport.(*http.Transport).Clone()}
		acct, c := trackRig(t, true, sent)
		code, _, err := do(t, t.Context(), c, acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"1", "_trackingId" : "old","n":1}`)
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, code)
		stored, _ := acct.Document("d", "c", "1")
		assert.NotEqual(t, "old", trackingIDOf(t, stored))
		assert.Len(t, trackingIDOf(t, stored), 36, "a fresh UUID")
		bodies := sent.writes()
		require.Len(t, bodies, 1)
		assert.Equal(t, 1, strings.Count(bodies[0], `"_trackingId"`), "one property, never a duplicate key")
		assert.NotContains(t, bodies[0], `"old"`)
		assert.Contains(t, bodies[0], `"n":1`, "the rest as it was")
	})
	t.Run("each call has its own", func(t *testing.T) {
		acct, c := trackRig(t, true, nil)
		mustCreate(t, c, acct, "1")
		first, _ := acct.Document("d", "c", "1")
		code, _, err := do(t, t.Context(), c, acct, http.MethodPut, "/dbs/d/colls/c/docs/1", string(first))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
		second, _ := acct.Document("d", "c", "1")
		assert.NotEqual(t, trackingIDOf(t, first), trackingIDOf(t, second), "a read-modify-write round-trips the old id; the chain replaces it")
	})
	t.Run("a caller's per-call id", func(t *testing.T) {
		acct, c := trackRig(t, true, nil)
		ctx, diag := WithDiagnostics(WithRequestOptions(t.Context(), RequestOptions{TrackingID: "order-7-attempt"}))
		code, _, err := do(t, ctx, c, acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"1","_trackingId":"old"}`)
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, code)
		stored, _ := acct.Document("d", "c", "1")
		assert.Equal(t, "order-7-attempt", trackingIDOf(t, stored))
		require.NotEmpty(t, diag.Attempts())
		assert.Equal(t, "order-7-attempt", diag.Attempts()[0].TrackingID, "recorded in the call's diagnostics")
	})
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

// bodyRecorder is a Base that records the bodies of the writes it sends.
type bodyRecorder struct {
	http.RoundTripper
	mu     sync.Mutex // guards bodies
	bodies []string
}

func (b *bodyRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet && req.Body != nil && req.GetBody != nil {
		if r, err := req.GetBody(); err == nil {
			buf, _ := io.ReadAll(r)
			b.mu.Lock()
			b.bodies = append(b.bodies, string(buf))
			b.mu.Unlock()
		}
	}
	return b.RoundTripper.RoundTrip(req)
}

func (b *bodyRecorder) writes() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.bodies)
}
