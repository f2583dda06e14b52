package account

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/decide"
	"github.com/cosmosrt/cosmosrt/internal/partition"
)

// maxFeedPages bounds the pages of one pkranges feed a load reads.
const maxFeedPages = 1000

// maxMetadataBody bounds a container document or a feed page read.
const maxMetadataBody = 16 << 20

// maxFeedBytes bounds what one load reads of a feed in all, its pages
// together: a hostile or broken feed cannot hold more memory than this.
const maxFeedBytes = 64 << 20

// loadRanges is the partition cache's Loader: it reads container's
// document and its pkranges feed, every page, from the account's first
// read endpoint, signed by the router's credential. A 429 is returned with
// its hint; a 401, 403 or 404 is final (retrying will not change it: a
// credential that may not read metadata leaves the range to what answers
// name).
func (r *Router) loadRanges(ctx context.Context, container string) (partition.Definition, []partition.Range, error) {
	doc, _, err := r.readMetadata(ctx, container, "")
	if err != nil {
		return partition.Definition{}, nil, err
	}
	def, err := partition.ParseContainer(doc)
	if err != nil {
		return partition.Definition{}, nil, &partition.LoadError{Err: err, Final: true}
	}
	var ranges []partition.Range
	continuation, read := "", 0
	for range maxFeedPages {
		page, next, err := r.readMetadata(ctx, container+"/pkranges", continuation)
		if err != nil {
			return partition.Definition{}, nil, err
		}
		if read += len(page); read > maxFeedBytes {
			return partition.Definition{}, nil, &partition.LoadError{Err: fmt.Errorf("partition key ranges of %s: over %d bytes", container, maxFeedBytes), Final: true}
		}
		rs, err := partition.ParseRanges(page)
		if err != nil {
			return partition.Definition{}, nil, &partition.LoadError{Err: err, Final: true}
		}
		ranges = append(ranges, rs...)
		if next == "" {
			return def, ranges, nil
		}
		continuation = next
	}
	return partition.Definition{}, nil, &partition.LoadError{Err: fmt.Errorf("more than %d pages of partition key ranges", maxFeedPages), Final: true}
}

// readMetadata GETs the resource at link (a feed page after continuation,
// when not empty) and returns its body and the next page's continuation.
func (r *Router) readMetadata(ctx context.Context, link, continuation string) ([]byte, string, error) {
	base := r.endpoint
	if eps := r.readEndpoints(); len(eps) > 0 {
		base = eps[0]
	}
	u := *base
	u.Path, u.RawPath, u.RawQuery = "/"+link, "", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", &partition.LoadError{Err: err, Final: true}
	}
	if continuation != "" {
		req.Header.Set("X-Ms-Continuation", continuation)
	}
	if err := Sign(ctx, req, r.cred, r.now()); err != nil {
		return nil, "", &partition.LoadError{Err: err, Final: true}
	}
	resp, err := r.rt.RoundTrip(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBody+1))
	switch {
	case err != nil:
		return nil, "", err
	case len(body) > maxMetadataBody:
		return nil, "", &partition.LoadError{Err: fmt.Errorf("reading %s: over %d bytes", link, maxMetadataBody), Final: true}
	case resp.StatusCode == http.StatusOK:
		return body, resp.Header.Get("X-Ms-Continuation"), nil
	}
	lerr := &partition.LoadError{Err: fmt.Errorf("reading %s: status %d", redactLink(u), resp.StatusCode)}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		lerr.RetryAfter = decide.MetadataRetryAfter(resp.Header, r.now(), time.Second)
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		lerr.Final = true
	}
	return nil, "", lerr
}

// redactLink names a metadata request for an error: its path only.
func redactLink(u url.URL) string { return u.Path }

// rangeGone tells the partition cache that container's ranges changed
// (a 410/1002 answer), so that it reads them again.
func (r *Router) rangeGone(container string) {
	if r.ranges != nil && container != "" {
		r.ranges.Invalidate(container)
	}
}

// rangeOf returns the partition key range that holds the key pkHeader of
// container, when the cache knows it; it starts loading the container
// otherwise.
func (r *Router) rangeOf(container, pkHeader string) (string, bool) {
	if r.ranges == nil || container == "" || pkHeader == "" {
		return "", false
	}
	return r.ranges.Lookup(container, pkHeader)
}

// rangesFailed reports whether the last load of container's ranges
// failed: until one succeeds, its calls' ranges are known only from the
// answers.
func (r *Router) rangesFailed(container string) bool {
	return r.ranges != nil && r.ranges.Err(container) != nil
}

// RangeCount returns how many partition key ranges container has, when
// the cache knows; 0 otherwise (it starts loading them).
func (r *Router) RangeCount(container string) int {
	if r.ranges == nil || container == "" {
		return 0
	}
	return r.ranges.Ranges(container)
}
