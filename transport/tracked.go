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

	"github.com/cosmosrt/cosmosrt/internal/account"
	"github.com/cosmosrt/cosmosrt/internal/instrument"
	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// trackingProperty is the document property that carries a write's
// tracking id, as the Java SDK names it.
const trackingProperty = "_trackingId"

// readBackTime bounds the one read that settles a tracked write's doubt.
const readBackTime = 5 * time.Second

// writeKind is what a tracked write does to its document.
type writeKind uint8

const (
	createDoc writeKind = iota + 1
	replaceDoc
	upsertDoc
)

// tracking is the state of one tracked write: its id, the document it
// writes, and whether an attempt of doubtful outcome was made.
type tracking struct {
	id    string
	kind  writeKind
	path  string // the document's path, for the read-back
	doubt bool   // an attempt may have committed without the caller knowing
}

// track prepares a tracked write when the options ask for it and req is a
// create, replace or upsert of a document whose body is a JSON object: the
// body gets a tracking id (or keeps the caller's) and is buffered anew.
// It returns nil, with body untouched, for every other request.
func (r *Retry) track(req *http.Request, body *replayBody, rt *account.Route, on bool) *tracking {
	if !on {
		return nil
	}
	kind, path := writeOf(req)
	if kind == 0 {
		return nil
	}
	buf, ok := body.content(r.maxBody)
	if !ok {
		return nil
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(buf, &doc) != nil || doc == nil {
		return nil // not a JSON object: sent untouched
	}
	t := &tracking{kind: kind, path: path}
	if kind != replaceDoc {
		var id string
		if json.Unmarshal(doc["id"], &id) != nil || id == "" {
			return nil
		}
		t.path = path + "/" + url.PathEscape(id)
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
	if !rt.Track() {
		return nil // the chain cannot sign the read that settles a doubt
	}
	*body = body.rebuffer(buf)
	return t
}

// writeOf says whether req writes one document, and how: a POST to a
// documents feed (a create, or an upsert) that is not a batch, or a PUT of
// one document. path is the feed's or the document's path.
func writeOf(req *http.Request) (writeKind, string) {
	p := wire.ParsePath(req.URL.Path)
	if p.Type != "docs" {
		return 0, ""
	}
	switch {
	case req.Method == http.MethodPost && p.Feed && !wire.IsQuery(req.Header) &&
		!wire.IsTrue(req.Header.Get(wire.HeaderIsBatch)):
		if wire.IsTrue(req.Header.Get(wire.HeaderIsUpsert)) {
			return upsertDoc, strings.TrimSuffix(req.URL.Path, "/")
		}
		return createDoc, strings.TrimSuffix(req.URL.Path, "/")
	case req.Method == http.MethodPut && !p.Feed:
		return replaceDoc, req.URL.Path
	}
	return 0, ""
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
func (r *Retry) settle(ctx context.Context, req *http.Request, t *tracking, rt *account.Route, call *instrument.Call) *http.Response {
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
	if rt.SignAt(ctx, get) != nil {
		return nil
	}
	resp, err := r.next.RoundTrip(get)
	if err != nil {
		return nil
	}
	call.Answered(ctx, resp, nil, false, nil, 0)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		drain(resp, r.maxDrain, cancel)
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
	if t.kind == createDoc {
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
