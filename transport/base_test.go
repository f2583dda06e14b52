package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
)

// With no Base, New gives each chain a transport of its own with the
// settings Options.Base documents.
func TestDefaultBaseSettings(t *testing.T) {
	rt, err := New(Options{})
	require.NoError(t, err)
	defer rt.Close()
	b, ok := rt.base.(*http.Transport)
	require.True(t, ok, "the default Base is an *http.Transport, whose connections the chain watches")
	assert.NotSame(t, http.DefaultTransport, b)

	other, err := New(Options{})
	require.NoError(t, err)
	defer other.Close()
	assert.NotSame(t, b, other.base, "each chain has its own pool")

	assert.Equal(t, 100, b.MaxIdleConnsPerHost)
	assert.Equal(t, 1000, b.MaxIdleConns)
	assert.Zero(t, b.MaxConnsPerHost, "no cap on connections per host")
	assert.Equal(t, 90*time.Second, b.IdleConnTimeout)
	assert.Equal(t, 10*time.Second, b.TLSHandshakeTimeout)
	assert.Zero(t, b.ResponseHeaderTimeout, "the call's context bounds the wait")
	assert.Equal(t, time.Second, b.ExpectContinueTimeout)
	assert.NotNil(t, b.Proxy, "the proxy comes from the environment")
	assert.NotNil(t, b.DialContext)
	assert.False(t, b.DisableKeepAlives)

	require.NotNil(t, b.TLSClientConfig)
	assert.Equal(t, uint16(tls.VersionTLS12), b.TLSClientConfig.MinVersion)
	assert.Equal(t, tls.RenegotiateFreelyAsClient, b.TLSClientConfig.Renegotiation)
	assert.NotNil(t, b.TLSClientConfig.ClientSessionCache, "TLS sessions are resumed")
	assert.False(t, b.TLSClientConfig.InsecureSkipVerify)

	assert.True(t, b.ForceAttemptHTTP2)
	require.NotNil(t, b.HTTP2)
	assert.Equal(t, 5*time.Second, b.HTTP2.SendPingTimeout)
	assert.Equal(t, 3*time.Second, b.HTTP2.PingTimeout)

	d := defaultDialer()
	assert.Equal(t, 5*time.Second, d.Timeout)
	assert.Equal(t, 30*time.Second, d.KeepAlive)
}

// The default Base speaks HTTP/2 to a server that offers it, despite its
// own dialer and TLS settings (which turn HTTP/2 off unless forced).
func TestDefaultBaseSpeaksHTTP2(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	base := newDefaultBase()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	base.TLSClientConfig.RootCAs = roots
	rt, err := New(Options{Base: base})
	require.NoError(t, err)
	defer rt.Close()

	resp, err := (&http.Client{Transport: rt}).Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, 2, resp.ProtoMajor, "the response came over HTTP/2")
}

// Bursts of concurrent reads reuse the connections of the first burst:
// with reads at 2 ms, the chain dials one connection per concurrent read
// and one for the account look-up, whatever the number of bursts. (A clone
// of http.DefaultTransport keeps 2 idle connections per host and closes
// the rest after each burst, to dial them again for the next.)
func TestDefaultBaseReusesConnectionsUnderLoad(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	base := newDefaultBase()
	dials := countDials(base)
	c := newChain(t, acct, Options{Base: base})
	mustCreate(t, c, acct, "x")
	for _, r := range acct.Regions() {
		acct.Inject(r, cosmostest.Fault{Delay: 2 * time.Millisecond, Ops: cosmostest.ReadOps})
	}

	const workers, bursts = 16, 25 // 400 reads
	for range bursts {
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				code, _, err := do(t, context.Background(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/x", "")
				assert.NoError(t, err)
				assert.Equal(t, http.StatusOK, code)
			})
		}
		wg.Wait()
	}

	// One spare: a dial that a returning connection overtook in the
	// first burst stays in the pool.
	assert.LessOrEqual(t, dials.Load(), int64(workers+2), "dials for %d bursts of %d reads", bursts, workers)
}

// countDials makes tr count the connections it dials.
func countDials(tr *http.Transport) *atomic.Int64 {
	var n atomic.Int64
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		n.Add(1)
		return dial(ctx, network, addr)
	}
	return &n
}
