package transport

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// trackingProperty is the document property that carries a write's
// tracking id, as the Java SDK names it.
const trackingProperty = "_trackingId"

// readBackTime bounds the one read that settles a tracked write's doubt.
const readBackTime = 5 * time.Second

// tracking is what a tracked write needs to settle a doubt: its id and
// the document it writes. Whether there is a doubt, and when to read the
// document back, is the retry policy's (decide.Decision.ReadBack). A nil
// *tracking is a call that is not tracked.
type tracking struct {
	id   string
	kind wire.DocumentWrite
	path string // the document's path, for the read-back
}

// startTracking prepares call c as a tracked write when it is a create,
// replace or upsert of a document whose body is a JSON object: the body
// gets a tracking id (or keeps the caller's) and is buffered anew. It
// returns nil, with the body untouched, for every other call.
func (r *Retry) startTracking(c *call) *tracking {
	kind := c.desc.DocumentWrite()
	if kind == wire.NotDocumentWrite {
		return nil
	}
	buf, ok := c.body.content(r.maxBody)
	if !ok {
		return nil
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(buf, &doc) != nil || doc == nil {
		return nil // not a JSON object: sent untouched
	}
	t := &tracking{kind: kind, path: c.req.URL.Path}
	if kind != wire.ReplaceDocument {
		var id string
		if json.Unmarshal(doc["id"], &id) != nil || id == "" {
			return nil
		}
		t.path = strings.TrimSuffix(t.path, "/") + "/" + url.PathEscape(id)
	}
	if raw, ok := doc[trackingProperty]; ok {
		if json.Unmarshal(raw, &t.id) != nil || t.id == "" {
			return nil // a caller's property we cannot match: untracked
		}
	} else {
		t.id = newTrackingID()
		// The property goes first, without re-encoding the document.
		i := bytes.IndexByte(buf, '{') + 1
		property := `"` + trackingProperty + `":"` + t.id + `"`
		if len(doc) > 0 {
			property += ","
		}
		buf = slices.Concat(buf[:i], []byte(property), buf[i:])
	}
	if !c.route.Track(kind == wire.CreateDocument) {
		return nil // the chain cannot sign the read that settles a doubt
	}
	c.body = c.body.rebuffer(buf)
	return t
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

// settle reads the tracked document back and, if it holds the call's
// tracking id, returns the answer the committed attempt would have given:
// 201 with the stored item for a create, 200 for a replace or an upsert.
// It returns nil when the read fails or the document is not the call's
// (then the caller's answer stands). The read is signed by the chain, goes
// to the endpoint of the call's last attempt, is bounded by readBackTime,
// and its request charge is added to the call's.
func (r *Retry) settle(ctx context.Context, c *call) *http.Response {
	if c.track == nil || ctx.Err() != nil {
		return nil
	}
	req, t := c.req, c.track
	ctx, cancel := context.WithTimeout(ctx, readBackTime)
	defer cancel()
	u := *req.URL
	u.Path, u.RawPath, u.RawQuery = t.path, "", ""
	get, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil
	}
	for _, h := range []string{wire.HeaderPartitionKey, wire.HeaderVersion} {
		if v := req.Header.Values(h); len(v) > 0 {
			get.Header[h] = v
		}
	}
	if c.route.SignAt(ctx, get) != nil {
		return nil
	}
	resp, err := r.next.RoundTrip(get)
	if err != nil {
		return nil
	}
	c.rec.Answered(ctx, resp, nil, false, nil, 0)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		wire.Drain(resp, r.maxDrain, cancel)
		return nil
	}
	stored, err := io.ReadAll(io.LimitReader(resp.Body, max(r.maxBody, 0)+1))
	if err != nil {
		return nil
	}
	var doc struct {
		TrackingID string `json:"_trackingId"`
	}
	if json.Unmarshal(stored, &doc) != nil || doc.TrackingID != t.id {
		return nil
	}
	status := http.StatusOK
	if t.kind == wire.CreateDocument {
		status = http.StatusCreated
	}
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         resp.Proto,
		ProtoMajor:    resp.ProtoMajor,
		ProtoMinor:    resp.ProtoMinor,
		Header:        resp.Header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(stored)),
		ContentLength: int64(len(stored)),
		Request:       req,
	}
}
