package wire

import (
	"net/http"
	"strings"
)

// A Request is what the chain knows of a request before its first attempt,
// read from it once: the resource it addresses, whether it may change data,
// what kind of document write it is, and the partition it names. Every
// stage that asks these questions of a call asks its Request, so no path
// is parsed and no header is read twice.
type Request struct {
	// Method is the request's method; "" is GET.
	Method string
	// Resource is what the request's path addresses.
	Resource
	// Write reports a request that may change data, and so must not be
	// resent after an ambiguous failure. GET, HEAD and OPTIONS (and the
	// empty method, which means GET) are reads; a POST that is a query
	// (see IsQuery) is a read; every other request is a write.
	Write bool
	// Query reports a POST that is a query (see IsQuery).
	Query bool
	// Batch reports a transactional batch or a bulk request
	// (x-ms-cosmos-is-batch-request "true").
	Batch bool
	// Upsert reports a POST marked as an upsert
	// (x-ms-documentdb-is-upsert "true").
	Upsert bool
	// PartitionKey is the x-ms-documentdb-partitionkey header as sent, ""
	// when absent.
	PartitionKey string
	// RangeID is the x-ms-documentdb-partitionkeyrangeid header as sent,
	// "" when absent.
	RangeID string
}

// Describe reads req once into a Request. It does not allocate unless the
// path has empty segments (see ParsePath).
func Describe(req *http.Request) Request {
	d := Request{Method: req.Method}
	if req.URL != nil {
		d.Resource = ParsePath(req.URL.Path)
	}
	h := req.Header
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions:
	case http.MethodPost:
		d.Query = IsQuery(h)
		d.Write = !d.Query
		d.Batch = IsTrue(first(h, HeaderIsBatch))
		d.Upsert = IsTrue(first(h, HeaderIsUpsert))
	default:
		d.Write = true
	}
	d.PartitionKey = first(h, HeaderPartitionKey)
	d.RangeID = first(h, HeaderPartitionKeyRangeID)
	return d
}

// first is h.Get for a key already in canonical form, as this package's
// header names are: it skips canonicalising the key on the hot path. A
// header set under another spelling (h["x-ms-documentdb-is-upsert"],
// which net/http sends as it is and the service reads as the same
// header) is found too.
func first(h http.Header, canonical string) string {
	if v := Values(h, canonical); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Values returns the values of the header named canonical (in canonical
// form) in h, whatever the spelling of its key: net/http sends a key set
// directly in the map as it is, and header names are case-insensitive on
// the wire. The canonical key is looked up first, without allocating.
func Values(h http.Header, canonical string) []string {
	if v, ok := h[canonical]; ok {
		return v
	}
	for k, v := range h {
		if len(k) == len(canonical) && strings.EqualFold(k, canonical) {
			return v
		}
	}
	return nil
}

// A DocumentWrite is what a request does to one document.
type DocumentWrite uint8

// The document writes a call can track.
const (
	NotDocumentWrite DocumentWrite = iota
	CreateDocument                 // POST to a documents feed
	UpsertDocument                 // POST to a documents feed, marked as an upsert
	ReplaceDocument                // PUT of one document
)

// DocumentWrite says whether the request writes one whole document, and
// how: a POST to a documents feed that is neither a query nor a batch (a
// create, or an upsert), or a PUT of one document.
func (d *Request) DocumentWrite() DocumentWrite {
	if d.Type != "docs" {
		return NotDocumentWrite
	}
	switch {
	case d.Method == http.MethodPost && d.Feed && !d.Query && !d.Batch:
		if d.Upsert {
			return UpsertDocument
		}
		return CreateDocument
	case d.Method == http.MethodPut && !d.Feed:
		return ReplaceDocument
	}
	return NotDocumentWrite
}

// Delete removes the header named canonical (in canonical form) from h,
// under every spelling of its key.
func Delete(h http.Header, canonical string) {
	for k := range h {
		if len(k) == len(canonical) && strings.EqualFold(k, canonical) {
			delete(h, k)
		}
	}
}
