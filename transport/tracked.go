package transport

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/decide"
	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// trackingProperty is the document property that carries a write's
// tracking id, as the Java SDK names it.
const trackingProperty = "_trackingId"

// readBackTime bounds each read-back of a tracked write, its retries
// included.
const readBackTime = 5 * time.Second

// maxItemSize is the service's limit on an item's size. A document that
// would not fit with its tracking id added is sent untracked.
const maxItemSize = 2 << 20

// tracking is what a tracked write needs to settle a doubt: its id and
// where its item is. Whether there is a doubt, and what a read-back
// decides, is the retry policy's (decide.Tracking). A nil *tracking is a
// call that is not tracked.
type tracking struct {
	id       string
	kind     wire.DocumentWrite
	ifMatch  string // the caller's If-Match, or the base the chain guards a resend with; "" if none
	base     string // the etag the body brought (a read-modify-write's "_etag"); "" if none
	guarded  bool   // resent with If-Match: base, the chain's guard
	path     string // the item's path, unescaped, for the read-back's URL and signature
	rawPath  string // the item's path, escaped once
	asCreate bool   // an upsert resent as a create
}

// startTracking prepares call c, whose options are ro, for settling a
// doubt about its write. A create, upsert or replace of a document that
// the chain can read back (see account.Route.CanTrack) and whose body is
// a JSON object of a size the service accepts gets the call's tracking id,
// written over any the body brought, and is sent from a buffer from then
// on. A delete of a document is resent after a doubt. Every other call is
// left as it is, and so is its body unless it had to be read to decide.
func (r *Retry) startTracking(c *call, ro RequestOptions) *tracking {
	if c.desc.Method == http.MethodDelete && c.desc.Type == "docs" && !c.desc.Feed {
		c.route.Track(decide.Tracking{Deletes: true})
		return nil
	}
	kind := c.desc.DocumentWrite()
	if kind == wire.NotDocumentWrite || !c.route.CanTrack() {
		return nil
	}
	if n := c.req.ContentLength; n > maxItemSize {
		return nil
	}
	buf, ok := c.body.content(min(r.maxBody, maxItemSize))
	if !ok {
		return nil
	}
	id := ro.TrackingID
	if id == "" {
		id = newTrackingID()
	}
	tracked, props, ok := withTrackingID(buf, id)
	if !ok || len(tracked) > maxItemSize || kind != wire.ReplaceDocument && props.id == "" {
		return nil
	}
	docID := props.id
	t := &tracking{id: id, kind: kind, base: props.etag}
	if v := wire.Values(c.req.Header, wire.HeaderIfMatch); len(v) > 0 {
		t.ifMatch = v[0]
	}
	t.path, t.rawPath = c.req.URL.Path, c.req.URL.EscapedPath()
	if kind != wire.ReplaceDocument {
		t.path = strings.TrimSuffix(t.path, "/") + "/" + docID
		t.rawPath = strings.TrimSuffix(t.rawPath, "/") + "/" + escapeSegment(docID)
	}
	c.body = c.body.rebuffer(tracked)
	c.route.Track(decide.Tracking{
		Tracked: true,
		Creates: kind == wire.CreateDocument,
		Upserts: kind == wire.UpsertDocument,
		IfMatch: t.ifMatch != "",
	})
	c.rec.Track(id)
	return t
}

// docProperties are the top-level properties of a document that tracking
// reads: its id and the etag it brought, each "" unless a string.
type docProperties struct{ id, etag string }

// withTrackingID returns doc, a JSON object, with its top-level
// trackingProperty set to id: written in place over each value the
// document brought, else added first, without re-encoding the rest. It
// also returns the document's top-level "id" and "_etag". ok is false when
// doc is not a single JSON object.
func withTrackingID(doc []byte, id string) (out []byte, props docProperties, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, props, false
	}
	open := dec.InputOffset()
	var spans [][2]int64 // the values of trackingProperty
	properties := 0
	for ; dec.More(); properties++ {
		key, err := dec.Token()
		if err != nil {
			return nil, props, false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, props, false
		}
		end := dec.InputOffset()
		switch key {
		case trackingProperty:
			spans = append(spans, [2]int64{end - int64(len(raw)), end})
		case "id":
			props.id = ""
			_ = json.Unmarshal(raw, &props.id) // not a string: no id
		case "_etag":
			props.etag = ""
			_ = json.Unmarshal(raw, &props.etag)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, props, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, props, false // more than one value
	}
	value, _ := json.Marshal(id) // a string always encodes
	if len(spans) == 0 {
		property := slices.Concat([]byte(`"`+trackingProperty+`":`), value)
		if properties > 0 {
			property = append(property, ',')
		}
		return slices.Concat(doc[:open], property, doc[open:]), props, true
	}
	out = make([]byte, 0, len(doc)+len(spans)*len(value))
	at := int64(0)
	for _, s := range spans {
		out = append(out, doc[at:s[0]]...)
		out = append(out, value...)
		at = s[1]
	}
	return append(out, doc[at:]...), props, true
}

// escapeSegment escapes a document id for one path segment of a URL, as
// the service expects it: once, every byte that is not unreserved.
func escapeSegment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&15])
	}
	return b.String()
}

// newTrackingID returns a random (version 4) UUID.
func newTrackingID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// readBack is what a tracked write's read-back learned.
type readBack struct {
	found   decide.Found
	resp    *http.Response // the read-back's answer, its body read into item; nil unless found
	item    []byte
	stopped error // why it gave up: the call's context, ErrClosed; nil otherwise
}

// readBack reads call c's tracked item where its last attempt went, as
// a small call of its own under the chain's rules held to that endpoint (a
// 429 waits its hint, a 503, a 500, a 408 or a failed attempt is tried
// again in place), bounded by readBackTime and the call's context, and
// says what it found. Only a 200 with the call's tracking id is the
// call's. Each read-back is traced and recorded as one, and its request
// charge is added to the call's.
func (r *Retry) readBack(ctx context.Context, c *call) *readBack {
	switch {
	case c.track == nil:
		return &readBack{}
	case ctx.Err() != nil:
		return &readBack{stopped: ctx.Err()}
	case r.isClosed():
		return &readBack{stopped: ErrClosed}
	}
	rctx, cancelRead := context.WithTimeout(ctx, readBackTime)
	defer cancelRead()
	deadline, _ := rctx.Deadline()
	rc := r.policy.Call()
	for {
		get, err := c.readBackRequest(rctx)
		if err != nil {
			return &readBack{stopped: ctx.Err()}
		}
		actx := c.rec.ReadBack(rctx, c.route.SentRegion())
		resp, err := r.next.RoundTrip(get.WithContext(actx))
		o := r.policy.Judge(resp, err)
		if rb, ok := c.track.judge(resp, r.maxBody); ok {
			c.rec.Answered(actx, resp, nil, false, o, 0)
			return rb
		}
		d := rc.Decide(o, resp, decide.Situation{Replayable: true, Stay: true, Deadline: deadline})
		c.rec.Answered(actx, resp, err, d.Retry, d.Reason, d.Wait)
		r.discard(resp, nil)
		if !d.Retry {
			return &readBack{stopped: ctx.Err()}
		}
		if werr := r.wait(rctx, d.Wait); werr != nil {
			if errors.Is(werr, ErrClosed) {
				return &readBack{stopped: ErrClosed}
			}
			return &readBack{stopped: ctx.Err()}
		}
	}
}

// readBackRequest returns a GET of the call's tracked item, signed by the
// chain, for the endpoint where its write met its doubt. It carries the
// headers that say which item and what the caller has seen: the partition
// key, the API version, the caller's session token.
func (c *call) readBackRequest(ctx context.Context) (*http.Request, error) {
	u := *c.req.URL
	u.Path, u.RawPath, u.RawQuery, u.Fragment = c.track.path, c.track.rawPath, "", ""
	get, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	for _, h := range []string{wire.HeaderPartitionKey, wire.HeaderVersion, wire.HeaderSessionToken} {
		if v := wire.Values(c.req.Header, h); len(v) > 0 {
			get.Header[h] = v
		}
	}
	if err := c.route.SignAt(ctx, get); err != nil {
		return nil, err
	}
	return get, nil
}

// judge reads a read-back's answer resp: ok reports that it says what
// became of the item (a 200 whose body is read, or a 404 without
// sub-status); any other answer is the read-back's to retry or give up.
func (t *tracking) judge(resp *http.Response, limit int64) (rb *readBack, ok bool) {
	switch {
	case resp == nil:
		return nil, false
	case resp.StatusCode == http.StatusNotFound && wire.SubStatus(resp.Header) == 0:
		wire.Drain(resp, 0, nil)
		return &readBack{found: decide.FoundAbsent}, true
	case resp.StatusCode != http.StatusOK:
		return nil, false
	}
	defer resp.Body.Close()
	item, err := io.ReadAll(io.LimitReader(resp.Body, max(limit, maxItemSize)+1))
	if err != nil {
		return &readBack{}, true
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(item, &doc) != nil {
		return &readBack{}, true
	}
	var id string
	if json.Unmarshal(doc[trackingProperty], &id) == nil && id == t.id {
		return &readBack{found: decide.FoundOurs, resp: resp, item: item}, true
	}
	etag := resp.Header.Get(wire.HeaderETag)
	if etag == "" {
		_ = json.Unmarshal(doc["_etag"], &etag)
	}
	if etag != "" && (t.ifMatch != "" && etag == t.ifMatch || t.ifMatch == "" && etag == t.base) {
		return &readBack{found: decide.FoundBase}, true
	}
	return &readBack{found: decide.FoundOther}, true
}

// success returns the answer the call's committed attempt would have
// given, made from the read-back rb that found it: 201 with the stored
// item for a create, 200 for a replace or an upsert; with no body when the
// caller asked for none (Prefer: return=minimal).
func (c *call) success(rb *readBack) *http.Response {
	status := http.StatusOK
	if c.track.kind == wire.CreateDocument {
		status = http.StatusCreated
	}
	item := rb.item
	header := rb.resp.Header.Clone()
	if prefer := wire.Values(c.req.Header, wire.HeaderPrefer); len(prefer) > 0 && strings.Contains(strings.ToLower(prefer[0]), "return=minimal") {
		item = nil
		header.Del("Content-Type")
	}
	header.Set("Content-Length", strconv.Itoa(len(item)))
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         rb.resp.Proto,
		ProtoMajor:    rb.resp.ProtoMajor,
		ProtoMinor:    rb.resp.ProtoMinor,
		Header:        header,
		Body:          io.NopCloser(bytes.NewReader(item)),
		ContentLength: int64(len(item)),
		Request:       c.req,
	}
}

// gone returns the answer of a delete that met a doubt and then found its
// item gone (a 404 for resp): 204, with resp's headers.
func (c *call) gone(resp *http.Response) *http.Response {
	header := resp.Header.Clone()
	header.Del(wire.HeaderSubStatus)
	header.Del("Content-Type")
	header.Set("Content-Length", "0")
	return &http.Response{
		Status:     "204 " + http.StatusText(http.StatusNoContent),
		StatusCode: http.StatusNoContent,
		Proto:      resp.Proto, ProtoMajor: resp.ProtoMajor, ProtoMinor: resp.ProtoMinor,
		Header:  header,
		Body:    http.NoBody,
		Request: c.req,
	}
}

// foundReason says, for the unknown outcome, what a read-back found.
func foundReason(f decide.Found) string {
	switch f {
	case decide.FoundAbsent:
		return "the item was not found, which does not prove that the write did not run"
	case decide.FoundOther:
		return "the item holds another version, which may have overwritten this write"
	case decide.FoundBase:
		return "the item is still the If-Match version, but the write could not be resent"
	}
	return "the item could not be read back"
}
