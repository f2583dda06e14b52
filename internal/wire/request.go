package wire

import (
	"net/http"
	"strconv"
	"strings"
)

// SubStatus returns the x-ms-substatus of a response, or 0 if the header
// is absent, not a decimal integer, or negative.
func SubStatus(h http.Header) int {
	v := strings.TrimSpace(h.Get(HeaderSubStatus))
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// IsWrite reports whether a request may change data, and so must not be
// resent after an Ambiguous failure. GET, HEAD and OPTIONS (and the empty
// method, which means GET) are reads; a POST that is a query (header
// x-ms-documentdb-isquery "true" in any case, or Content-Type
// application/query+json) is a read; every other request, including a nil
// one, is a write.
func IsWrite(req *http.Request) bool {
	if req == nil {
		return true
	}
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	case http.MethodPost:
		return !IsQuery(req.Header)
	default:
		return true
	}
}

// IsQuery reports whether a POST with these headers is a query: header
// x-ms-documentdb-isquery "true" in any case, or Content-Type
// application/query+json (parameters ignored).
func IsQuery(h http.Header) bool {
	if strings.EqualFold(strings.TrimSpace(h.Get(HeaderIsQuery)), "true") {
		return true
	}
	// The media type without its parameters, compared without allocating.
	mt, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/query+json")
}

// ResourceOf returns the resource type and resource link that sign a request
// for the given URL path. Empty segments ("//") are ignored. An even number
// of segments names a resource (type is the second-to-last segment, link
// the segments joined by "/"); an odd number names a feed (type is the last
// segment, link the ones before it). The root ("/") has an empty type and
// link: the DatabaseAccount. The link never starts or ends with "/".
func ResourceOf(path string) (resourceType, resourceLink string) {
	p := strings.Trim(path, "/")
	if p == "" {
		return "", ""
	}
	if strings.Contains(p, "//") {
		p = strings.Join(strings.FieldsFunc(p, func(r rune) bool { return r == '/' }), "/")
	}
	segs := strings.Split(p, "/")
	if len(segs)%2 == 0 {
		return segs[len(segs)-2], p
	}
	return segs[len(segs)-1], strings.Join(segs[:len(segs)-1], "/")
}
