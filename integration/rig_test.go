package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/transport"
)

// The database and container every test uses; cosmostest creates both
// implicitly.
const (
	dbName   = "shop"
	collName = "orders"
	docsPath = "/dbs/" + dbName + "/colls/" + collName + "/docs"
)

// pk is the partition key of every item; the implicit collection does not
// check it (cosmostest serves it as a non-partitioned container).
var pk = azcosmos.NewPartitionKeyString("eu")

// rig is one simulated account, one chain in front of it and one azcosmos
// client on the chain, configured with ClientOptions.
type rig struct {
	acct   *cosmostest.Account
	rt     *transport.Transport
	client *azcosmos.Client
	orders *azcosmos.ContainerClient
	base   *recorder // what the chain sent, attempt by attempt
}

// rigOptions adjusts a rig's configuration before it is built.
type rigOptions struct {
	chain func(*transport.Options)      // nil: transport.Options as recommended
	sdk   func(*azcosmos.ClientOptions) // nil: ClientOptions as recommended
}

func newRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)

	base := &recorder{next: http.DefaultTransport.(*http.Transport).Clone()}
	topts := transport.Options{Endpoint: acct.Endpoint(), Key: acct.Key(), Base: base}
	if o.chain != nil {
		o.chain(&topts)
	}
	rt, err := transport.New(topts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rt.Close()) })

	copts := ClientOptions(rt)
	if o.sdk != nil {
		o.sdk(copts)
	}
	cred, err := azcosmos.NewKeyCredential(acct.Key())
	require.NoError(t, err)
	client, err := azcosmos.NewClientWithKey(acct.Endpoint(), cred, copts)
	require.NoError(t, err)
	t.Cleanup(client.Close)
	orders, err := client.NewContainer(dbName, collName)
	require.NoError(t, err)
	return &rig{acct: acct, rt: rt, client: client, orders: orders, base: base}
}

// order is the item the tests store.
type order struct {
	ID    string `json:"id"`
	PK    string `json:"pk"`
	Total int    `json:"total"`
}

func orderJSON(t *testing.T, id string, total int) []byte {
	t.Helper()
	b, err := json.Marshal(order{ID: id, PK: "eu", Total: total})
	require.NoError(t, err)
	return b
}

func decodeOrder(t *testing.T, b []byte) order {
	t.Helper()
	var o order
	require.NoError(t, json.Unmarshal(b, &o))
	return o
}

// trail renders the account's log of data requests (the DatabaseAccount
// look-ups and the chain's reads of the container's metadata, which it
// makes on its own, left out) as "METHOD path region status[.substatus]"
// lines, in order, with the collection's path shortened to "docs".
func trail(acct *cosmostest.Account) []string {
	var out []string
	for _, e := range acct.Log() {
		if e.Path == "/" || e.Method == http.MethodGet && (e.Path == "/dbs/"+dbName+"/colls/"+collName || strings.HasSuffix(e.Path, "/pkranges")) {
			continue
		}
		out = append(out, describe(e))
	}
	return out
}

func describe(e cosmostest.Entry) string {
	status := fmt.Sprint(e.Status)
	if e.SubStatus != 0 {
		status += fmt.Sprintf(".%d", e.SubStatus)
	}
	if e.Dropped {
		status = "dropped"
	}
	path := "docs" + strings.TrimPrefix(e.Path, docsPath)
	return fmt.Sprintf("%s %s %s %s", e.Method, path, e.Region, status)
}

// repeat returns n copies of line.
func repeat(line string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = line
	}
	return out
}

// accountReads counts the DatabaseAccount look-ups the account answered.
func accountReads(acct *cosmostest.Account) int {
	n := 0
	for _, e := range acct.Log() {
		if e.Path == "/" {
			n++
		}
	}
	return n
}

// recorder is the chain's Base: it passes attempts on and remembers, for
// each request with a body, whether it came with GetBody, and whether it
// arrived while an earlier attempt's body was still open (not yet closed
// by the transport, which may still be reading it).
type recorder struct {
	next      http.RoundTripper
	readDelay time.Duration // a pause before each read of a request body: a slow uplink

	mu         sync.Mutex // guards the fields below
	withBody   int        // attempts that carried a body
	getBody    int        // of which had GetBody set
	bodyMethod []string
	open       int // bodies handed on and not yet closed
	overlaps   int // attempts with a body that began while another body was open
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		r.mu.Lock()
		r.withBody++
		if req.GetBody != nil {
			r.getBody++
		}
		r.bodyMethod = append(r.bodyMethod, req.Method)
		if r.open > 0 {
			r.overlaps++
		}
		r.open++
		r.mu.Unlock()
		req = req.Clone(req.Context())
		req.Body = &trackedBody{ReadCloser: req.Body, delay: r.readDelay, onClose: func() {
			r.mu.Lock()
			r.open--
			r.mu.Unlock()
		}}
	}
	return r.next.RoundTrip(req)
}

// overlapping returns how many attempts with a body began while an earlier
// attempt's body was still open.
func (r *recorder) overlapping() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.overlaps
}

// trackedBody reports its first Close and may pause before each read.
type trackedBody struct {
	io.ReadCloser
	delay   time.Duration
	once    sync.Once
	onClose func()
}

func (b *trackedBody) Read(p []byte) (int, error) {
	if b.delay > 0 {
		time.Sleep(b.delay)
	}
	return b.ReadCloser.Read(p)
}

func (b *trackedBody) Close() error {
	b.once.Do(b.onClose)
	return b.ReadCloser.Close()
}

func (r *recorder) CloseIdleConnections() {
	if c, ok := r.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// bodies returns how many attempts carried a body, how many of them had
// GetBody set, and their methods.
func (r *recorder) bodies() (withBody, getBody int, methods []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.withBody, r.getBody, slices.Clone(r.bodyMethod)
}
