package cosmostest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxBodyBytes is the largest request body the account accepts (the
// service's document size limit); larger bodies get 413.
const MaxBodyBytes = 2 << 20

// statusRetryWith is the service's 449 Retry With.
const statusRetryWith = 449

// Response headers of the Cosmos DB REST protocol.
const (
	headerSubStatus    = "X-Ms-Substatus"
	headerActivityID   = "X-Ms-Activity-Id"
	headerCharge       = "X-Ms-Request-Charge"
	headerSessionToken = "X-Ms-Session-Token"
)

// headerTentative is the request header with which a client of a
// multi-write account asks a region other than the hub to accept a write.
const headerTentative = "X-Ms-Cosmos-Allow-Tentative-Writes"

// answer is a response before it is written.
type answer struct {
	status, sub int
	header      http.Header
	body        []byte
	drop        bool    // close the connection instead of answering
	committed   bool    // the request committed at least one write
	rangeID     string  // the partition key range the request reached, or ""
	charge      float64 // request units it cost (see charge.go), as x-ms-request-charge says
	budgeted    bool    // its charge was taken from throughput budgets (see Account.spend)

	// spread is the charge of a cross-partition query or read feed page
	// by the range id it charges: it reached every range, and rangeID is "".
	spread map[string]float64
}

// errorAnswer is an error response with the service's JSON error body.
func errorAnswer(status, sub int, msg string) answer {
	code := strings.ReplaceAll(http.StatusText(status), " ", "")
	if status == statusRetryWith {
		code = "RetryWith"
	}
	if code == "" {
		code = "Error"
	}
	body := encodeJSON(map[string]any{"code": code, "message": msg})
	return answer{status: status, sub: sub, body: body}
}

// handler serves the endpoint called name.
func (a *Account) handler(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.arrive()
		now := a.now()
		op := classify(r)
		ans := a.answer(name, r, op, now)
		// Record before answering, so that a client that has its answer
		// also finds it in the log.
		a.record(Entry{
			Region: name, Method: r.Method, Path: r.URL.Path, Time: now,
			Status: ans.status, SubStatus: ans.sub, Dropped: ans.drop, Write: op.class == WriteOps,
			Tentative: op.tentative, Committed: ans.committed, Range: ans.rangeID,
			Charge: ans.spent(), LowPriority: op.low,
		})
		respond(w, ans)
	})
}

// answer computes the response to r: signature, faults, then the account.
func (a *Account) answer(name string, r *http.Request, op operation, now time.Time) answer {
	if msg := a.verify(r, now); msg != "" {
		return errorAnswer(http.StatusUnauthorized, 0, msg)
	}
	f, rangeID, faulted := a.takeFault(name, op)
	if faulted {
		if (f.Delay > 0 || f.Hold != nil) && r.Body != nil && r.Body != http.NoBody {
			// Read the body first: net/http notices a client that goes
			// away only once the body has been read to its end.
			b, _ := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		if f.Delay > 0 && !a.wait(r.Context(), f.Delay) {
			return answer{drop: true, rangeID: rangeID}
		}
		if f.Hold != nil && !a.hold(r.Context(), f.Hold) {
			return answer{drop: true, rangeID: rangeID}
		}
		if f.Drop {
			return answer{drop: true, rangeID: rangeID}
		}
		if f.Status != 0 {
			ans := faultAnswer(f)
			ans.rangeID = rangeID
			return ans
		}
	}
	ans := a.serve(name, r, op, now)
	if faulted && f.DropAfterCommit {
		return answer{drop: true, committed: ans.committed, rangeID: ans.rangeID, charge: ans.charge, budgeted: ans.budgeted}
	}
	return ans
}

// serve answers a request that passed the signature check and the faults.
func (a *Account) serve(name string, r *http.Request, op operation, now time.Time) answer {
	switch op.kind {
	case opNotFound:
		return errorAnswer(http.StatusNotFound, 0, "cosmostest does not serve this path")
	case opBadMethod:
		return errorAnswer(http.StatusMethodNotAllowed, 0, "method "+r.Method+" not allowed here")
	case opAccount:
		return answer{status: http.StatusOK, body: a.accountDocument()}
	}
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
		if err != nil {
			return errorAnswer(http.StatusBadRequest, 0, "reading the request body failed")
		}
		if len(b) > MaxBodyBytes {
			return errorAnswer(http.StatusRequestEntityTooLarge, 0, "the request body exceeds 2 MB")
		}
		body = b
	}
	return a.execute(name, op, r.Header, body, now)
}

// writable reports whether the endpoint called name accepts op, a write
// that reaches the range rng (nil: none), now. The global endpoint writes
// as the write region (the hub) does unless it is stale, when it writes as
// any other region does. A range failed over on its own writes only in its
// region (see FailoverRange). In a multi-write account every region
// accepts a tentative write. a.mu must be held.
func (a *Account) writable(name string, op operation, rng *pkRange) bool {
	hub := name == a.writeRegion || (name == Global && !a.globalStale)
	if region, ok := a.rangeWriteRegion(op, rng); ok {
		hub = name == region
	}
	return hub || (a.multi && op.tentative)
}

// execute runs an operation against the store. The write region check,
// the throughput budgets (see spend) and the commit happen under one
// lock, so a write is committed only where writes are allowed at the time
// of the commit, and only once its budget admitted it.
func (a *Account) execute(name string, op operation, h http.Header, body []byte, now time.Time) answer {
	a.mu.Lock()
	defer a.mu.Unlock()
	rng := a.store.target(op)
	if op.class == WriteOps && !a.writable(name, op, rng) {
		ans := errorAnswer(http.StatusForbidden, 3, "The requested operation cannot be performed at this region")
		ans.rangeID = rangeID(rng)
		ans.header = http.Header{headerCharge: {"0"}}
		return ans
	}
	ans, t := a.store.do(op, rng, h, body, now)
	ans.charge = requestCharge(op, ans)
	if refusal, ok := a.spend(name, op, &ans, now); !ok {
		ans = refusal // t's writes are dropped
	} else {
		ans.committed = t.commit()
	}
	if ans.header == nil {
		ans.header = make(http.Header)
	}
	ans.header.Set(headerCharge, formatCharge(ans.charge))
	ans.header.Set(headerSessionToken, a.store.sessionToken())
	return ans
}

// respond writes ans to w, or drops the connection.
func respond(w http.ResponseWriter, ans answer) {
	if ans.drop {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler) // aborts the response without one
		}
		conn.Close()
		return
	}
	h := w.Header()
	for k, vs := range ans.header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	h.Set(headerActivityID, newActivityID())
	if ans.rangeID != "" && h.Get(headerRangeID) == "" { // a Fault's own header wins
		h.Set(headerRangeID, ans.rangeID)
	}
	if ans.sub != 0 && h.Get(headerSubStatus) == "" {
		h.Set(headerSubStatus, strconv.Itoa(ans.sub))
	}
	bodyAllowed := ans.status >= 200 && ans.status != http.StatusNoContent && ans.status != http.StatusNotModified
	if bodyAllowed && len(ans.body) > 0 {
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(ans.body)))
	}
	w.WriteHeader(ans.status)
	if bodyAllowed {
		_, _ = w.Write(ans.body) // the client may be gone; nothing to do about it
	}
}

// spent returns what the request took from throughput budgets.
func (ans answer) spent() float64 {
	if !ans.budgeted {
		return 0
	}
	return ans.charge
}

// newActivityID returns a fresh random id in UUID form.
func newActivityID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
