package wire

import (
	"net/http"
	"strconv"
	"strings"
)

// SubStatus returns the x-ms-substatus of a response, or 0 if the header
// is absent, not a decimal integer, or negative.
func SubStatus(h http.Header) int {
	n, _ := LookupSubStatus(h)
	return n
}

// LookupSubStatus returns the x-ms-substatus of a response and whether it
// is present and well formed: a decimal integer, not negative.
func LookupSubStatus(h http.Header) (int, bool) {
	v := strings.TrimSpace(h.Get(HeaderSubStatus))
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// IsTrue reports whether a boolean header's value is "true", in any case,
// spaces around it ignored, as the service reads it.
func IsTrue(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }

// IsQuery reports whether a POST with these headers is a query: header
// x-ms-documentdb-isquery "true" in any case, or Content-Type
// application/query+json (parameters ignored).
func IsQuery(h http.Header) bool {
	if IsTrue(first(h, HeaderIsQuery)) {
		return true
	}
	// The media type without its parameters, compared without allocating.
	mt, _, _ := strings.Cut(first(h, "Content-Type"), ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/query+json")
}

// A Resource is what a request path addresses, as the REST API reads it.
type Resource struct {
	// Type is the resource type that signs the request: the last
	// segment of a feed ("docs" in /dbs/d/colls/c/docs), the
	// second-to-last of a resource ("docs" in …/docs/1); "" for the root,
	// the DatabaseAccount.
	Type string
	// Link is the resource link that signs the request: the whole path of
	// a resource, the path without its last segment for a feed. It never
	// starts or ends with "/".
	Link string
	// Feed reports a path with an odd number of segments: a feed of
	// resources rather than one resource.
	Feed bool
	// Segments is the number of segments of the path.
	Segments int
	// Database and Container are the names in /dbs/{db}/colls/{coll}/…,
	// "" when the path does not name them.
	Database, Container string
}

// ParsePath returns the Resource that path addresses. Empty segments ("//")
// are ignored. It does not allocate unless path has empty segments.
func ParsePath(path string) Resource {
	p := strings.Trim(path, "/")
	if p == "" {
		return Resource{}
	}
	if strings.Contains(p, "//") {
		p = strings.Join(strings.FieldsFunc(p, func(r rune) bool { return r == '/' }), "/")
	}
	r := Resource{Segments: strings.Count(p, "/") + 1}
	r.Feed = r.Segments%2 == 1
	if r.Feed {
		i := strings.LastIndexByte(p, '/')
		r.Type, r.Link = p[i+1:], p[:max(i, 0)]
	} else {
		r.Link = p
		rest := p[:strings.LastIndexByte(p, '/')]
		r.Type = rest[strings.LastIndexByte(rest, '/')+1:]
	}
	if first, rest, _ := strings.Cut(p, "/"); first == "dbs" && rest != "" {
		r.Database, rest, _ = strings.Cut(rest, "/")
		if second, rest, _ := strings.Cut(rest, "/"); second == "colls" && rest != "" {
			r.Container, _, _ = strings.Cut(rest, "/")
		}
	}
	return r
}

// ResourceOf returns the resource type and resource link that sign a
// request for the given URL path (see Resource).
func ResourceOf(path string) (resourceType, resourceLink string) {
	r := ParsePath(path)
	return r.Type, r.Link
}

// ContainerLink returns "dbs/{db}/colls/{coll}" of a request about a
// container's documents (Type "docs"), a part of Link, so it does not
// allocate; "" for any other request.
func (r *Resource) ContainerLink() string {
	if r.Type != "docs" || r.Container == "" {
		return ""
	}
	n := len("dbs/") + len(r.Database) + len("/colls/") + len(r.Container)
	if len(r.Link) < n {
		return ""
	}
	return r.Link[:n]
}
