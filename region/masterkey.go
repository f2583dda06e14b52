package region

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync/atomic"
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
// secondary key (HMAC-SHA256). It is safe for concurrent use, Update
// included: a signature uses either the old key or the new one, whole.
// The zero MasterKey has no key until Update gives it one.
//
// A MasterKey never prints its key: every fmt verb (%v, %+v, %#v, %s,
// %q, %x, …) of a *MasterKey, or of a struct holding one, prints
// "region.MasterKey(redacted)" or, for a MasterKey held by value or in an
// unexported field, only an address; encoding/json, and so log/slog's
// JSON handler, writes the string "region.MasterKey(redacted)" (its text
// handler prints it as fmt does). Do not copy a MasterKey (go vet reports
// copies); share the pointer.
//
// To rotate a key, give the chain a *MasterKey as its credential rather
// than the key text, and call Update with the new key. With the adapter
// module github.com/cosmosrt/cosmosrt/azcosmosrt that is all: its
// NewClientWithKey takes the *MasterKey and the chain signs every request,
// azcosmos's included. An SDK used by hand above the chain, signing its
// own requests, must be rotated too, by the same function. With azcosmos
// v1.5.0, whose NewClientWithKey keeps a copy of the KeyCredential it is
// given (so that KeyCredential.Update does not reach a client already
// built), that function also builds the client again, over the same chain:
//
//	mk, _ := region.NewMasterKey(key) // the chain's Credential
//	cred, _ := azcosmos.NewKeyCredential(key)
//
//	rotate := func(key string) (*azcosmos.Client, error) {
//		if err := mk.Update(key); err != nil {
//			return nil, err // the chain keeps the old key
//		}
//		if err := cred.Update(key); err != nil {
//			return nil, err
//		}
//		return azcosmos.NewClientWithKey(endpoint, cred, opts) // opts: the chain as transport
//	}
//
// Both of an account's keys stay valid while one is regenerated, so
// requests signed with either succeed while the two are updated one after
// the other.
type MasterKey struct {
	key atomic.Pointer[[]byte] // the decoded key; nil until set
}

// NewMasterKey decodes a base64 account key. The error, if any, wraps
// ErrBadKey and never contains the key.
func NewMasterKey(key string) (*MasterKey, error) {
	m := new(MasterKey)
	if err := m.Update(key); err != nil {
		return nil, err
	}
	return m, nil
}

// Update replaces the key with key, a base64 account key, atomically:
// signatures computed from now on use it. If key is not valid base64 or is
// empty, Update returns ErrBadKey (never containing the key) and the
// MasterKey keeps its key.
func (m *MasterKey) Update(key string) error {
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(k) == 0 {
		return ErrBadKey
	}
	m.key.Store(&k)
	return nil
}

// Authorization implements Credential. It fails with ErrBadKey if the
// MasterKey has no key.
func (m *MasterKey) Authorization(_ context.Context, verb, resourceType, resourceLink, date string) (string, error) {
	if m.key.Load() == nil {
		return "", ErrBadKey
	}
	return url.QueryEscape("type=master&ver=1.0&sig=" + m.signature(verb, resourceType, resourceLink, date)), nil
}

// signature returns the base64 HMAC-SHA256 signature of the canonical
// string built from the verb, resource type, resource link and date (with
// an empty key if the MasterKey has none).
func (m *MasterKey) signature(verb, resourceType, resourceLink, date string) string {
	var key []byte
	if k := m.key.Load(); k != nil {
		key = *k
	}
	h := hmac.New(sha256.New, key)
	h.Write([]byte(strings.ToLower(verb) + "\n" + strings.ToLower(resourceType) + "\n" +
		resourceLink + "\n" + strings.ToLower(date) + "\n" + "\n"))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// redacted is what a MasterKey prints instead of its key.
const redacted = "region.MasterKey(redacted)"

// String returns "region.MasterKey(redacted)", never the key.
func (m *MasterKey) String() string { return redacted }

// Format implements fmt.Formatter so that every verb, %#v and %x
// included, prints "region.MasterKey(redacted)", never the key.
func (m *MasterKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// MarshalJSON implements json.Marshaler: the JSON string
// "region.MasterKey(redacted)", never the key.
func (m *MasterKey) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
