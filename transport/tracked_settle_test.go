package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/internal/account"
	"github.com/cosmosrt/cosmosrt/policy"
	"github.com/cosmosrt/cosmosrt/region"
)

// writeReq is a write of body to path on the account, with header.
func writeReq(t *testing.T, ctx context.Context, acct *cosmostest.Account, method, path, body string, header http.Header) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(acct.Endpoint(), "/")+path, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	return req
}

// sendReq sends req and returns the status and body, or the error.
func sendReq(c *http.Client, req *http.Request) (int, string, error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

var upsertHeader = http.Header{"X-Ms-Documentdb-Is-Upsert": {"true"}}

// storedItem reads the item as stored, and its etag, for a
// read-modify-write.
func storedItem(t *testing.T, acct *cosmostest.Account, id string) (string, string) {
	t.Helper()
	doc, ok := acct.Document("d", "c", id)
	require.True(t, ok)
	var props struct {
		ETag string `json:"_etag"`
	}
	require.NoError(t, json.Unmarshal(doc, &props))
	return string(doc), props.ETag
}

// A read-modify-write sends the stored item back, old tracking id and
// etag included. Whatever the first attempt meets, the write is never
// acknowledged unless it ran: a 503 is resent in place and commits once;
// after a drop before the commit the read-back finds the very version the
// body was made from (its etag), so the write is resent guarded by that
// etag and commits once; with the caller's If-Match the resend is guarded
// anyway. A body that brings no etag proves nothing about the version the
// read-back finds: the outcome is unknown.
func TestReadModifyWriteIsNeverAcknowledgedUnlessItRan(t *testing.T) {
	for _, tc := range []struct {
		name, method, path string
		header             http.Header
		fault              cosmostest.Fault
		ifMatch            bool
		noETag             bool // the body does not bring the item's etag
		unknown            bool
	}{
		{"replace after 503", http.MethodPut, "/dbs/d/colls/c/docs/1", nil, cosmostest.Fault{Status: 503}, false, false, false},
		{"upsert after 503", http.MethodPost, "/dbs/d/colls/c/docs", upsertHeader, cosmostest.Fault{Status: 503}, false, false, false},
		{"replace after a drop", http.MethodPut, "/dbs/d/colls/c/docs/1", nil, cosmostest.Fault{Drop: true}, false, false, false},
		{"upsert after a drop", http.MethodPost, "/dbs/d/colls/c/docs", upsertHeader, cosmostest.Fault{Drop: true}, false, false, false},
		{"replace with If-Match after a drop", http.MethodPut, "/dbs/d/colls/c/docs/1", nil, cosmostest.Fault{Drop: true}, true, false, false},
		{"upsert with If-Match after a drop", http.MethodPost, "/dbs/d/colls/c/docs", upsertHeader, cosmostest.Fault{Drop: true}, true, false, false},
		{"replace without an etag after a drop", http.MethodPut, "/dbs/d/colls/c/docs/1", nil, cosmostest.Fault{Drop: true}, false, true, true},
		{"upsert without an etag after a drop", http.MethodPost, "/dbs/d/colls/c/docs", upsertHeader, cosmostest.Fault{Drop: true}, false, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acct, c := trackRig(t, true, nil)
			mustCreate(t, c, acct, "1")
			old, etag := storedItem(t, acct, "1")
			oldID := trackingIDOf(t, []byte(old))
			changed := strings.Replace(old, `"id":"1"`, `"id":"1","total":20`, 1)
			if tc.noETag {
				changed = strings.Replace(changed, `"_etag":`, `"_was_etag":`, 1)
			}
			header := tc.header.Clone()
			if tc.ifMatch {
				header = header.Clone()
				if header == nil {
					header = http.Header{}
				}
				header.Set("If-Match", etag)
			}
			tc.fault.Count, tc.fault.Ops = 1, cosmostest.WriteOps
			acct.Inject("West US 2", tc.fault)

			code, body, err := sendReq(c, writeReq(t, t.Context(), acct, tc.method, tc.path, changed, header))
			stored, _ := acct.Document("d", "c", "1")
			if tc.unknown {
				require.ErrorIs(t, err, ErrOutcomeUnknown, "the old version proves nothing: never a 200 with it")
				assert.Equal(t, 1, acct.Commits("d", "c", "1"), "not resent on a guess")
				assert.Equal(t, oldID, trackingIDOf(t, stored))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, code)
			assert.Equal(t, 2, acct.Commits("d", "c", "1"), "the create and this write, once")
			assert.NotEqual(t, oldID, trackingIDOf(t, stored), "the write ran")
			assert.Contains(t, string(stored), `"total":20`)
			assert.Equal(t, trackingIDOf(t, stored), trackingIDOf(t, []byte(body)))
		})
	}
}

// azcoreBody is a request body as azcore makes it: GetBody rewinds and
// returns the very reader that is req.Body.
type azcoreBody struct{ *bytes.Reader }

func (azcoreBody) Close() error { return nil }

// signed returns a write signed by the caller, as an SDK signs its own,
// with an azcore-style body.
func signed(t *testing.T, ctx context.Context, acct *cosmostest.Account, method, path, body string, header http.Header) *http.Request {
	t.Helper()
	req := writeReq(t, ctx, acct, method, path, body, header)
	b := azcoreBody{bytes.NewReader([]byte(body))}
	req.Body = b
	req.GetBody = func() (io.ReadCloser, error) {
		_, err := b.Seek(0, io.SeekStart)
		return b, err
	}
	key, err := region.NewMasterKey(acct.Key())
	require.NoError(t, err)
	require.NoError(t, account.Sign(ctx, req, key, time.Now()))
	return req
}

// A write its caller signed is tracked too when the chain holds a
// credential that can read it back, and its body goes out whole: a body
// read through GetBody is sent from the chain's buffer, never from
// req.Body again.
func TestCallerSignedWritesAreTrackedWithTheirBodyIntact(t *testing.T) {
	for _, fault := range []*cosmostest.Fault{nil, {DropAfterCommit: true}} {
		acct, c := trackRig(t, true, nil)
		if fault != nil {
			fault.Count, fault.Ops = 1, cosmostest.WriteOps
			acct.Inject("West US 2", *fault)
		}
		code, _, err := sendReq(c, signed(t, t.Context(), acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"1","total":10}`, nil))
		require.NoError(t, err)
		assert.Equal(t, http.StatusCreated, code)
		assert.Equal(t, 1, acct.Commits("d", "c", "1"))
		stored, _ := acct.Document("d", "c", "1")
		assert.Contains(t, string(stored), `"total":10`)
		assert.NotEmpty(t, trackingIDOf(t, stored))
	}
	// Untracked (over the bound the chain reads), the body still goes out whole.
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)
	c := newChain(t, acct, Options{Retry: policy.RetryOptions{TrackWrites: true, MaxBufferedBody: 4}})
	code, _, err := sendReq(c, signed(t, t.Context(), acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"2","total":10}`, nil))
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, code)
}

// The read-back meets every fault a read meets, and keeps the chain's
// rules: a 429 waits its hint, a 503 or a drop is tried again. Only the
// call's id decides, so a create committed once is acknowledged, and an
// upsert committed once is not resent.
func TestReadBackThatMeetsFaultsIsTriedAgain(t *testing.T) {
	for _, tc := range []struct {
		name, method string
		header       http.Header
		want         int
	}{
		{"create", http.MethodPost, nil, http.StatusCreated},
		{"upsert", http.MethodPost, upsertHeader, http.StatusOK},
		{"replace", http.MethodPut, nil, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acct, c := trackRig(t, true, nil)
			commits := 1
			path := "/dbs/d/colls/c/docs"
			if tc.method == http.MethodPut {
				mustCreate(t, c, acct, "1")
				commits, path = 2, path+"/1"
			}
			acct.Inject("West US 2", cosmostest.Fault{DropAfterCommit: true, Count: 1, Ops: cosmostest.WriteOps})
			acct.Inject("West US 2", cosmostest.Fault{Status: 429, SubStatus: 3200, Header: hint("10"), Count: 1, Ops: cosmostest.ReadOps})
			acct.Inject("West US 2", cosmostest.Fault{Status: 503, Count: 1, Ops: cosmostest.ReadOps})
			acct.Inject("West US 2", cosmostest.Fault{Drop: true, Count: 1, Ops: cosmostest.ReadOps})
			ctx, diag := WithDiagnostics(t.Context())
			code, _, err := sendReq(c, writeReq(t, ctx, acct, tc.method, path, `{"id":"1"}`, tc.header))
			require.NoError(t, err)
			assert.Equal(t, tc.want, code)
			assert.Equal(t, commits, acct.Commits("d", "c", "1"), "never committed twice")
			var reads int
			for _, a := range diag.Attempts() {
				if a.ReadBack {
					reads++
					assert.NotEmpty(t, a.TrackingID)
				}
			}
			assert.GreaterOrEqual(t, reads, 3, "429, 503, then 200 (net/http resends a dropped GET itself): each recorded")
			var got []int
			for _, e := range entries(acct, func(e cosmostest.Entry) bool { return e.Method == http.MethodGet && e.Path == "/dbs/d/colls/c/docs/1" }) {
				got = append(got, e.Status)
			}
			assert.Equal(t, []int{429, 503, 0, 200}, got, "what reached the account: the read-back went on through each")
		})
	}
}

// Ids that need escaping are escaped once in the read-back's URL.
func TestReadBackOfAnIdThatNeedsEscaping(t *testing.T) {
	for _, id := range []string{"order 1", "café-7", "50%off", "a+b=c"} {
		for _, upsert := range []bool{false, true} {
			acct, c := trackRig(t, true, nil)
			acct.Inject("West US 2", cosmostest.Fault{DropAfterCommit: true, Count: 1, Ops: cosmostest.WriteOps})
			var header http.Header
			want := http.StatusCreated
			if upsert {
				header, want = upsertHeader, http.StatusOK
			}
			code, _, err := sendReq(c, writeReq(t, t.Context(), acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"`+id+`"}`, header))
			require.NoError(t, err, "%q upsert=%v", id, upsert)
			assert.Equal(t, want, code, "%q upsert=%v", id, upsert)
			assert.Equal(t, 1, acct.Commits("d", "c", id), "%q upsert=%v", id, upsert)
			var got []string
			for _, e := range entries(acct, func(e cosmostest.Entry) bool { return e.Method == http.MethodGet && e.Path != "/" }) {
				got = append(got, e.Path)
			}
			assert.Equal(t, []string{"/dbs/d/colls/c/docs/" + id}, got, "read once, at the item's path")
		}
	}
}

// Whatever ends a call in doubt (429s past their limit, 449s, a 500, a
// 408), one last read-back turns a write that ran into its success; one
// that did not run ends unknown, never with the last status alone. A
// create in doubt is resent without a read-back first, so its resends
// meet the fault.
func TestEveryGiveUpAfterADoubtIsSettled(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault cosmostest.Fault
	}{
		{"429", cosmostest.Fault{Status: 429, SubStatus: 3200, Header: hint("1")}},
		{"449", cosmostest.Fault{Status: 449, Header: hint("1")}},
		{"500", cosmostest.Fault{Status: 500}},
		{"408", cosmostest.Fault{Status: 408}},
	} {
		for _, committed := range []bool{true, false} {
			t.Run(tc.name, func(t *testing.T) {
				acct := cosmostest.NewAccount(cosmostest.Options{})
				t.Cleanup(acct.Close)
				c := newChain(t, acct, Options{Retry: policy.RetryOptions{
					TrackWrites: true, MaxThrottleRetries: 1, MaxRetryWithWait: 5 * time.Millisecond, MaxUnavailableRetries: 1,
				}})
				first := cosmostest.Fault{Drop: true, Count: 1, Ops: cosmostest.WriteOps}
				if committed {
					first = cosmostest.Fault{DropAfterCommit: true, Count: 1, Ops: cosmostest.WriteOps}
				}
				acct.Inject("West US 2", first)
				tc.fault.Ops = cosmostest.WriteOps // every resend
				acct.Inject("West US 2", tc.fault)

				code, _, err := sendReq(c, writeReq(t, t.Context(), acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"1"}`, nil))
				if committed {
					require.NoError(t, err)
					assert.Equal(t, http.StatusCreated, code, "the item holds the call's id")
					assert.Equal(t, 1, acct.Commits("d", "c", "1"))
					return
				}
				require.ErrorIs(t, err, ErrOutcomeUnknown)
				assert.Equal(t, 0, acct.Commits("d", "c", "1"))
			})
		}
	}
}

// Another writer's upsert lands between ours (committed, its answer lost)
// and our read-back: the read-back sees their id, which cannot tell "ours
// never ran" from "ours ran and was overwritten". Ours is not resent.
func TestUpsertInDoubtAroundAConcurrentWriterIsNotResent(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)
	other := newChain(t, acct, Options{Retry: policy.RetryOptions{TrackWrites: true}})
	base := &afterFirstFailedWrite{RoundTripper: http.DefaultTransport.(*http.Transport).Clone(), then: func() {
		code, _, err := sendReq(other, writeReq(t, context.Background(), acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"1","by":"other"}`, upsertHeader))
		assert.NoError(t, err)
		assert.Equal(t, http.StatusOK, code, "over ours")
	}}
	c := newChain(t, acct, Options{Base: base, Retry: policy.RetryOptions{TrackWrites: true}})
	acct.Inject("West US 2", cosmostest.Fault{DropAfterCommit: true, Count: 1, Ops: cosmostest.WriteOps})

	_, _, err := sendReq(c, writeReq(t, t.Context(), acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"1","by":"us"}`, upsertHeader))
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Equal(t, 2, acct.Commits("d", "c", "1"), "ours once, theirs once")
	stored, _ := acct.Document("d", "c", "1")
	assert.Contains(t, string(stored), `"by":"other"`, "ours was not resent over theirs")
}

// afterFirstFailedWrite is a Base that runs then once, when the first
// write attempt through it fails without an answer.
type afterFirstFailedWrite struct {
	http.RoundTripper
	then func()
	once sync.Once
}

func (b *afterFirstFailedWrite) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := b.RoundTripper.RoundTrip(req)
	if err != nil && req.Method != http.MethodGet {
		b.once.Do(b.then)
	}
	return resp, err
}

// A create acknowledged by a read-back honours Prefer: return=minimal, as
// the service would have.
func TestSettledCreateHonoursReturnMinimal(t *testing.T) {
	acct, c := trackRig(t, true, nil)
	acct.Inject("West US 2", cosmostest.Fault{DropAfterCommit: true, Count: 1, Ops: cosmostest.WriteOps})
	code, body, err := sendReq(c, writeReq(t, t.Context(), acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"1"}`, http.Header{"Prefer": {"return=minimal"}}))
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, code)
	assert.Empty(t, body)
}

// With tracking on, a delete in doubt is resent, and the 404 it then
// meets means it is done.
func TestDeleteInDoubtIsResentAndA404IsDone(t *testing.T) {
	acct, c := trackRig(t, true, nil)
	mustCreate(t, c, acct, "1")
	acct.Inject("West US 2", cosmostest.Fault{DropAfterCommit: true, Count: 1, Ops: cosmostest.WriteOps})
	code, _, err := sendReq(c, writeReq(t, t.Context(), acct, http.MethodDelete, "/dbs/d/colls/c/docs/1", "", nil))
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, code)
	_, ok := acct.Document("d", "c", "1")
	assert.False(t, ok)
}

// Errors the chain returns after its own retries expose no type a client
// above would resend; the cause stays reachable, and so does the caller's
// own context error.
func TestReturnedErrorsHideWhatAClientAboveWouldResend(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)
	c := newChain(t, acct, Options{})
	for _, r := range acct.Regions() {
		acct.Inject(r, cosmostest.Fault{Drop: true, Ops: cosmostest.ReadOps})
	}
	_, _, err := do(t, t.Context(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
	var attempt *AttemptError
	require.ErrorAs(t, err, &attempt)
	assert.True(t, attempt.Sent)
	assert.Error(t, attempt.Cause())
	for _, hidden := range []error{io.EOF, io.ErrUnexpectedEOF, context.DeadlineExceeded, context.Canceled} {
		assert.NotErrorIs(t, err, hidden)
	}
	var uerr *url.Error
	require.ErrorAs(t, err, &uerr)
	assert.False(t, uerr.Timeout(), "not a timeout to a client above")

	ctx, cancel := context.WithCancel(t.Context())
	hold := make(chan struct{})
	defer close(hold)
	acct.Inject(acct.WriteRegion(), cosmostest.Fault{Hold: hold, Count: 1, Ops: cosmostest.WriteOps})
	go func() {
		assert.Eventually(t, func() bool { return acct.InFlight() > 0 }, 5*time.Second, time.Millisecond)
		cancel()
	}()
	_, _, err = do(t, ctx, c, acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"9"}`)
	assert.ErrorIs(t, err, context.Canceled, "the caller's own cancellation")
	assert.ErrorIs(t, err, ErrOutcomeUnknown, "sent before it was cancelled: it may have run")
}

// A read-modify-write in doubt is resent guarded by the etag its body
// brought; another writer who lands between the read-back and the resend
// makes the service refuse it (412), and the outcome is unknown — never
// the 412 alone, and never ours over theirs.
func TestGuardedResendRefusedAfterAnotherWriterIsUnknown(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)
	other := newChain(t, acct, Options{Retry: policy.RetryOptions{TrackWrites: true}})
	mustCreate(t, other, acct, "1")
	old, _ := storedItem(t, acct, "1")
	base := &afterFirstRead{RoundTripper: http.DefaultTransport.(*http.Transport).Clone(), then: func() {
		code, _, err := sendReq(other, writeReq(t, context.Background(), acct, http.MethodPut, "/dbs/d/colls/c/docs/1", `{"id":"1","by":"other"}`, nil))
		assert.NoError(t, err)
		assert.Equal(t, http.StatusOK, code)
	}}
	c := newChain(t, acct, Options{Base: base, Retry: policy.RetryOptions{TrackWrites: true}})
	acct.Inject("West US 2", cosmostest.Fault{Drop: true, Count: 1, Ops: cosmostest.WriteOps})

	changed := strings.Replace(old, `"id":"1"`, `"id":"1","by":"us"`, 1)
	_, _, err := sendReq(c, writeReq(t, t.Context(), acct, http.MethodPut, "/dbs/d/colls/c/docs/1", changed, nil))
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	var unknown *OutcomeUnknownError
	require.ErrorAs(t, err, &unknown)
	assert.Equal(t, http.StatusPreconditionFailed, unknown.Status)
	assert.Equal(t, 2, acct.Commits("d", "c", "1"), "the create and theirs: ours never ran")
	stored, _ := acct.Document("d", "c", "1")
	assert.Contains(t, string(stored), `"by":"other"`)
}

// afterFirstRead is a Base that runs then once, after the first GET of a
// document through it has its answer.
type afterFirstRead struct {
	http.RoundTripper
	then func()
	once sync.Once
}

func (b *afterFirstRead) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := b.RoundTripper.RoundTrip(req)
	if req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/docs/") {
		b.once.Do(b.then)
	}
	return resp, err
}

// In a multi-write account a write in doubt is settled where it went: a
// 503 on its resend does not send it to another write region, where a
// create that ran in the first might not be seen yet and would run again.
func TestMultiWriteDoubtIsSettledWhereTheWriteWent(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{MultipleWriteLocations: true})
	t.Cleanup(acct.Close)
	c := newChain(t, acct, Options{PreferredRegions: []string{"West US 2", "East US"}, Retry: policy.RetryOptions{TrackWrites: true}})
	acct.Inject("West US 2", cosmostest.Fault{DropAfterCommit: true, Count: 1, Ops: cosmostest.WriteOps})
	acct.Inject("West US 2", cosmostest.Fault{Status: 503, Count: 1, Ops: cosmostest.WriteOps})
	code, _, err := sendReq(c, writeReq(t, t.Context(), acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"1"}`, nil))
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, code)
	assert.Equal(t, 1, acct.Commits("d", "c", "1"))
	for _, e := range writesTo(acct) {
		assert.Equal(t, "West US 2", e.Region, "%s %s", e.Method, e.Path)
	}
}

// A document that would not fit the service's item limit with a tracking
// id added is sent untracked, as it came.
func TestDocumentNearTheItemLimitIsSentUntracked(t *testing.T) {
	acct, c := trackRig(t, true, nil)
	pad := strings.Repeat("x", maxItemSize-40)
	body := `{"id":"1","p":"` + pad + `"}`
	code, _, err := sendReq(c, writeReq(t, t.Context(), acct, http.MethodPost, "/dbs/d/colls/c/docs", body, nil))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code)
	stored, _ := acct.Document("d", "c", "1")
	assert.Empty(t, trackingIDOf(t, stored))
}

// A header set in the map under another spelling is the same header to
// the service: an upsert marked "x-ms-documentdb-is-upsert" is settled as
// an upsert, never resent as a create would be.
func TestUpsertHeaderInAnySpellingIsAnUpsert(t *testing.T) {
	acct, c := trackRig(t, true, nil)
	mustCreate(t, c, acct, "1")
	acct.Inject("West US 2", cosmostest.Fault{DropAfterCommit: true, Count: 1, Ops: cosmostest.WriteOps})
	req := writeReq(t, t.Context(), acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"1","n":2}`, nil)
	req.Header["x-ms-documentdb-is-upsert"] = []string{"true"}
	code, _, err := sendReq(c, req)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, 2, acct.Commits("d", "c", "1"), "the create and the upsert, once")
}
