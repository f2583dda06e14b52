package azcosmosrt

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"sync"
	"testing"

	azpolicy "github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/policy"
	"github.com/cosmosrt/cosmosrt/transport"
)

// byHand is azcosmos's own client over a chain, set up as the README's
// "By hand" section shows: azcosmos signs every request with the account
// key, and the chain, which holds the key too, routes and retries them.
// The chain's Base keeps the body of every write attempt it carries.
type byHand struct {
	acct   *cosmostest.Account
	orders *azcosmos.ContainerClient
	sent   *sentBodies
}

func newByHand(t *testing.T, retry policy.RetryOptions) *byHand {
	t.Helper()
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)
	sent := &sentBodies{}
	base := &recorder{next: http.DefaultTransport.(*http.Transport).Clone(), rewrite: sent.keep}
	chain, err := transport.New(transport.Options{Endpoint: acct.Endpoint(), Key: acct.Key(), Base: base, Retry: retry})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, chain.Close()) })
	cred, err := azcosmos.NewKeyCredential(acct.Key())
	require.NoError(t, err)
	client, err := azcosmos.NewClientWithKey(acct.Endpoint(), cred, &azcosmos.ClientOptions{
		ClientOptions: azpolicy.ClientOptions{
			Transport: &http.Client{Transport: chain},
			Retry:     azpolicy.RetryOptions{MaxRetries: -1},
		},
	})
	require.NoError(t, err)
	t.Cleanup(client.Close) // before the chain's Close, which was registered first
	orders, err := client.NewContainer(dbName, collName)
	require.NoError(t, err)
	return &byHand{acct: acct, orders: orders, sent: sent}
}

// sentBodies keeps the body of every write attempt, as it left the chain.
type sentBodies struct {
	mu     sync.Mutex // guards bodies
	bodies [][]byte
}

// keep is a recorder's rewrite: it reads the attempt's body, closing it as
// the transport would, and hands the attempt an identical one.
func (s *sentBodies) keep(req *http.Request) error {
	if req.Body == nil || req.Body == http.NoBody || req.Method == http.MethodGet {
		return nil
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.bodies = append(s.bodies, b)
	s.mu.Unlock()
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return nil
}

func (s *sentBodies) all() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.bodies...)
}

// trackingIDs returns the value of every top-level "_trackingId" property
// of the JSON object b, in order, repeats included (decoding into a map or
// a struct would keep one).
func trackingIDs(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok, "not a JSON object: %s", b)
	var ids []string
	for dec.More() {
		key, err := dec.Token()
		require.NoError(t, err)
		var value json.RawMessage
		require.NoError(t, dec.Decode(&value))
		if key == "_trackingId" {
			var id string
			require.NoError(t, json.Unmarshal(value, &id), "_trackingId %s", value)
			ids = append(ids, id)
		}
	}
	return ids
}

var uuidV4 = regexp.MustCompile(`(?i)^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// With TrackWrites on and azcosmos signing its own requests, creates,
// upserts and replaces go out once each with the caller's document intact,
// plus one "_trackingId", a fresh UUID for each call. azcore's GetBody
// hands back the request's own body, rewound, not a new reader: a chain
// that reads it to add the id and then sends that same reader sends
// nothing (the call failed with "ContentLength=… with Body length 0").
func TestTrackedWritesSignedByTheSDKKeepTheirBody(t *testing.T) {
	h := newByHand(t, policy.RetryOptions{TrackWrites: true})
	ctx := t.Context()

	created, err := h.orders.CreateItem(ctx, pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, created.RawResponse.StatusCode)
	inserted, err := h.orders.UpsertItem(ctx, pk, orderJSON(t, "2", 20), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, inserted.RawResponse.StatusCode)
	updated, err := h.orders.UpsertItem(ctx, pk, orderJSON(t, "2", 21), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, updated.RawResponse.StatusCode)
	replaced, err := h.orders.ReplaceItem(ctx, pk, "1", orderJSON(t, "1", 11), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, replaced.RawResponse.StatusCode)

	assert.Equal(t, []string{
		"POST docs West US 2 201",
		"POST docs West US 2 201",
		"POST docs West US 2 200",
		"PUT docs/1 West US 2 200",
	}, trail(h.acct))
	assert.Equal(t, 2, h.acct.Commits(dbName, collName, "1"))
	assert.Equal(t, 2, h.acct.Commits(dbName, collName, "2"))

	sent := h.sent.all()
	want := []order{{"1", "eu", 10}, {"2", "eu", 20}, {"2", "eu", 21}, {"1", "eu", 11}}
	require.Len(t, sent, len(want))
	seen := map[string]bool{}
	for i, body := range sent {
		assert.Equal(t, want[i], decodeOrder(t, body), "write %d: the caller's document", i+1)
		ids := trackingIDs(t, body)
		require.Len(t, ids, 1, "write %d: %s", i+1, body)
		assert.Regexp(t, uuidV4, ids[0], "write %d", i+1)
		assert.False(t, seen[ids[0]], "write %d reuses tracking id %s", i+1, ids[0])
		seen[ids[0]] = true
	}
	doc, ok := h.acct.Document(dbName, collName, "1")
	require.True(t, ok)
	assert.Equal(t, order{ID: "1", PK: "eu", Total: 11}, decodeOrder(t, doc))
	assert.Equal(t, trackingIDs(t, sent[3]), trackingIDs(t, doc), "the replace's id is stored")
}

// A tracked write whose body brings a "_trackingId" of its own goes out
// with one "_trackingId", the call's fresh one, written over the caller's
// in place.
func TestATrackedWriteReplacesTheCallersTrackingID(t *testing.T) {
	h := newByHand(t, policy.RetryOptions{TrackWrites: true})
	body := []byte(`{"id":"1","_trackingId":"the caller's","pk":"eu","total":10}`)

	_, err := h.orders.UpsertItem(t.Context(), pk, body, nil)
	require.NoError(t, err)

	sent := h.sent.all()
	require.Len(t, sent, 1)
	ids := trackingIDs(t, sent[0])
	require.Len(t, ids, 1, "%s", sent[0])
	assert.Regexp(t, uuidV4, ids[0])
	assert.Equal(t, `{"id":"1","_trackingId":"`+ids[0]+`","pk":"eu","total":10}`, string(sent[0]),
		"the caller's property keeps its place")
	assert.Equal(t, 1, h.acct.Commits(dbName, collName, "1"))
}

// A tracked create signed by azcosmos whose connection drops after the
// account committed it: the chain resends it as it was, meets 409 (the
// item is there), reads the item back, finds the call's tracking id and
// answers 201 (without the item: azcosmos sends Prefer: return=minimal).
// The caller sees one success; the item
// was committed once and carries one "_trackingId", the call's.
func TestATrackedCreateDroppedAfterCommitSucceedsOnceWhenTheSDKSigns(t *testing.T) {
	h := newByHand(t, policy.RetryOptions{TrackWrites: true})
	h.acct.Inject(h.acct.WriteRegion(), cosmostest.Fault{DropAfterCommit: true, Count: 1, Ops: cosmostest.WriteOps})

	resp, err := h.orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, resp.RawResponse.StatusCode)
	assert.Empty(t, resp.Value, "azcosmos asks for Prefer: return=minimal, as the service would have honoured")

	assert.Equal(t, []string{
		"POST docs West US 2 dropped",
		"POST docs West US 2 409",
		"GET docs/1 West US 2 200",
	}, trail(h.acct))
	assert.Equal(t, 1, h.acct.Commits(dbName, collName, "1"))

	sent := h.sent.all()
	require.Len(t, sent, 2, "the create and its resend")
	first := trackingIDs(t, sent[0])
	require.Len(t, first, 1, "%s", sent[0])
	assert.Equal(t, first, trackingIDs(t, sent[1]), "the attempts of one call share its id")
	doc, ok := h.acct.Document(dbName, collName, "1")
	require.True(t, ok)
	assert.Equal(t, first, trackingIDs(t, doc))
}
