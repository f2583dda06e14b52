package azcosmosrt

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/region"
)

// The database and container every test uses; cosmostest creates both
// implicitly.
const (
	dbName   = "shop"
	collName = "orders"
	docsPath = "/dbs/" + dbName + "/colls/" + collName + "/docs"
)

// accountKey and otherKey are two valid master keys.
const (
	accountKey = "YXp1cmVjb3Ntb3NydCB0ZXN0IGFjY291bnQga2V5" // "azurecosmosrt test account key"
	otherKey   = "b3RoZXIga2V5LCBub3QgdGhlIGFjY291bnQncw==" // "other key, not the account's"
)

// pk is the partition key of every item; the implicit collection does not
// check it (cosmostest serves it as a non-partitioned container).
var pk = azcosmos.NewPartitionKeyString("eu")

// rig is one simulated account and one Client in front of it, built with
// the account's key.
type rig struct {
	acct   *cosmostest.Account
	key    *region.MasterKey
	client *Client
	orders *azcosmos.ContainerClient
	base   *recorder
}

// newRig builds a rig; edit, if not nil, adjusts the Options first.
func newRig(t *testing.T, acctOpts cosmostest.Options, edit func(*Options)) *rig {
	t.Helper()
	acct := cosmostest.NewAccount(acctOpts)
	t.Cleanup(acct.Close)
	key, err := region.NewMasterKey(acct.Key())
	require.NoError(t, err)
	return newRigFor(t, acct, key, edit)
}

// newRigFor builds a rig on an existing account, signing with key.
func newRigFor(t *testing.T, acct *cosmostest.Account, key *region.MasterKey, edit ...func(*Options)) *rig {
	t.Helper()
	base := &recorder{next: http.DefaultTransport.(*http.Transport).Clone()}
	o := &Options{}
	o.Chain.Base = base
	for _, e := range edit {
		if e != nil {
			e(o)
		}
	}
	client, err := NewClientWithKey(acct.Endpoint(), key, o)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, client.Close()) })
	orders, err := client.NewContainer(dbName, collName)
	require.NoError(t, err)
	return &rig{acct: acct, key: key, client: client, orders: orders, base: base}
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
		status := fmt.Sprint(e.Status)
		if e.SubStatus != 0 {
			status += fmt.Sprintf(".%d", e.SubStatus)
		}
		if e.Dropped {
			status = "dropped"
		}
		path := "docs" + strings.TrimPrefix(e.Path, docsPath)
		out = append(out, fmt.Sprintf("%s %s %s %s", e.Method, path, e.Region, status))
	}
	return out
}

// repeat returns n copies of line.
func repeat(line string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = line
	}
	return out
}

// recorder is the chain's Base: it remembers the Authorization header of
// every attempt and passes the attempt on, after rewrite if set (which may
// change the attempt's headers: it gets a clone).
type recorder struct {
	next    http.RoundTripper
	rewrite func(*http.Request) error

	mu    sync.Mutex // guards auths
	auths []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.auths = append(r.auths, req.Header.Get("Authorization"))
	r.mu.Unlock()
	if r.rewrite != nil {
		req = req.Clone(req.Context())
		if err := r.rewrite(req); err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, err
		}
	}
	return r.next.RoundTrip(req)
}

func (r *recorder) CloseIdleConnections() {
	if c, ok := r.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// noReuse makes every attempt open a new connection. Call it before the
// rig's first request.
func (r *recorder) noReuse() {
	r.next.(*http.Transport).DisableKeepAlives = true
}

// authorizations returns the Authorization header of every attempt so far.
func (r *recorder) authorizations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.auths...)
}
