package transport

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// newDefaultBase returns the Base that New uses when Options.Base is nil: a
// new *http.Transport per chain (closing one chain's idle connections
// leaves every other pool alone), tuned for the traffic of one Cosmos DB
// account. Its pool and timeouts are those of azcosmos v1.5.0's own HTTP
// client, which the chain replaces under an SDK; its HTTP/2 health check
// is slower to give up on a connection. It must stay an *http.Transport:
// the chain watches its connections to tell a request that was never sent
// from one that may have run. Options.Base documents the values.
func newDefaultBase() *http.Transport {
	return &http.Transport{
		Proxy:       http.ProxyFromEnvironment,
		DialContext: defaultDialer().DialContext,

		// An account has a few hosts (its global endpoint and one per
		// region) and nearly all traffic goes to one or two of them, so
		// the idle pool is sized per host for the concurrent calls of a
		// busy process: every worker's connection goes back to the pool
		// instead of being closed and dialled again, each a TCP and a TLS
		// handshake. http.DefaultTransport keeps 2 per host.
		MaxIdleConnsPerHost: 100,
		// Room for ten hosts at full size; beyond it the least recently
		// used idle connections close.
		MaxIdleConns: 1000,
		// Below the 4 minutes after which Azure's load balancers may drop
		// an idle flow silently: the client closes first, rather than
		// sending a request into a connection that is gone.
		IdleConnTimeout: 90 * time.Second,
		// No MaxConnsPerHost: the service limits throughput itself (429),
		// and a cap here would only queue calls behind it.

		TLSHandshakeTimeout: 10 * time.Second,
		TLSClientConfig: &tls.Config{
			// Pinned, so that a GODEBUG setting cannot lower it.
			MinVersion: tls.VersionTLS12,
			// As azcosmos and azcore allow it: a TLS 1.2 endpoint that
			// asks to renegotiate would otherwise fail the connection.
			Renegotiation: tls.RenegotiateFreelyAsClient,
			// A connection opened again after an idle close resumes
			// its TLS session instead of verifying certificates anew.
			// The default size, 64 hosts, is more than an account has.
			ClientSessionCache: tls.NewLRUClientSessionCache(0),
		},

		// HTTP/2 where the server offers it (ALPN); HTTP/1.1 otherwise.
		// The explicit dialer and TLS config would turn HTTP/2 off
		// without this.
		ForceAttemptHTTP2: true,
		HTTP2: &http.HTTP2Config{
			// All of a host's calls share one HTTP/2 connection, so a
			// connection that died silently would hold them all until
			// their deadlines. A connection that has received nothing
			// for 5 s is pinged, and closed when the answer takes over
			// 3 s: a dead one is found within 8 s. 3 s is many
			// round trips even between continents, so that a slow
			// answer does not cost a healthy connection and the calls
			// in flight on it. (azcosmos pings after 2 s and waits 1 s.)
			SendPingTimeout: 5 * time.Second,
			PingTimeout:     3 * time.Second,
		},

		// No ResponseHeaderTimeout: the call's context bounds the wait.
		// A fixed limit per attempt would cut short a long query or
		// stored procedure that the caller gave more time, and a write
		// cut short after it was sent may have run: the caller could no
		// longer tell.
		ExpectContinueTimeout: 1 * time.Second,
	}
}

// defaultDialer returns the default Base's dialer.
func defaultDialer() *net.Dialer {
	return &net.Dialer{
		// A healthy region accepts a connection within a round trip;
		// one that has not in 5 s (two SYN retransmissions) is
		// unreachable, and the retry loop does better to count the
		// attempt as never sent and try the next region than to wait
		// net/http's 30 s.
		Timeout: 5 * time.Second,
		// TCP keep-alives find a dead peer of an idle HTTP/1 connection
		// and keep NAT and load-balancer state of a quiet one alive.
		KeepAlive: 30 * time.Second,
	}
}
