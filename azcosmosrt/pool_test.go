package azcosmosrt

import (
	"context"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	azpolicy "github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/region"
)

// The pool comparison: 16 workers share 400 reads that each take 2 ms at
// the account, through (a) azcosmos alone, with its own HTTP client; (b)
// the chain over a clone of http.DefaultTransport, the chain's default
// Base before it had one of its own; (c) the chain over its default Base.
// Each dial is a TCP (and in production a TLS) handshake. The chain's
// default must dial no more than azcosmos's own client.
//
// Dials are counted where every client's connections show, whatever made
// them: at the account, which counts the connections its endpoints accept.
// Two counts from inside check it: for (a), httptrace's ConnectStart, put
// in each attempt's context by a per-retry policy; for (b), a count at the
// Base's DialContext.
//
// The workers' first reads are held at the account until all of them are
// there, so that every worker has a connection before any answer frees
// one. Without the hold, a worker that found every connection busy dialled
// and, when dialling was slower than a read (the race detector, a busy
// machine), could get a connection that came back meanwhile: its new one
// was one more, for any client, and the counts followed the machine's
// speed rather than the pool.
//
//	go test -run TestPoolDials -v
func TestPoolDials(t *testing.T) {
	const workers, reads = 16, 400

	var traced atomic.Int64
	sdk := dialsOf(t, workers, reads, traced.Load, func(acct *cosmostest.Account) (*azcosmos.Client, func()) {
		cred, err := azcosmos.NewKeyCredential(acct.Key())
		require.NoError(t, err)
		c, err := azcosmos.NewClientWithKey(acct.Endpoint(), cred, &azcosmos.ClientOptions{
			ClientOptions: azpolicy.ClientOptions{PerRetryPolicies: []azpolicy.Policy{countDials{&traced}}},
		})
		require.NoError(t, err)
		return c, c.Close
	})

	var dialled atomic.Int64
	old := dialsOf(t, workers, reads, dialled.Load, func(acct *cosmostest.Account) (*azcosmos.Client, func()) {
		base := http.DefaultTransport.(*http.Transport).Clone()
		dial := base.DialContext
		base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			dialled.Add(1)
			return dial(ctx, network, addr)
		}
		o := &Options{}
		o.Chain.Base = base
		return chainClient(t, acct, o)
	})

	def := dialsOf(t, workers, reads, nil, func(acct *cosmostest.Account) (*azcosmos.Client, func()) {
		return chainClient(t, acct, nil)
	})

	t.Logf("dials for %d reads by %d workers at 2 ms: (a) azcosmos alone %d, (b) chain over a clone of http.DefaultTransport %d, (c) chain over its default Base %d",
		reads, workers, sdk, old, def)
	assert.LessOrEqual(t, def, sdk, "the chain's default Base dials no more than azcosmos's own client")
}

// dialsOf reads one item reads times, the reads shared among workers and
// each taking 2 ms at the account, through a client from open, and returns
// the number of connections made to the account, set-up included. When
// counted is not nil, the account's count must come to counted() (the
// account accepts a connection just after its dial returned).
func dialsOf(t *testing.T, workers, reads int, counted func() int64, open func(*cosmostest.Account) (*azcosmos.Client, func())) int {
	t.Helper()
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()

	client, closeClient := open(acct)
	defer closeClient()
	orders, err := client.NewContainer(dbName, collName)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, err = orders.CreateItem(ctx, pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)
	first := make(chan struct{})
	for _, r := range append(acct.Regions(), cosmostest.Global) {
		acct.Inject(r, cosmostest.Fault{Delay: 2 * time.Millisecond, Hold: first, Count: workers, Ops: cosmostest.ReadOps})
		acct.Inject(r, cosmostest.Fault{Delay: 2 * time.Millisecond, Ops: cosmostest.ReadOps})
	}

	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(reads) {
				_, err := orders.ReadItem(ctx, pk, "1", nil)
				assert.NoError(t, err)
			}
		})
	}
	require.Eventually(t, func() bool { return acct.InFlight() >= workers }, 30*time.Second, time.Millisecond,
		"every worker's first read reaches the account")
	close(first)
	wg.Wait()

	if counted != nil {
		require.Eventually(t, func() bool { return acct.Connections() == int(counted()) }, 5*time.Second, time.Millisecond,
			"the account accepted every connection counted from inside")
	}
	return acct.Connections()
}

// chainClient returns the azcosmos client of a Client for acct, signing
// with its key, and the Client's Close.
func chainClient(t *testing.T, acct *cosmostest.Account, o *Options) (*azcosmos.Client, func()) {
	t.Helper()
	key, err := region.NewMasterKey(acct.Key())
	require.NoError(t, err)
	c, err := NewClientWithKey(acct.Endpoint(), key, o)
	require.NoError(t, err)
	return c.Client, func() { require.NoError(t, c.Close()) }
}

// countDials is a per-retry policy that counts the connections dialled for
// the attempts it sees.
type countDials struct{ n *atomic.Int64 }

func (c countDials) Do(req *azpolicy.Request) (*http.Response, error) {
	trace := &httptrace.ClientTrace{ConnectStart: func(string, string) { c.n.Add(1) }}
	return req.WithContext(httptrace.WithClientTrace(req.Raw().Context(), trace)).Next()
}
