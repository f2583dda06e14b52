package cosmostest

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/account"
	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/region"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVerifySignature(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	a := newTestAccount(t, Options{Now: func() time.Time { return now }})
	c := newClient(t, a, false)
	own, err := region.NewMasterKey(a.Key())
	require.NoError(t, err)
	other, err := region.NewMasterKey("b3RoZXIga2V5")
	require.NoError(t, err)

	signed := func(cred region.Credential, at time.Time, path string) *http.Request {
		req, err := http.NewRequest("GET", a.Endpoint()+docsPath+"/1", nil)
		require.NoError(t, err)
		signReq := req.Clone(context.Background())
		signReq.URL.Path = path
		require.NoError(t, account.Sign(context.Background(), signReq, cred, at))
		req.Header = signReq.Header
		return req
	}
	type authCase struct {
		name string
		req  *http.Request
		want int
	}
	tests := []authCase{
		{"valid", signed(own, now, "/"+docsPath+"/1"), http.StatusNotFound},
		{"date 14 min behind", signed(own, now.Add(-14*time.Minute), "/"+docsPath+"/1"), http.StatusNotFound},
		{"date 14 min ahead", signed(own, now.Add(14*time.Minute), "/"+docsPath+"/1"), http.StatusNotFound},
		{"date 16 min behind", signed(own, now.Add(-16*time.Minute), "/"+docsPath+"/1"), http.StatusUnauthorized},
		{"date 16 min ahead", signed(own, now.Add(16*time.Minute), "/"+docsPath+"/1"), http.StatusUnauthorized},
		{"other key", signed(other, now, "/"+docsPath+"/1"), http.StatusUnauthorized},
		{"other resource", signed(own, now, "/"+docsPath+"/2"), http.StatusUnauthorized},
	}
	unescaped := signed(own, now, "/"+docsPath+"/1")
	raw, err := url.QueryUnescape(unescaped.Header.Get("Authorization"))
	require.NoError(t, err)
	unescaped.Header.Set("Authorization", raw)
	tests = append(tests, authCase{"unescaped header", unescaped, http.StatusNotFound})
	for _, mutate := range []struct {
		name string
		f    func(h http.Header)
	}{
		{"no Authorization", func(h http.Header) { h.Del("Authorization") }},
		{"no x-ms-date", func(h http.Header) { h.Del(wire.HeaderDate) }},
		{"bad x-ms-date", func(h http.Header) { h.Set(wire.HeaderDate, "yesterday") }},
		{"resource token", func(h http.Header) { h.Set("Authorization", url.QueryEscape("type=resource&ver=1.0&sig=abc")) }},
		{"garbage", func(h http.Header) { h.Set("Authorization", "Bearer x") }},
	} {
		req := signed(own, now, "/"+docsPath+"/1")
		mutate.f(req.Header)
		tests = append(tests, authCase{mutate.name, req, http.StatusUnauthorized})
	}

	for _, tt := range tests {
		r := c.send(tt.req)
		require.NoError(t, r.err, tt.name)
		assert.Equal(t, tt.want, r.status, "%s: %s", tt.name, r.body)
		if tt.want == http.StatusUnauthorized {
			body := r.json(t)
			assert.Equal(t, "Unauthorized", body["code"], tt.name)
			assert.NotEmpty(t, body["message"], tt.name)
			assert.NotContains(t, string(r.body), a.Key(), tt.name)
			sig := masterSignature(a.rawKey, "GET", "docs", docsPath+"/1", now.Format(http.TimeFormat))
			assert.NotContains(t, string(r.body), sig, tt.name)
		}
	}
}

func TestAccountReadRequiresSignature(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	for _, name := range append([]string{Global}, a.Regions()...) {
		resp, err := c.http.Get(a.RegionEndpoint(name))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, name)
	}
}

func TestUnauthorizedRequestConsumesNoFault(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	a.Inject(Global, Fault{Status: http.StatusServiceUnavailable, Count: 1})
	resp, err := c.http.Get(a.Endpoint())
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, http.StatusServiceUnavailable, c.do("GET", a.Endpoint(), "").status)
	assert.Equal(t, http.StatusOK, c.do("GET", a.Endpoint(), "").status)
}

func TestParseAuthorization(t *testing.T) {
	tests := []struct {
		in            string
		typ, ver, sig string
		ok            bool
	}{
		{"type=master&ver=1.0&sig=a+b/c=", "master", "1.0", "a+b/c=", true},
		{url.QueryEscape("type=master&ver=1.0&sig=a+b/c="), "master", "1.0", "a+b/c=", true},
		{"TYPE%3dmaster%26ver%3d1.0%26sig%3dxyz", "master", "1.0", "xyz", true},
		{"type=master&ver=1.0", "master", "1.0", "", false},
		{"", "", "", "", false},
		{"type%3d%zz", "", "", "", false},
		{"master", "", "", "", false},
	}
	for _, tt := range tests {
		typ, ver, sig, ok := parseAuthorization(tt.in)
		assert.Equal(t, tt.ok, ok, tt.in)
		if tt.ok {
			assert.Equal(t, []string{tt.typ, tt.ver, tt.sig}, []string{typ, ver, sig}, tt.in)
		}
	}
}
