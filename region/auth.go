package region

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// APIVersion is the value of the x-ms-version header that the chain sends
// when it signs a request itself.
const APIVersion = "2018-12-31"

// Header names of the Cosmos DB REST protocol used for signing.
const (
	HeaderDate    = "X-Ms-Date"
	HeaderVersion = "X-Ms-Version"
)

// ErrBadKey reports a master key that is not valid base64.
var ErrBadKey = errors.New("region: master key is not valid base64")

// A Credential produces the Authorization header of a Cosmos DB request.
// Implementations must be safe for concurrent use.
type Credential interface {
	// Authorization returns the Authorization header value for a request
	// with the given verb (any case), resource type, resource link and
	// x-ms-date value (RFC 1123, as sent).
	Authorization(ctx context.Context, verb, resourceType, resourceLink, date string) (string, error)
}

// MasterKey is a Credential that signs with an account's primary or
// secondary key (HMAC-SHA256). It is safe for concurrent use.
type MasterKey struct {
	key []byte
}

// NewMasterKey decodes a base64 account key. The error, if any, wraps
// ErrBadKey and never contains the key.
func NewMasterKey(key string) (*MasterKey, error) {
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(k) == 0 {
		return nil, ErrBadKey
	}
	return &MasterKey{key: k}, nil
}

// Authorization implements Credential.
func (m *MasterKey) Authorization(_ context.Context, verb, resourceType, resourceLink, date string) (string, error) {
	return url.QueryEscape("type=master&ver=1.0&sig=" + m.Signature(verb, resourceType, resourceLink, date)), nil
}

// Signature returns the base64 HMAC-SHA256 signature of the canonical
// string built from the verb, resource type, resource link and date.
func (m *MasterKey) Signature(verb, resourceType, resourceLink, date string) string {
	h := hmac.New(sha256.New, m.key)
	h.Write([]byte(strings.ToLower(verb) + "\n" + strings.ToLower(resourceType) + "\n" +
		resourceLink + "\n" + strings.ToLower(date) + "\n" + "\n"))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
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

// Sign sets x-ms-date (from now), x-ms-version (when absent) and
// Authorization on req, computed by cred from req's method and path.
// It modifies req's headers: callers sign their own copy.
func Sign(ctx context.Context, req *http.Request, cred Credential, now time.Time) error {
	date := now.UTC().Format(http.TimeFormat)
	rtype, link := ResourceOf(req.URL.Path)
	auth, err := cred.Authorization(ctx, req.Method, rtype, link, date)
	if err != nil {
		return fmt.Errorf("region: signing request: %w", err)
	}
	req.Header.Set(HeaderDate, date)
	if req.Header.Get(HeaderVersion) == "" {
		req.Header.Set(HeaderVersion, APIVersion)
	}
	req.Header.Set("Authorization", auth)
	return nil
}
