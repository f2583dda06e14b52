package cosmostest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// MaxClockSkew is how far a request's x-ms-date may be from the account's
// clock (Options.Now) before the request is refused with 401.
const MaxClockSkew = 15 * time.Minute

// verify checks r's master-key signature against the account key, the
// request's method, path (through wire.ResourceOf) and x-ms-date (or
// Date). It returns "" if r may proceed, or the reason it may not; the
// reason never holds the signature or the key.
func (a *Account) verify(r *http.Request, now time.Time) string {
	date := r.Header.Get(wire.HeaderDate)
	if date == "" {
		date = r.Header.Get("Date")
	}
	if date == "" {
		return "The request has no x-ms-date header."
	}
	t, err := http.ParseTime(date)
	if err != nil {
		return "The x-ms-date header is not an RFC 1123 date."
	}
	if d := now.Sub(t); d > MaxClockSkew || d < -MaxClockSkew {
		return "The x-ms-date header is more than 15 minutes away from the server's clock."
	}
	typ, ver, sig, ok := parseAuthorization(r.Header.Get("Authorization"))
	switch {
	case !ok:
		return "The Authorization header is missing or malformed."
	case !strings.EqualFold(typ, "master") || ver != "1.0":
		return "Only master-key authorization (type=master&ver=1.0) is supported."
	}
	rtype, link := resourceOf(r.URL.Path)
	want := masterSignature(a.rawKey, r.Method, rtype, link, date)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return "The input authorization token can't serve the request. The payload was built from: verb " +
			strings.ToLower(r.Method) + ", resource type '" + rtype + "', resource link '" + link + "', date '" + date + "'."
	}
	return ""
}

// resourceOf returns the resource type and resource link that sign a
// request for the given URL path, as wire.ResourceOf does, except for one
// offer, which is signed by its resource id lower-cased (see offerLink).
func resourceOf(path string) (resourceType, resourceLink string) {
	if link, ok := offerLink(path); ok {
		return offersType, link
	}
	return wire.ResourceOf(path)
}

// parseAuthorization splits an Authorization header value, URL-query
// escaped or not, into its type, version and signature.
func parseAuthorization(h string) (typ, ver, sig string, ok bool) {
	if strings.HasPrefix(strings.ToLower(h), "type%3d") {
		u, err := url.QueryUnescape(h)
		if err != nil {
			return "", "", "", false
		}
		h = u
	}
	for part := range strings.SplitSeq(h, "&") {
		k, v, found := strings.Cut(part, "=")
		if !found {
			return "", "", "", false
		}
		switch strings.ToLower(k) {
		case "type":
			typ = v
		case "ver":
			ver = v
		case "sig":
			sig = v
		}
	}
	return typ, ver, sig, sig != ""
}

// masterSignature is the REST API's master-key signature of a request,
// computed here rather than by the chain's own signer, so that the account
// checks the chain's signatures against an independent implementation.
func masterSignature(key []byte, verb, resourceType, resourceLink, date string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(strings.ToLower(verb) + "\n" + strings.ToLower(resourceType) + "\n" +
		resourceLink + "\n" + strings.ToLower(date) + "\n\n"))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
