package transport

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/region"
)

// New refuses bad account options with an error that names the option,
// keeps its cause for errors.Is and errors.As, and never shows the key.
func TestNewOptionErrors(t *testing.T) {
	const (
		key      = "c2VjcmV0IGtleSB0aGF0IG11c3Qgbm90IHByaW50" // base64
		badKey   = "not-base64-but-still-a-secret!"
		endpoint = "https://contoso.documents.azure.com:443/"
	)
	token := region.TokenFunc(func(context.Context) (string, error) { return "tok", nil })
	tests := []struct {
		name    string
		o       Options
		want    string // the error message; empty: New succeeds
		is      error  // a sentinel the error wraps
		asURL   bool   // the error wraps url.Parse's
		noMatch string // a secret the message must not show
	}{
		{name: "no Endpoint: no account, no key needed", o: Options{}},
		{name: "Endpoint and Key", o: Options{Endpoint: endpoint, Key: key}},
		{name: "Endpoint and Credential", o: Options{Endpoint: endpoint, Credential: token}},
		{name: "IP address and port", o: Options{Endpoint: "http://127.0.0.1:8081", Key: key}},
		{name: "Credential wins over a bad Key", o: Options{Endpoint: endpoint, Key: badKey, Credential: token}},
		{name: "unparsable URL", o: Options{Endpoint: "https://contoso .documents.azure.com/", Key: key},
			want:  `transport: Options.Endpoint must be an absolute http(s) URL: parse "https://contoso .documents.azure.com/": invalid character " " in host name`,
			asURL: true},
		{name: "not http(s)", o: Options{Endpoint: "ftp://contoso.documents.azure.com/", Key: key},
			want: "transport: Options.Endpoint must be an absolute http(s) URL"},
		{name: "relative", o: Options{Endpoint: "contoso.documents.azure.com", Key: key},
			want: "transport: Options.Endpoint must be an absolute http(s) URL"},
		{name: "no host", o: Options{Endpoint: "https:///dbs", Key: key},
			want: "transport: Options.Endpoint must name a host"},
		{name: "port 0", o: Options{Endpoint: "https://contoso.documents.azure.com:0/", Key: key},
			want: "transport: Options.Endpoint must have a port from 1 to 65535, or none"},
		{name: "port out of range", o: Options{Endpoint: "https://contoso.documents.azure.com:65536/", Key: key},
			want: "transport: Options.Endpoint must have a port from 1 to 65535, or none"},
		{name: "odd host", o: Options{Endpoint: "https://-contoso.documents.azure.com/", Key: key},
			want: "transport: Options.Endpoint must name a host of letters, digits, '-' and '_', or an IP address"},
		{name: "userinfo", o: Options{Endpoint: "https://me:pw@contoso.documents.azure.com/", Key: key},
			want: "transport: Options.Endpoint must not contain userinfo"},
		{name: "neither Key nor Credential", o: Options{Endpoint: endpoint},
			want: "transport: Options.Endpoint needs Options.Key or Options.Credential"},
		{name: "Key not base64", o: Options{Endpoint: endpoint, Key: badKey},
			want: "transport: Options.Key: region: master key is not valid base64", is: region.ErrBadKey, noMatch: badKey},
		{name: "Key base64 but empty", o: Options{Endpoint: endpoint, Key: "===="},
			want: "transport: Options.Key: region: master key is not valid base64", is: region.ErrBadKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, err := New(tt.o)
			if tt.want == "" {
				require.NoError(t, err)
				require.NoError(t, rt.Close())
				return
			}
			assert.Nil(t, rt)
			require.EqualError(t, err, tt.want)
			assert.NotContains(t, err.Error(), key)
			if tt.noMatch != "" {
				assert.NotContains(t, err.Error(), tt.noMatch)
			}
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			var uerr *url.Error
			assert.Equal(t, tt.asURL, errors.As(err, &uerr), "wraps url.Parse's error")
		})
	}
}

// With both set, Credential signs: the account look-up and the call carry
// its Entra ID token, not a master-key signature.
func TestNewCredentialWinsOverKey(t *testing.T) {
	token := region.TokenFunc(func(context.Context) (string, error) { return "tok", nil })
	f := newFake(status(http.StatusUnauthorized))
	rt, err := New(Options{Endpoint: "https://contoso.documents.azure.com/", Key: "c2VjcmV0", Credential: token,
		Base: f, RefreshInterval: -1})
	require.NoError(t, err)
	defer rt.Close()
	resp, err := rt.RoundTrip(accountGet(t))
	require.NoError(t, err)
	resp.Body.Close()
	require.Len(t, f.seen(), 2, "the look-up and the call")
	for _, a := range f.seen() {
		assert.True(t, strings.HasPrefix(a.header.Get("Authorization"), url.QueryEscape("type=aad&ver=1.0&sig=")),
			"%s %s signed by the Credential", a.method, a.path)
	}
}

// A credential that fails leaves the call with an error that says what
// failed once at each level: no package named twice.
func TestSigningErrorAddsContextOnce(t *testing.T) {
	cause := errors.New("token source down")
	token := region.TokenFunc(func(context.Context) (string, error) { return "", cause })
	f := newFake(status(http.StatusOK))
	rt, err := New(Options{Endpoint: "https://contoso.documents.azure.com/", Credential: token, Base: f, RefreshInterval: -1})
	require.NoError(t, err)
	defer rt.Close()
	_, err = rt.RoundTrip(accountGet(t))
	require.ErrorIs(t, err, cause)
	msg := err.Error()
	t.Log(msg)
	assert.Equal(t, "transport: signing attempt 1: getting the Authorization header: region: getting a token: token source down", msg)
	assert.Zero(t, f.count(), "nothing unsigned was sent")
	assert.Contains(t, rt.Status().Account.LastError, "getting the Authorization header: region: getting a token: token source down",
		"the failed look-up says why")
}

// accountGet builds an unsigned read of a document of the account at
// https://contoso.documents.azure.com/.
func accountGet(t *testing.T) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "https://contoso.documents.azure.com/dbs/d/colls/c/docs/1", nil)
	require.NoError(t, err)
	return req
}
