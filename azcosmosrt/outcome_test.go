package azcosmosrt

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/region"
	"github.com/cosmosrt/cosmosrt/transport"
)

// notTLSAccount is an HTTPS account of one region, West US 2, that serves
// its DatabaseAccount document and answers every create by reading the
// request whole and then writing a plaintext HTTP answer on the bare TCP
// connection, past TLS, and closing it: the client, its request sent,
// reads a record that is not TLS (tls.RecordHeaderError). It counts the
// creates that reached it.
type notTLSAccount struct {
	srv     *httptest.Server
	creates atomic.Int32
}

func newNotTLSAccount(t *testing.T) *notTLSAccount {
	t.Helper()
	a := &notTLSAccount{}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(a.serve))
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	return a
}

func (a *notTLSAccount) endpoint() string { return a.srv.URL + "/" }

// base returns a Base that trusts the account's certificate: an
// *http.Transport, so that the chain sees how far each attempt got.
func (a *notTLSAccount) base() *http.Transport {
	return a.srv.Client().Transport.(*http.Transport).Clone()
}

func (a *notTLSAccount) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/":
		here := []map[string]string{{"name": "West US 2", "databaseAccountEndpoint": a.endpoint()}}
		doc, _ := json.Marshal(map[string]any{
			"id": "nottls", "_rid": "nottls", "writableLocations": here, "readableLocations": here,
			"enableMultipleWriteLocations": false,
			"userConsistencyPolicy":        map[string]any{"defaultConsistencyLevel": "Session"},
		})
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	case r.Method == http.MethodPost && r.URL.Path == docsPath:
		_, _ = io.Copy(io.Discard, r.Body)
		a.creates.Add(1)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err) // an HTTP/1.1 server's writer hijacks
		}
		raw := conn.(*tls.Conn).NetConn()
		_, _ = raw.Write([]byte("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"))
		raw.Close()
	default:
		http.NotFound(w, r)
	}
}

// A create whose answer is not a TLS record, read after the request was
// sent, may have run. The chain returns it as of unknown outcome, with no
// TLS error in reach of errors.As, so azcosmos, which takes a
// tls.RecordHeaderError for a handshake failure and resends such a write
// in the same region 3 times, 1 s apart, resends nothing: one create
// reaches the account, and the caller has the answer at once. (While the
// chain returned the TLS error as it came, 4 creates reached it in 3 s.)
func TestAWriteAnsweredWithoutTLSReachesTheAccountOnce(t *testing.T) {
	acct := newNotTLSAccount(t)
	key, err := region.NewMasterKey(accountKey)
	require.NoError(t, err)
	o := &Options{}
	o.Chain.Base = acct.base()
	client, err := NewClientWithKey(acct.endpoint(), key, o)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, client.Close()) })
	orders, err := client.NewContainer(dbName, collName)
	require.NoError(t, err)

	start := time.Now()
	_, err = orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
	took := time.Since(start)
	t.Logf("%d creates at the account in %v: %v", acct.creates.Load(), took.Round(10*time.Millisecond), err)

	require.Error(t, err)
	assert.Equal(t, int32(1), acct.creates.Load(), "creates that reached the account")
	assert.ErrorIs(t, err, transport.ErrOutcomeUnknown)
	var record tls.RecordHeaderError
	assert.False(t, errors.As(err, &record), "the TLS error is in reach of a client above the chain: %v", err)
	assert.Less(t, took, time.Second, "azcosmos sleeps 1 s before it resends")
}

// heldWrite holds the next write at the write region: arrived waits until
// it is there, release lets it go, dropped without running. (The account
// cannot tell that an HTTP/1.1 client went away while it has not read the
// request's body, so the hold ends when the test says.)
type heldWrite struct {
	arrived, release func()
}

func holdWrite(t *testing.T, acct *cosmostest.Account) heldWrite {
	t.Helper()
	hold := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(hold) }) }
	t.Cleanup(release)
	acct.Inject(acct.WriteRegion(), cosmostest.Fault{Hold: hold, Drop: true, Ops: cosmostest.WriteOps, Count: 1})
	return heldWrite{
		arrived: func() {
			require.Eventually(t, func() bool { return acct.InFlight() == 1 }, 5*time.Second, time.Millisecond,
				"the write reaches the account")
		},
		release: release,
	}
}

// warm makes the client read the account (azcosmos and the chain each do)
// before a test holds a write, so that the write is the one request in
// flight that the test waits for.
func warm(t *testing.T, r *rig) {
	t.Helper()
	_, _ = r.orders.ReadItem(t.Context(), pk, "warm", nil) // a 404 will do
	settled(t, r.acct)
	r.acct.ResetLog()
}

// settled waits until the account has logged every request it read.
func settled(t *testing.T, acct *cosmostest.Account) {
	t.Helper()
	require.Eventually(t, func() bool { return acct.InFlight() == 0 }, 5*time.Second, time.Millisecond)
}

// deadlineCue is a context whose deadline passes when the test calls end:
// from then on Done is closed and Err is context.DeadlineExceeded, as for
// a context.WithDeadline whose time has come. A real timer would race the
// request to the account; the tests need the request there first. It has
// no parent, so that context.Cause gives its Err.
type deadlineCue struct {
	context.Context // context.Background(), for Value
	deadline        time.Time
	done            chan struct{}
	once            sync.Once
}

// newDeadlineCue returns a deadlineCue whose stated deadline is an hour
// away, far enough that nothing the chain decides depends on it.
func newDeadlineCue() *deadlineCue {
	return &deadlineCue{Context: context.Background(), deadline: time.Now().Add(time.Hour), done: make(chan struct{})}
}

func (c *deadlineCue) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *deadlineCue) Done() <-chan struct{}       { return c.done }

func (c *deadlineCue) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

func (c *deadlineCue) end() { c.once.Do(func() { close(c.done) }) }

// The caller cancels a create while the account holds it: through azcosmos
// the caller gets an error for which errors.Is(err, context.Canceled)
// holds, and the create reached the account once, uncommitted.
func TestCancellingAHeldWriteReturnsCanceled(t *testing.T) {
	r := newRig(t, cosmostest.Options{}, nil)
	warm(t, r)
	held := holdWrite(t, r.acct)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	body := orderJSON(t, "1", 10)
	errc := make(chan error, 1)
	go func() {
		_, err := r.orders.CreateItem(ctx, pk, body, nil)
		errc <- err
	}()
	held.arrived()
	cancel()
	err := <-errc

	require.ErrorIs(t, err, context.Canceled)
	held.release()
	settled(t, r.acct)
	assert.Equal(t, []string{"POST docs West US 2 dropped"}, trail(r.acct))
	assert.Zero(t, r.acct.Commits(dbName, collName, "1"))
}

// The caller's deadline ends a create the account holds: through azcosmos
// the caller gets context.DeadlineExceeded itself. azcore's retry policy
// returns the bare error of the call's context once it has ended, dropping
// the chain's error (azcosmos keeps only its text), so errors.Is(err,
// transport.ErrOutcomeUnknown) does not hold through azcosmos then:
// a caller that must know whether such a write ran reads the item back.
func TestADeadlineEndingAHeldWriteReturnsDeadlineExceeded(t *testing.T) {
	r := newRig(t, cosmostest.Options{}, nil)
	warm(t, r)
	held := holdWrite(t, r.acct)
	ctx := newDeadlineCue()

	body := orderJSON(t, "1", 10)
	errc := make(chan error, 1)
	go func() {
		_, err := r.orders.CreateItem(ctx, pk, body, nil)
		errc <- err
	}()
	held.arrived()
	ctx.end()
	err := <-errc

	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, transport.ErrOutcomeUnknown, "azcore returns the context's error alone")
	held.release()
	settled(t, r.acct)
	assert.Equal(t, []string{"POST docs West US 2 dropped"}, trail(r.acct))
	assert.Zero(t, r.acct.Commits(dbName, collName, "1"))
}

// Through the chain alone, a create whose request was sent before the
// caller's context ended is of unknown outcome, and the error says both:
// errors.Is(err, transport.ErrOutcomeUnknown) and errors.Is(err, the
// context's error) hold, and it is an *OutcomeUnknownError counting one
// attempt. The create is not resent.
func TestAWriteSentBeforeTheCallerEndsIsOfUnknownOutcome(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  func(context.Context) (context.Context, func())
		want error
	}{
		{"cancelled", func(parent context.Context) (context.Context, func()) {
			return context.WithCancel(parent)
		}, context.Canceled},
		{"deadline", func(context.Context) (context.Context, func()) {
			c := newDeadlineCue()
			return c, c.end
		}, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acct := cosmostest.NewAccount(cosmostest.Options{})
			t.Cleanup(acct.Close)
			chain, err := transport.New(transport.Options{Endpoint: acct.Endpoint(), Key: acct.Key()})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, chain.Close()) })
			client := &http.Client{Transport: chain}
			// The chain reads the account first, so that the held write is
			// the one request in flight the test waits for.
			warmup, err := http.NewRequestWithContext(t.Context(), http.MethodGet, acct.Endpoint()+docsPath[1:]+"/warm", nil)
			require.NoError(t, err)
			warmup.Header.Set("x-ms-documentdb-partitionkey", `["eu"]`)
			resp, err := client.Do(warmup)
			require.NoError(t, err)
			resp.Body.Close()
			settled(t, acct)
			acct.ResetLog()
			held := holdWrite(t, acct)
			ctx, end := tc.ctx(t.Context())
			defer end()

			req, err := http.NewRequestWithContext(ctx, http.MethodPost, acct.Endpoint()+docsPath[1:],
				bytes.NewReader(orderJSON(t, "1", 10)))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("x-ms-documentdb-partitionkey", `["eu"]`)
			errc := make(chan error, 1)
			go func() {
				resp, err := client.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				errc <- err
			}()
			held.arrived()
			end()
			err = <-errc

			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, err, transport.ErrOutcomeUnknown)
			var unknown *transport.OutcomeUnknownError
			if assert.ErrorAs(t, err, &unknown) {
				assert.Equal(t, 1, unknown.Attempts)
			}
			held.release()
			settled(t, acct)
			assert.Equal(t, []string{"POST docs West US 2 dropped"}, trail(acct))
			assert.Zero(t, acct.Commits(dbName, collName, "1"))
		})
	}
}
