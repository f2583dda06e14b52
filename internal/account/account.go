package account

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/region"
)

// Bounds of a DatabaseAccount document.
const (
	maxLocations   = 64   // entries per location list
	maxNameBytes   = 256  // a location's name, the account id
	maxURLBytes    = 2048 // a location's endpoint
	maxLevelBytes  = 64   // the consistency level
	maxQuotedBytes = 64   // document content quoted in errors and Dropped
)

// A Location is one region of an account.
type Location struct {
	// Name is the region's name as the account lists it, e.g. "West US 2".
	Name string
	// Endpoint is the region's endpoint: scheme and host (port included
	// when the document gives one), path "/".
	Endpoint *url.URL
}

// An Account is the validated content of a DatabaseAccount document.
// An Account returned by this package is immutable: callers must not
// modify it, its slices or its URLs.
type Account struct {
	// ID is the account's id (at most 256 bytes; longer ids are cut).
	ID string
	// Write lists the writable locations in the account's order; the first
	// is the current write region of a single-write account. Never empty.
	Write []Location
	// Read lists the readable locations in the account's order; may be
	// empty.
	Read []Location
	// MultipleWriteLocations is the account's enableMultipleWriteLocations.
	MultipleWriteLocations bool
	// PerPartitionFailover is the account's
	// enablePerPartitionFailoverBehavior: the service may move one
	// partition's writes to another region on its own, telling clients
	// only by refusing them (403.3) where they were.
	PerPartitionFailover bool
	// ConsistencyLevel is userConsistencyPolicy.defaultConsistencyLevel.
	ConsistencyLevel string
	// Dropped describes, one entry per location, the locations that were
	// listed but ignored (endpoint outside the account, http instead of
	// https, malformed, duplicate). Names in it are quoted and cut short;
	// foreign hosts are not repeated. For logs and diagnostics.
	Dropped []string
}

// accountDoc is the part of a DatabaseAccount document that is decoded.
type accountDoc struct {
	ID                           string        `json:"id"`
	WritableLocations            []locationDoc `json:"writableLocations"`
	ReadableLocations            []locationDoc `json:"readableLocations"`
	EnableMultipleWriteLocations bool          `json:"enableMultipleWriteLocations"`
	EnablePerPartitionFailover   bool          `json:"enablePerPartitionFailoverBehavior"`
	UserConsistencyPolicy        struct {
		DefaultConsistencyLevel string `json:"defaultConsistencyLevel"`
	} `json:"userConsistencyPolicy"`
}

type locationDoc struct {
	Name     string `json:"name"`
	Endpoint string `json:"databaseAccountEndpoint"`
}

// parseAccount decodes and validates a DatabaseAccount document fetched
// from the account endpoint account.
//
// Decoding is tolerant: unknown fields are ignored and field names match
// case-insensitively. Validation is strict about where requests may go:
// a location whose endpoint is not one requests may be sent to
// (wire.CheckEndpoint: an absolute http(s) URL with a valid host, no
// userinfo, no port 0), uses another scheme than the account (https is
// never downgraded to http), has a query or fragment, or fails inAccount
// is dropped and described in Account.Dropped; so is a location whose
// name is longer than 256 bytes or not printable UTF-8, and a location
// repeating an earlier endpoint (wire.Endpoint: however it is spelt) or
// name (case-insensitively) of the same list.
//
// The error wraps ErrBadAccount if data is not a JSON object, a known
// field has the wrong type, or a list has more than 64 entries; it wraps
// ErrNoWriteRegion if no writable location is left. Error messages quote
// at most a few dozen bytes of the document.
func parseAccount(data []byte, account *url.URL) (*Account, error) {
	if _, err := wire.CheckEndpoint(account); err != nil {
		return nil, fmt.Errorf("the account endpoint %w", err)
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: not a JSON object", region.ErrBadAccount)
	}
	var doc accountDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %s", region.ErrBadAccount, describeJSONError(err))
	}
	if n := max(len(doc.WritableLocations), len(doc.ReadableLocations)); n > maxLocations {
		return nil, fmt.Errorf("%w: %d locations listed, at most %d allowed", region.ErrBadAccount, n, maxLocations)
	}
	a := &Account{
		ID:                     cut(doc.ID, maxNameBytes),
		MultipleWriteLocations: doc.EnableMultipleWriteLocations,
		PerPartitionFailover:   doc.EnablePerPartitionFailover,
		ConsistencyLevel:       cut(doc.UserConsistencyPolicy.DefaultConsistencyLevel, maxLevelBytes),
	}
	a.Write = locations(doc.WritableLocations, "writable", account, &a.Dropped)
	a.Read = locations(doc.ReadableLocations, "readable", account, &a.Dropped)
	if len(a.Write) == 0 {
		return nil, fmt.Errorf("%w (%d writable locations listed, none usable)", region.ErrNoWriteRegion, len(doc.WritableLocations))
	}
	return a, nil
}

// locations validates one list, appending a description of each location
// it drops to dropped.
func locations(docs []locationDoc, list string, account *url.URL, dropped *[]string) []Location {
	var out []Location
	seenEndpoint := make(map[wire.Endpoint]bool, len(docs))
	seenName := make(map[string]bool, len(docs))
	for i, d := range docs {
		drop := func(why string) {
			*dropped = append(*dropped, fmt.Sprintf("%s location %d %s: %s", list, i, quote(d.Name), why))
		}
		if !validName(d.Name) {
			drop("invalid name")
			continue
		}
		ep, id, why := regionalEndpoint(d.Endpoint, account)
		if ep == nil {
			drop(why)
			continue
		}
		name := strings.ToLower(d.Name)
		if seenEndpoint[id] || (d.Name != "" && seenName[name]) {
			drop("duplicate")
			continue
		}
		seenEndpoint[id], seenName[name] = true, true
		out = append(out, Location{Name: d.Name, Endpoint: ep})
	}
	return out
}

// regionalEndpoint parses and validates one location's endpoint, and
// returns it as scheme://host[:port]/ (the port only when the document
// gives one) with its identity; on failure it returns nil and a reason
// that does not repeat the endpoint.
func regionalEndpoint(s string, account *url.URL) (*url.URL, wire.Endpoint, string) {
	if s == "" {
		return nil, wire.Endpoint{}, "no endpoint"
	}
	if len(s) > maxURLBytes {
		return nil, wire.Endpoint{}, "endpoint too long"
	}
	u, id, err := wire.ParseEndpoint(s)
	if err != nil {
		var perr *url.Error
		if errors.As(err, &perr) { // the parser's message repeats the endpoint
			return nil, wire.Endpoint{}, "endpoint is not a URL"
		}
		return nil, wire.Endpoint{}, "endpoint " + err.Error()
	}
	if !strings.EqualFold(u.Scheme, account.Scheme) {
		return nil, wire.Endpoint{}, "endpoint scheme differs from the account's"
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, wire.Endpoint{}, "endpoint has a query or fragment"
	}
	if !inAccount(account, u) {
		return nil, wire.Endpoint{}, "endpoint host outside the account"
	}
	hostport := id.Host
	if strings.Contains(hostport, ":") {
		hostport = "[" + hostport + "]"
	}
	if u.Port() != "" {
		hostport += ":" + id.Port
	}
	return &url.URL{Scheme: id.Scheme, Host: hostport, Path: "/"}, id, ""
}

// validName reports whether a location name is short, valid UTF-8 and
// free of control characters. The empty name is valid (such a location is
// simply never preferred).
func validName(s string) bool {
	if len(s) > maxNameBytes || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// describeJSONError describes a decoding error without document content.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed JSON near byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %s has the wrong JSON type (%s)", quote(typ.Field), cut(typ.Value, 16))
	default:
		return "undecodable JSON"
	}
}

// cut shortens s to at most n bytes without splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// quote returns s quoted, cut to a few dozen bytes, for error messages.
func quote(s string) string {
	if len(s) > maxQuotedBytes {
		return fmt.Sprintf("%q…", cut(s, maxQuotedBytes))
	}
	return fmt.Sprintf("%q", s)
}
