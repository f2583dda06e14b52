package decide

import "net/http"

// The tracked-write doubt. An attempt of a write whose outcome the call
// cannot see (a transport error after the request may have left, a 408,
// a 503) may have committed. Untracked, such a write is not resent, so it
// never runs twice. Tracked (Situation.Tracked), it carries an id of the
// call's in its item, so a read of the item tells whether some attempt
// committed: the call is then in doubt for the rest of its attempts, and
// each decision says when to read the item back (Decision.ReadBack):
//
//   - before a resend, unless the write creates its item (Situation.Creates):
//     a resent create cannot run twice, since the service refuses it (409)
//     if an earlier attempt committed, and that 409 is read back instead;
//   - before returning an answer a read-back can settle: no response (an
//     error), 409 (a resent create met its own item), 412 (a resent
//     replace met its own change), 503 or 408 (the last attempt is in
//     doubt too).
//
// Every other answer that ends the call (a 2xx, a 404, a 429 out of
// retries, ...) is returned as it came.

// noteDoubt records that the call's last attempt, of outcome o, may have
// committed without the call knowing.
func (c *Call) noteDoubt(o Outcome, s Situation) {
	if s.Tracked && (o == Ambiguous || o == Unavailable || o == RequestTimeout) {
		c.doubt = true
	}
}

// readBack reports whether decision d, made after an answer resp, must read
// the tracked item back first.
func (c *Call) readBack(d Decision, resp *http.Response, s Situation) bool {
	switch {
	case !c.doubt:
		return false
	case d.Retry:
		return !s.Creates
	}
	return settles(resp)
}

// settles reports whether a read-back can settle an answer that ends a
// call in doubt.
func settles(resp *http.Response) bool {
	if resp == nil {
		return true
	}
	switch resp.StatusCode {
	case http.StatusConflict, http.StatusPreconditionFailed, http.StatusServiceUnavailable, http.StatusRequestTimeout:
		return true
	}
	return false
}
