package azcosmosrt

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
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
// them: in the kernel's table of TCP sockets (Linux's /proc/net/tcp), which
// lists each connection to the account's ports while it is open and, at the
// end that closed it first, for a minute after (TIME_WAIT). Two counts from
// inside check it: for (a), httptrace's ConnectStart, put in each attempt's
// context by a per-retry policy; for (b), a count at the Base's
// DialContext. (The chain's default Base is out of this package's reach,
// and under the chain a trace count comes out too high: the chain's
// connection-phase stage lets an earlier call's trace hooks run again for
// later attempts.)
//
// Each client runs the reads 5 times, and the fewest dials of each are
// compared: when a dial is slower than a read (the race detector, a busy
// machine), a worker that found no idle connection may get one that came
// back while it dialled, and its new connection is one more, for any
// client.
//
//	go test -run TestPoolDials -v
func TestPoolDials(t *testing.T) {
	if _, err := os.Stat(procNetTCP); err != nil {
		t.Skip("counts connections in " + procNetTCP + ", which only Linux has")
	}
	const workers, reads, runs = 16, 400, 5

	var sdk, old, def []int
	for range runs {
		var traced atomic.Int64
		sdk = append(sdk, dialsOf(t, workers, reads, traced.Load, func(acct *cosmostest.Account) (*azcosmos.Client, func()) {
			cred, err := azcosmos.NewKeyCredential(acct.Key())
			require.NoError(t, err)
			c, err := azcosmos.NewClientWithKey(acct.Endpoint(), cred, &azcosmos.ClientOptions{
				ClientOptions: azpolicy.ClientOptions{PerRetryPolicies: []azpolicy.Policy{countDials{&traced}}},
			})
			require.NoError(t, err)
			return c, c.Close
		}))

		var dialled atomic.Int64
		old = append(old, dialsOf(t, workers, reads, dialled.Load, func(acct *cosmostest.Account) (*azcosmos.Client, func()) {
			base := http.DefaultTransport.(*http.Transport).Clone()
			dial := base.DialContext
			base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				dialled.Add(1)
				return dial(ctx, network, addr)
			}
			o := &Options{}
			o.Chain.Base = base
			return chainClient(t, acct, o)
		}))

		def = append(def, dialsOf(t, workers, reads, nil, func(acct *cosmostest.Account) (*azcosmos.Client, func()) {
			return chainClient(t, acct, nil)
		}))
	}

	t.Logf("dials for %d reads by %d workers at 2 ms, %d runs: (a) azcosmos alone %v, (b) chain over a clone of http.DefaultTransport %v, (c) chain over its default Base %v",
		reads, workers, runs, sdk, old, def)
	assert.LessOrEqual(t, slices.Min(def), slices.Min(sdk), "the chain's default Base dials no more than azcosmos's own client")
}

// dialsOf reads one item reads times, the reads shared among workers and
// each taking 2 ms at the account, through a client from open, and returns
// the number of connections made to the account, set-up included. When
// counted is not nil, the count must come to counted() (a dial may still
// be starting when the reads are done).
func dialsOf(t *testing.T, workers, reads int, counted func() int64, open func(*cosmostest.Account) (*azcosmos.Client, func())) int {
	t.Helper()
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	ports := map[uint16]bool{portOf(t, acct.Endpoint()): true}
	for _, r := range acct.Regions() {
		ports[portOf(t, acct.RegionEndpoint(r))] = true
	}
	// One reading of the table may miss a connection (see loopbackConns):
	// take the union of several.
	before, after := map[conn]bool{}, map[conn]bool{}
	for range 3 {
		loopbackConns(t, ports, before)
	}
	dials := func() int {
		loopbackConns(t, ports, after)
		n := 0
		for c := range after {
			if !before[c] {
				n++
			}
		}
		return n
	}

	client, closeClient := open(acct)
	defer closeClient()
	orders, err := client.NewContainer(dbName, collName)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, err = orders.CreateItem(ctx, pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)
	for _, r := range append(acct.Regions(), cosmostest.Global) {
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
	wg.Wait()

	for range 4 {
		dials()
	}
	if counted != nil {
		assert.Eventually(t, func() bool { return dials() == int(counted()) }, 5*time.Second, time.Millisecond,
			"the kernel lists every connection counted from inside")
	}
	return dials()
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

// procNetTCP is Linux's table of IPv4 TCP sockets.
const procNetTCP = "/proc/net/tcp"

// conn names a TCP connection over 127.0.0.1 by its two ports.
type conn struct{ client, server uint16 }

// loopbackConns adds to conns the TCP connections over 127.0.0.1 that the
// kernel lists to one of ports, open or closed within the last minute. A
// connection shows as its client's socket, its server's, or both. The
// kernel writes the table a page at a time, as connections come and go, so
// one reading may miss some.
func loopbackConns(t *testing.T, ports map[uint16]bool, conns map[conn]bool) {
	t.Helper()
	f, err := os.Open(procNetTCP)
	require.NoError(t, err)
	defer f.Close()
	const loopback = "0100007F" // 127.0.0.1, as the table writes it
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		lip, lport, ok1 := strings.Cut(fields[1], ":")
		rip, rport, ok2 := strings.Cut(fields[2], ":")
		if !ok1 || !ok2 || lip != loopback || rip != loopback {
			continue
		}
		l, err1 := strconv.ParseUint(lport, 16, 16)
		r, err2 := strconv.ParseUint(rport, 16, 16)
		require.NoError(t, err1)
		require.NoError(t, err2)
		switch {
		case ports[uint16(r)]: // the client's end
			conns[conn{client: uint16(l), server: uint16(r)}] = true
		case ports[uint16(l)]: // the server's end
			conns[conn{client: uint16(r), server: uint16(l)}] = true
		}
	}
	require.NoError(t, sc.Err())
}

// portOf returns the port of endpoint, a URL with one.
func portOf(t *testing.T, endpoint string) uint16 {
	t.Helper()
	u, err := url.Parse(endpoint)
	require.NoError(t, err)
	p, err := strconv.ParseUint(u.Port(), 10, 16)
	require.NoError(t, err)
	return uint16(p)
}
