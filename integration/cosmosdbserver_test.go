package integration

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/transport"
)

// @vercel/cosmosdb-server is an independently written Cosmos DB REST server
// (Node.js), installed with `npm ci` in the cosmosdb-server directory. It
// serves one region and does not check signatures, so the test checks them
// at the wire against the algorithm the Cosmos DB REST documentation gives.
const (
	cosmosdbServerDir  = "cosmosdb-server/node_modules/@vercel/cosmosdb-server"
	cosmosdbServerCLI  = cosmosdbServerDir + "/lib/cli.js"
	cosmosdbServerCert = cosmosdbServerDir + "/cert.pem"

	// cosmosdbServerStart bounds the server's start-up (loading Node
	// modules on a busy machine).
	cosmosdbServerStart = 60 * time.Second
)

// cosmosdbServerReady is the line the server prints once it listens.
var cosmosdbServerReady = regexp.MustCompile(`Ready to accept HTTPS connections at (127\.0\.0\.1:[0-9]+)`)

// The chain reads the account document of an independent server
// implementation, routes every data request to the region that document
// names and signs every plain REST request correctly: databases,
// collections and documents are created and read, each call takes exactly
// one attempt, and a 409 (a duplicate) and a 404 (a missing collection) are
// returned as they came. The caller's URL is a second address of the same
// server (a relay, like an account's global endpoint), so the wire shows
// whether the document's region was used.
func TestChainSignsAndRoutesPlainRESTAgainstCosmosDBServer(t *testing.T) {
	addr, cert := startCosmosDBServer(t)
	global := relay(t, addr)
	endpoint := "https://" + global + "/"
	key := base64.StdEncoding.EncodeToString([]byte("cosmosrt integration test key 32"))

	wire := &wireLog{next: pinnedTransport(cert)}
	rt, err := transport.New(transport.Options{Endpoint: endpoint, Key: key, Base: wire})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rt.Close()) })
	client := &http.Client{Transport: rt}

	doc := string(orderJSON(t, "o1", 42))
	coll := "dbs/" + dbName + "/colls/" + collName
	steps := []restStep{
		{"POST", "/dbs", `{"id":"` + dbName + `"}`, "dbs", "", http.StatusCreated},
		{"POST", "/dbs/" + dbName + "/colls", `{"id":"` + collName + `","partitionKey":{"paths":["/pk"],"kind":"Hash"}}`,
			"colls", "dbs/" + dbName, http.StatusCreated},
		{"POST", docsPath, doc, "docs", coll, http.StatusCreated},
		{"POST", docsPath, doc, "docs", coll, http.StatusConflict},
		{"GET", docsPath + "/o1", "", "docs", coll + "/docs/o1", http.StatusOK},
		{"GET", "/dbs/" + dbName + "/colls/returns/docs/o1", "", "docs", "dbs/" + dbName + "/colls/returns/docs/o1", http.StatusNotFound},
	}
	read := runREST(t, client, endpoint, steps)
	assert.Equal(t, order{ID: "o1", PK: "eu", Total: 42}, decodeOrder(t, read[4]))

	// At the wire: one account look-up at the caller's URL, then each call
	// once at the server's own address, which its document names as the
	// region, each signed for its own resource.
	checkWire(t, wire, key, global, addr, steps)
}

// When the account document names another host than the caller's URL (the
// server names 127.0.0.1, the caller says localhost), the host rule drops
// every location: the chain keeps sending, signed, to the caller's URL, and
// the calls succeed.
func TestChainKeepsTheCallersURLWhenCosmosDBServerNamesAnotherHost(t *testing.T) {
	addr, cert := startCosmosDBServer(t)
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	caller := net.JoinHostPort("localhost", port)
	endpoint := "https://" + caller + "/"
	key := base64.StdEncoding.EncodeToString([]byte("cosmosrt integration test key 32"))

	wire := &wireLog{next: pinnedTransport(cert)}
	rt, err := transport.New(transport.Options{Endpoint: endpoint, Key: key, Base: wire})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rt.Close()) })
	client := &http.Client{Transport: rt}

	steps := []restStep{
		{"POST", "/dbs", `{"id":"` + dbName + `"}`, "dbs", "", http.StatusCreated},
		{"GET", "/dbs/" + dbName, "", "dbs", "dbs/" + dbName, http.StatusOK},
	}
	runREST(t, client, endpoint, steps)
	checkWire(t, wire, key, caller, caller, steps)
}

// restStep is one plain REST call and what its signature must cover.
type restStep struct {
	method, path string
	body         string
	rtype, link  string
	want         int
}

// runREST sends each step, unsigned, through client to endpoint, requires
// its status and returns the response bodies.
func runREST(t *testing.T, client *http.Client, endpoint string, steps []restStep) [][]byte {
	t.Helper()
	var bodies [][]byte
	for _, s := range steps {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		req, err := http.NewRequestWithContext(ctx, s.method, endpoint+strings.TrimPrefix(s.path, "/"), strings.NewReader(s.body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-ms-documentdb-partitionkey", `["eu"]`) // the server needs it on document reads
		resp, err := client.Do(req)
		require.NoError(t, err, "%s %s", s.method, s.path)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		cancel()
		require.Equal(t, s.want, resp.StatusCode, "%s %s: %s", s.method, s.path, b)
		bodies = append(bodies, b)
	}
	return bodies
}

// checkWire requires one account look-up at global, then one attempt per
// step at region, each carrying x-ms-version and the documented master-key
// signature for its resource.
func checkWire(t *testing.T, wire *wireLog, key, global, region string, steps []restStep) {
	t.Helper()
	attempts := wire.attempts()
	require.Len(t, attempts, 1+len(steps), "one account look-up, then one attempt per call: %v", attempts)
	want := []attempt{{method: "GET", host: global, path: "/", status: http.StatusOK}}
	for _, s := range steps {
		want = append(want, attempt{method: s.method, host: region, path: s.path, status: s.want})
	}
	for i, a := range attempts {
		assert.Equal(t, want[i], a.withoutAuth(), "attempt %d", i+1)
		rtype, link := "", "" // the account look-up: GET / signs no resource
		if i > 0 {
			rtype, link = steps[i-1].rtype, steps[i-1].link
		}
		assert.Equal(t, masterKeyAuth(t, key, a.method, rtype, link, a.date), a.auth,
			"attempt %d (%s %s) is not signed as documented", i+1, a.method, a.path)
		assert.NotEmpty(t, a.version, "attempt %d has no x-ms-version", i+1)
	}
}

// startCosmosDBServer starts the server on 127.0.0.1 with an ephemeral port
// and returns its address (host:port) and its certificate (DER). The server
// is killed when the test ends. The test is skipped when node or the npm
// package is missing.
func startCosmosDBServer(t *testing.T) (addr string, cert []byte) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; needed to run @vercel/cosmosdb-server")
	}
	pemBytes, err := os.ReadFile(cosmosdbServerCert)
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("@vercel/cosmosdb-server is not installed; run `npm ci` in integration/cosmosdb-server")
	}
	require.NoError(t, err)
	if _, err := os.Stat(cosmosdbServerCLI); err != nil {
		t.Skip("@vercel/cosmosdb-server is not installed; run `npm ci` in integration/cosmosdb-server")
	}
	block, _ := pem.Decode(pemBytes)
	require.NotNil(t, block, "no PEM block in the server's certificate file")

	out := &serverOutput{ready: make(chan string, 1)}
	cmd := exec.Command(node, cosmosdbServerCLI, "--host", "127.0.0.1", "--port", "0")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("cosmosdb-server output:\n%s", out.String())
		}
	})

	select {
	case addr = <-out.ready:
	case err := <-exited:
		exited <- err // for the cleanup
		t.Fatalf("cosmosdb-server exited before listening (%v):\n%s", err, out.String())
	case <-time.After(cosmosdbServerStart):
		t.Fatalf("cosmosdb-server did not listen within %v:\n%s", cosmosdbServerStart, out.String())
	}
	return addr, block.Bytes
}

// pinnedTransport returns an HTTP transport that accepts only the server
// certificate cert. The certificate shipped with @vercel/cosmosdb-server
// names no host and has expired, so it cannot pass normal verification:
// verification is skipped for this loopback test server only, and every
// connection is pinned to that exact certificate instead.
func pinnedTransport(cert []byte) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{
		InsecureSkipVerify: true, // loopback test server only; pinned below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, cert) {
				return errors.New("integration: not the cosmosdb-server certificate")
			}
			return nil
		},
	}
	return tr
}

// masterKeyAuth is the Authorization value for a master-key signature, as
// the Cosmos DB REST documentation defines it, written here independently
// of the library's signer.
func masterKeyAuth(t *testing.T, key, verb, resourceType, resourceLink, date string) string {
	t.Helper()
	k, err := base64.StdEncoding.DecodeString(key)
	require.NoError(t, err)
	mac := hmac.New(sha256.New, k)
	fmt.Fprintf(mac, "%s\n%s\n%s\n%s\n\n", strings.ToLower(verb), strings.ToLower(resourceType), resourceLink, strings.ToLower(date))
	return "type=master&ver=1.0&sig=" + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// attempt is one request the chain sent, as the server received it.
type attempt struct {
	method, host, path string
	status             int    // 0 if no response
	auth               string // the Authorization value, URL-decoded
	date, version      string // x-ms-date, x-ms-version
}

func (a attempt) withoutAuth() attempt {
	return attempt{method: a.method, host: a.host, path: a.path, status: a.status}
}

func (a attempt) String() string {
	return fmt.Sprintf("%s %s%s %d", a.method, a.host, a.path, a.status)
}

// wireLog is the chain's Base: it records every attempt and passes it on.
// Safe for concurrent use.
type wireLog struct {
	next http.RoundTripper

	mu  sync.Mutex // guards log
	log []attempt
}

func (w *wireLog) RoundTrip(req *http.Request) (*http.Response, error) {
	auth, err := url.QueryUnescape(req.Header.Get("Authorization"))
	if err != nil {
		auth = "undecodable"
	}
	a := attempt{
		method:  req.Method,
		host:    req.URL.Host,
		path:    req.URL.Path,
		auth:    auth,
		date:    req.Header.Get("x-ms-date"),
		version: req.Header.Get("x-ms-version"),
	}
	resp, err := w.next.RoundTrip(req)
	if resp != nil {
		a.status = resp.StatusCode
	}
	w.mu.Lock()
	w.log = append(w.log, a)
	w.mu.Unlock()
	return resp, err
}

func (w *wireLog) CloseIdleConnections() {
	if c, ok := w.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (w *wireLog) attempts() []attempt {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]attempt(nil), w.log...)
}

// serverOutput collects the server's output (at most 64 KiB) and sends the
// address from its ready line, once, on ready. Safe for concurrent use.
type serverOutput struct {
	ready chan string // buffered, receives one address

	mu   sync.Mutex // guards buf and sent
	buf  bytes.Buffer
	sent bool
}

const maxServerOutput = 64 << 10

func (o *serverOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if room := maxServerOutput - o.buf.Len(); room > 0 {
		o.buf.Write(p[:min(len(p), room)])
	}
	if !o.sent {
		if m := cosmosdbServerReady.FindSubmatch(o.buf.Bytes()); m != nil {
			o.sent = true
			o.ready <- string(m[1])
		}
	}
	return len(p), nil
}

func (o *serverOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// relay listens on 127.0.0.1 and relays every connection to addr, giving
// the server a second address. It stops when the test ends.
func relay(t *testing.T, addr string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex // guards conns
		conns = map[net.Conn]bool{}
	)
	track := func(cs ...net.Conn) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range cs {
			if conns == nil { // stopped
				c.Close()
				continue
			}
			conns[c] = true
		}
		return conns != nil
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			down, err := ln.Accept()
			if err != nil {
				return // closed by the cleanup
			}
			up, err := net.Dial("tcp", addr)
			if err != nil {
				down.Close()
				continue
			}
			if !track(down, up) {
				continue
			}
			wg.Add(2)
			pipe := func(dst, src net.Conn) {
				defer wg.Done()
				_, _ = io.Copy(dst, src)
				dst.Close()
				src.Close()
			}
			go pipe(up, down)
			go pipe(down, up)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		conns = nil
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}
