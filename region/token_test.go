package region

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokenFuncSignsWithAnEntraToken(t *testing.T) {
	cred := TokenFunc(func(context.Context) (string, error) { return "eyJ0.abc.def", nil })
	req, err := http.NewRequest(http.MethodGet, "https://contoso.documents.azure.com/dbs/d", nil)
	require.NoError(t, err)
	require.NoError(t, Sign(context.Background(), req, cred, time.Now()))
	assert.Equal(t, url.QueryEscape("type=aad&ver=1.0&sig=eyJ0.abc.def"), req.Header.Get("Authorization"))
	assert.NotEmpty(t, req.Header.Get(HeaderDate))
}

func TestTokenFuncErrorsWrapTheCauseAndSignNothing(t *testing.T) {
	cause := errors.New("token source down")
	for _, f := range []TokenFunc{
		func(context.Context) (string, error) { return "", cause },
		func(context.Context) (string, error) { return "", nil },
	} {
		req, err := http.NewRequest(http.MethodGet, "https://contoso.documents.azure.com/", nil)
		require.NoError(t, err)
		err = Sign(context.Background(), req, f, time.Now())
		require.Error(t, err)
		assert.True(t, errors.Is(err, cause) || errors.Is(err, ErrEmptyToken), err.Error())
		assert.Empty(t, req.Header.Get("Authorization"), "a failed signature leaves the request unsigned")
	}
}
